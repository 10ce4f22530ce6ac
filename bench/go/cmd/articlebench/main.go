// Command articlebench measures the Go registries of the benchmarked article on
// its set-up: register every one of -keys names ("handler-N"), then run -ops
// lookups + calls visiting the names in a fixed shuffled order. Bytes allocated
// and GC count come from runtime.ReadMemStats around the measured loop
// (registration + lookups), ns/op from the lookup phase's wall time.
//
// Without -variant it runs every configuration -reps times, each in a fresh
// child process (so one run's heap does not pace the next one's collector), and
// prints one raw result line per run: tab-separated key=value fields, read by
// articlereport. With -variant it runs that one configuration in this process.
// A churn row's readers stop after -churn-limit if their -ops take longer; the
// row's ops field says how many they did.
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"tetherbench/registry"
)

// handler is every registered function: a package-level function value is a
// static closure, so registering it allocates nothing. Calls through a func
// value are never inlined, so each lookup + call really calls it.
//
//go:noinline
func handler() {}

// target is one registry under test. read runs ops lookups + calls starting at
// position start of order and returns how many found a handler and called it.
// Each target has a read loop of its own: one loop shared through an interface
// or a func parameter would add a dynamic call per lookup that the article's
// variants do not have.
type target interface {
	register(keys []string)
	read(keys []string, order []int32, start, ops int) int
}

// churner is a target that a writer may change while readers read.
type churner interface {
	target
	store(key string)
	remove(key string)
}

type mapFunc struct{ m map[string]func() }

func (t *mapFunc) register(keys []string) {
	t.m = make(map[string]func())
	for _, k := range keys {
		t.m[k] = handler
	}
}

func (t *mapFunc) read(keys []string, order []int32, start, ops int) int {
	calls, j := 0, start%len(order)
	for i := 0; i < ops; i++ {
		if f, ok := t.m[keys[order[j]]]; ok {
			f()
			calls++
		}
		if j++; j == len(order) {
			j = 0
		}
	}
	return calls
}

type mapPtrFunc struct{ m map[string]*func() }

func (t *mapPtrFunc) register(keys []string) {
	t.m = make(map[string]*func())
	for _, k := range keys {
		f := handler
		t.m[k] = &f
	}
}

func (t *mapPtrFunc) read(keys []string, order []int32, start, ops int) int {
	calls, j := 0, start%len(order)
	for i := 0; i < ops; i++ {
		if f, ok := t.m[keys[order[j]]]; ok {
			(*f)()
			calls++
		}
		if j++; j == len(order) {
			j = 0
		}
	}
	return calls
}

type syncMap struct{ m sync.Map }

func (t *syncMap) register(keys []string) {
	for _, k := range keys {
		t.m.Store(k, handler)
	}
}

func (t *syncMap) read(keys []string, order []int32, start, ops int) int {
	calls, j := 0, start%len(order)
	for i := 0; i < ops; i++ {
		if v, ok := t.m.Load(keys[order[j]]); ok {
			v.(func())()
			calls++
		}
		if j++; j == len(order) {
			j = 0
		}
	}
	return calls
}

func (t *syncMap) store(key string)  { t.m.Store(key, handler) }
func (t *syncMap) remove(key string) { t.m.Delete(key) }

type handlerRegistry struct{ r *registry.HandlerRegistry }

func (t *handlerRegistry) register(keys []string) {
	t.r = registry.NewHandlerRegistry()
	for _, k := range keys {
		t.r.Register(k, handler)
	}
}

func (t *handlerRegistry) read(keys []string, order []int32, start, ops int) int {
	calls, j := 0, start%len(order)
	for i := 0; i < ops; i++ {
		if t.r.Call(keys[order[j]]) {
			calls++
		}
		if j++; j == len(order) {
			j = 0
		}
	}
	return calls
}

func (t *handlerRegistry) store(key string)  { t.r.Register(key, handler) }
func (t *handlerRegistry) remove(key string) { t.r.Unregister(key) }

// ttl is the time to live of every Registry[T] registration: long enough that
// nothing expires during a run, so each lookup pays for the expiry check only.
const ttl = time.Hour

type genericGet struct{ r *registry.Registry[func()] }

func (t *genericGet) register(keys []string) {
	t.r = registry.New[func()](nil)
	for _, k := range keys {
		t.r.Register(k, handler, ttl)
	}
}

func (t *genericGet) read(keys []string, order []int32, start, ops int) int {
	calls, j := 0, start%len(order)
	for i := 0; i < ops; i++ {
		if f, ok := t.r.Get(keys[order[j]]); ok {
			f()
			calls++
		}
		if j++; j == len(order) {
			j = 0
		}
	}
	return calls
}

func (t *genericGet) store(key string)  { t.r.Register(key, handler, ttl) }
func (t *genericGet) remove(key string) { t.r.Unregister(key) }

type genericAcquire struct{ genericGet }

func (t *genericAcquire) read(keys []string, order []int32, start, ops int) int {
	calls, j := 0, start%len(order)
	for i := 0; i < ops; i++ {
		if e, ok := t.r.Acquire(keys[order[j]]); ok {
			e.Value()()
			t.r.Release(e)
			calls++
		}
		if j++; j == len(order) {
			j = 0
		}
	}
	return calls
}

// hotKey is map[string]func() looked up with one key every time: the map and
// the key stay in the L1 cache, the best case a hash lookup can have.
type hotKey struct{ mapFunc }

func (t *hotKey) read(keys []string, order []int32, start, ops int) int {
	calls, hot := 0, keys[order[start%len(order)]]
	for i := 0; i < ops; i++ {
		if f, ok := t.m[hot]; ok {
			f()
			calls++
		}
	}
	return calls
}

// direct calls a func value held in a variable: no lookup at all, the floor.
type direct struct{}

var directFn = handler

func (direct) register([]string) {}

func (direct) read(_ []string, _ []int32, _, ops int) int {
	for i := 0; i < ops; i++ {
		directFn()
	}
	return ops
}

type variant struct {
	name  string
	make  func() target
	procs bool // also measured with GOMAXPROCS=2 and two readers
}

// variants, in row order; the first three are the article's table.
var variants = []variant{
	{"map[string]func()", func() target { return &mapFunc{} }, true},
	{"map[string]*func()", func() target { return &mapPtrFunc{} }, true},
	{"sync.Map", func() target { return &syncMap{} }, true},
	{"HandlerRegistry (sync.RWMutex)", func() target { return &handlerRegistry{} }, true},
	{"Registry[T] Get", func() target { return &genericGet{} }, true},
	{"Registry[T] Acquire+Release", func() target { return &genericAcquire{} }, true},
	{"map[string]func(), one hot key", func() target { return &hotKey{} }, false},
	{"direct call of a func value", func() target { return direct{} }, false},
}

func findVariant(name string) (variant, bool) {
	for _, v := range variants {
		if v.name == name {
			return v, true
		}
	}
	return variant{}, false
}

// config is one row: a variant, GOMAXPROCS (= reader goroutines), churn or not.
type config struct {
	variant string
	procs   int
	churn   bool
}

func (c config) row() string {
	switch {
	case c.churn:
		return fmt.Sprintf("%s + churn, GOMAXPROCS=%d", c.variant, c.procs)
	case c.procs != 1:
		return fmt.Sprintf("%s, GOMAXPROCS=%d", c.variant, c.procs)
	}
	return c.variant
}

func matrix() []config {
	var cs []config
	for _, v := range variants {
		cs = append(cs, config{v.name, 1, false})
	}
	for _, v := range variants {
		if v.procs {
			cs = append(cs, config{v.name, 2, false})
		}
	}
	for _, procs := range []int{1, 2} {
		for _, v := range variants {
			if _, ok := v.make().(churner); ok {
				cs = append(cs, config{v.name, procs, true})
			}
		}
	}
	return cs
}

func makeKeys(n int, seed int64) ([]string, []int32) {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "handler-" + strconv.Itoa(i)
	}
	order := make([]int32, n)
	for i, p := range rand.New(rand.NewSource(seed)).Perm(n) {
		order[i] = int32(p)
	}
	return keys, order
}

// result is one run's measurements.
type result struct {
	nsPerOp, regNs             float64
	alloc, regAlloc, readAlloc uint64
	gcs, regGCs, readGCs       uint32
	retained                   int64
	writerOpsPerS              float64
	calls, ops                 int
	cpuPerWall                 float64
}

// cpuTime is the process's CPU time in ns (user + system): against the wall
// time it says how many CPUs the run really had.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// churnLimit bounds a churn row's lookups: behind a writer in a tight loop, a
// locked registry's readers can starve, and the row would never end.
var churnLimit = 2 * time.Second

// chunk is how many lookups a reader runs between two looks at the clock.
const chunk = 4096

// reader is one reader goroutine's share of the lookups.
type reader struct {
	begin, end  time.Time
	calls, done int
}

func (rd *reader) run(t target, keys []string, order []int32, pos, ops int, churn bool, start <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	<-start
	rd.begin = time.Now()
	deadline := rd.begin.Add(churnLimit)
	for rd.done < ops {
		n := ops - rd.done
		if n > chunk {
			n = chunk
		}
		rd.calls += t.read(keys, order, pos, n)
		pos += n
		rd.done += n
		if churn && time.Now().After(deadline) {
			break
		}
	}
	rd.end = time.Now()
}

// churnKeys are the names the writer stores and deletes: never looked up.
const churnKeys = 64

func writer(c churner, keys []string, start <-chan struct{}, stop *atomic.Bool, done chan<- uint64) {
	n := uint64(0)
	<-start
	for !stop.Load() {
		k := keys[n%churnKeys]
		c.store(k)
		c.remove(k)
		n++
	}
	done <- n
}

func measure(c config, nkeys, ops int, seed int64) (result, error) {
	v, ok := findVariant(c.variant)
	if !ok {
		return result{}, fmt.Errorf("unknown variant %q", c.variant)
	}
	t := v.make()
	ch, canChurn := t.(churner)
	if c.churn && !canChurn {
		return result{}, fmt.Errorf("variant %q is not safe under a concurrent writer", c.variant)
	}
	keys, order := makeKeys(nkeys, seed)
	var m0, m1, m2, m3 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)

	t0 := time.Now()
	t.register(keys)
	regNs := float64(time.Since(t0).Nanoseconds()) / float64(nkeys)

	// The readers and the writer are started (blocked on start) before the
	// lookup phase's statistics are read: their own allocations are not the
	// registry's.
	readers := c.procs
	rs := make([]reader, readers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for g := range rs {
		share := ops / readers
		if g == readers-1 {
			share = ops - share*(readers-1)
		}
		wg.Add(1)
		go rs[g].run(t, keys, order, g*len(order)/readers, share, c.churn, start, &wg)
	}
	var stop atomic.Bool
	writes := make(chan uint64, 1)
	if c.churn {
		ckeys := make([]string, churnKeys)
		for i := range ckeys {
			ckeys[i] = "churn-" + strconv.Itoa(i)
		}
		go writer(ch, ckeys, start, &stop, writes)
	}
	// The first time a goroutine blocks in WaitGroup.Wait the runtime allocates
	// its wait record; block once now so that the lookups' bytes are theirs.
	var warm sync.WaitGroup
	warm.Add(1)
	go func() { time.Sleep(time.Millisecond); warm.Done() }()
	warm.Wait()
	runtime.ReadMemStats(&m1)
	cpu0 := cpuTime()
	close(start)
	wg.Wait()
	cpu1 := cpuTime()
	stop.Store(true)
	// The lookups' wall time: the first reader's start to the last one's end.
	var r result
	first, last := rs[0].begin, rs[0].end
	done := 0
	for _, rd := range rs {
		if rd.begin.Before(first) {
			first = rd.begin
		}
		if rd.end.After(last) {
			last = rd.end
		}
		r.calls += rd.calls
		done += rd.done
	}
	elapsed := last.Sub(first)
	if c.churn {
		r.writerOpsPerS = float64(<-writes) / elapsed.Seconds()
	}
	runtime.ReadMemStats(&m2)
	runtime.GC()
	runtime.ReadMemStats(&m3)
	runtime.KeepAlive(t)
	runtime.KeepAlive(keys)
	runtime.KeepAlive(order)

	if r.calls != done {
		return r, fmt.Errorf("%s: %d of %d lookups found their handler", c.row(), r.calls, done)
	}
	r.ops = done
	r.cpuPerWall = float64(cpu1-cpu0) / float64(elapsed.Nanoseconds())
	r.nsPerOp = float64(elapsed.Nanoseconds()) / float64(done)
	r.regNs = regNs
	r.alloc = m2.TotalAlloc - m0.TotalAlloc
	r.regAlloc = m1.TotalAlloc - m0.TotalAlloc
	r.readAlloc = m2.TotalAlloc - m1.TotalAlloc
	r.gcs = m2.NumGC - m0.NumGC
	r.regGCs = m1.NumGC - m0.NumGC
	r.readGCs = m2.NumGC - m1.NumGC
	r.retained = int64(m3.HeapAlloc) - int64(m0.HeapAlloc)
	return r, nil
}

func format(c config, nkeys int, r result) string {
	f := []string{
		"variant=" + c.row(),
		"lang=go",
		"threads=" + strconv.Itoa(c.procs),
		"churn=" + strconv.FormatBool(c.churn),
		"names=" + strconv.Itoa(nkeys),
		"ops=" + strconv.Itoa(r.ops),
		"ns_per_op=" + strconv.FormatFloat(r.nsPerOp, 'f', 2, 64),
		"reg_ns=" + strconv.FormatFloat(r.regNs, 'f', 1, 64),
		"alloc_bytes=" + strconv.FormatUint(r.alloc, 10),
		"reg_alloc_bytes=" + strconv.FormatUint(r.regAlloc, 10),
		"read_alloc_bytes=" + strconv.FormatUint(r.readAlloc, 10),
		"gcs=" + strconv.FormatUint(uint64(r.gcs), 10),
		"reg_gcs=" + strconv.FormatUint(uint64(r.regGCs), 10),
		"read_gcs=" + strconv.FormatUint(uint64(r.readGCs), 10),
		"retained_bytes=" + strconv.FormatInt(r.retained, 10),
		"alloc_source=runtime.ReadMemStats",
		"cpu_per_wall=" + strconv.FormatFloat(r.cpuPerWall, 'f', 2, 64),
	}
	if c.churn {
		f = append(f, "writer_ops_per_s="+strconv.FormatFloat(r.writerOpsPerS, 'f', 0, 64))
	}
	return strings.Join(f, "\t")
}

// fail reports a failed run (exit 1); usage a bad command line (exit 2).
func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "articlebench: "+format+"\n", args...)
	os.Exit(1)
}

func usage(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "articlebench: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	nkeys := flag.Int("keys", 100000, "names registered")
	ops := flag.Int("ops", 10000000, "lookups + calls per run")
	reps := flag.Int("reps", 3, "runs of each configuration")
	seed := flag.Int64("seed", 42, "seed of the lookup order")
	name := flag.String("variant", "", "run only this variant, in this process")
	procs := flag.Int("procs", 1, "with -variant: GOMAXPROCS and reader goroutines")
	churn := flag.Bool("churn", false, "with -variant: a goroutine stores and deletes other names meanwhile")
	flag.DurationVar(&churnLimit, "churn-limit", churnLimit, "a churn row's readers stop after this long")
	list := flag.Bool("list", false, "print the configurations and exit")
	flag.Parse()
	if flag.NArg() > 0 {
		usage("unexpected argument %q", flag.Arg(0))
	}
	if *nkeys < 1 || *ops < 1 || *reps < 1 || *procs < 1 || *procs > 64 {
		usage("-keys, -ops and -reps must be positive, -procs 1 to 64")
	}
	if *list {
		for _, c := range matrix() {
			fmt.Println(c.row())
		}
		return
	}
	if *name != "" {
		runtime.GOMAXPROCS(*procs)
		debug.SetGCPercent(100)
		c := config{*name, *procs, *churn}
		if v, ok := findVariant(c.variant); !ok {
			usage("unknown variant %q (see -list)", c.variant)
		} else if _, ok := v.make().(churner); c.churn && !ok {
			usage("variant %q is not safe under a concurrent writer: no churn row", c.variant)
		}
		r, err := measure(c, *nkeys, *ops, *seed)
		if err != nil {
			fail("%v", err)
		}
		fmt.Println(format(c, *nkeys, r))
		return
	}
	self, err := os.Executable()
	if err != nil {
		fail("cannot find this program to run it per configuration: %v", err)
	}
	// Repetitions are the outer loop: a noisy spell of a shared machine spoils
	// one run of several rows rather than every run of one row.
	for rep := 0; rep < *reps; rep++ {
		for _, c := range matrix() {
			args := []string{"-variant", c.variant, "-procs", strconv.Itoa(c.procs),
				"-keys", strconv.Itoa(*nkeys), "-ops", strconv.Itoa(*ops), "-seed", strconv.FormatInt(*seed, 10),
				"-churn-limit", churnLimit.String()}
			if c.churn {
				args = append(args, "-churn")
			}
			cmd := exec.Command(self, args...)
			cmd.Stderr = os.Stderr
			cmd.Env = append(os.Environ(), "GOGC=100")
			out, err := cmd.Output()
			if err != nil {
				fail("%s: %v", c.row(), err)
			}
			os.Stdout.Write(out)
		}
	}
}
