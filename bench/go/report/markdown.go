package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The markers around docs/bench.md's generated section.
const (
	BeginMarker = "<!-- bench-article: begin (scripts/bench-article.sh writes this section; do not edit) -->"
	EndMarker   = "<!-- bench-article: end -->"
)

// Machine is what the script learnt about the machine and the versions, as
// ordered key=value pairs.
type Machine struct {
	Keys   []string
	Values map[string]string
}

// ParseMachine reads key=value lines.
func ParseMachine(in io.Reader) (Machine, error) {
	m := Machine{Values: map[string]string{}}
	sc := bufio.NewScanner(in)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return m, fmt.Errorf("machine file line %d: %q is not key=value", line, t)
		}
		if _, dup := m.Values[k]; !dup {
			m.Keys = append(m.Keys, k)
		}
		m.Values[k] = v
	}
	return m, sc.Err()
}

// L2Bytes reads the l2 key ("2048K", "4M", or bytes); 0 when absent or unreadable.
func L2Bytes(m Machine) float64 {
	s := strings.TrimSpace(m.Values["l2"])
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1024, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1024*1024, strings.TrimSuffix(s, "M")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v * mult
}

// Get returns a value, or "unknown".
func (m Machine) Get(k string) string {
	if v := m.Values[k]; v != "" {
		return v
	}
	return "unknown"
}

// machineLabels names the keys the script writes, in the order shown.
var machineLabels = []struct{ key, label string }{
	{"date", "run at"}, {"commit", "libtether commit"}, {"libtether", "libtether version"},
	{"cpu", "CPU"}, {"cpus", "CPUs online"}, {"l1d", "L1 data cache"}, {"l2", "L2 cache"}, {"l3", "L3 cache"}, {"kernel", "kernel"}, {"os", "system"},
	{"go", "Go"}, {"gcc", "C compiler"}, {"cxx", "C++ compiler"}, {"glib", "GLib"}, {"liburcu", "liburcu"},
	{"uthash", "uthash"}, {"boost", "Boost"}, {"valgrind", "valgrind"},
	{"keys", "names"}, {"ops", "lookups + calls per row"}, {"reps", "runs per row (median shown)"},
	{"callgrind_ops", "callgrind op counts"},
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// WriteMarkdown writes the generated section (without the markers).
func WriteMarkdown(w io.Writer, rs *Results, m Machine, svgName string) {
	fmt.Fprintf(w, "Measured by `make bench-article` on %s.\n\n", m.Get("date"))
	fmt.Fprintln(w, "### Machine and versions")
	fmt.Fprintln(w)
	for _, l := range machineLabels {
		if _, ok := m.Values[l.key]; ok {
			fmt.Fprintf(w, "- %s: %s\n", l.label, m.Values[l.key])
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### The article's claims")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| claim | article | measured here | verdict | why |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, v := range Verdicts(rs, L2Bytes(m)) {
		fmt.Fprintf(w, "| %s | %s | %s | **%s** | %s |\n", cell(codeNames(v.Claim)), cell(v.Article), cell(v.Measured),
			v.Verdict, cell(codeNames(v.Why)))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "### Every row")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "ns/op is the median wall time per lookup + call (aggregate over the readers), Ir/op")
	fmt.Fprintln(w, "callgrind's instructions per lookup + call, alloc the bytes allocated over registration + lookups,")
	fmt.Fprintln(w, "B/name kept the bytes still held at the end per registered name, CPU/wall the process's CPU time")
	fmt.Fprintln(w, "during the lookups over their wall time (how many CPUs the run really had: a two-reader row well")
	fmt.Fprintln(w, "below 2 did not get two CPUs, and its ns/op says nothing about scaling).")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| variant | ns/op | Ir/op | CPU/wall | alloc | B/name kept | GCs | bytes from | article ns/op | article bytes | article GCs |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|---|--:|--:|--:|")
	for _, r := range rs.Ordered() {
		a := articleCells(r.Variant)
		alloc := ""
		if r.Has("alloc_bytes") {
			alloc = Human(r.Get("alloc_bytes"))
		}
		if a[1] != "" {
			a[1] = Human(claimBytes(r.Variant))
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Variant, num(r, "ns_per_op"),
			num(r, "ir_per_op"), num(r, "cpu_per_wall"), alloc, perName(r), num(r, "gcs"), r.AllocSource, a[0], a[1], a[2])
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "![The table as a chart: ns/op and bytes per row, the article's numbers as diamonds](%s)\n", svgName)
}

func claimBytes(variant string) float64 {
	c, _ := claimOf(variant)
	return c.Bytes
}

// codeNames puts the article's variant names in backquotes, so that Markdown
// does not read their '*' as emphasis.
func codeNames(s string) string {
	for _, c := range []string{"map[string]*func()", "map[string]func()", "sync.Map"} {
		s = strings.ReplaceAll(s, c, "\x00"+c+"\x01")
	}
	s = strings.ReplaceAll(s, "\x00", "`")
	return strings.ReplaceAll(s, "\x01", "`")
}

// Splice replaces the text between the markers of doc with section. It fails
// when the markers are missing, doubled or out of order.
func Splice(doc, section string) (string, error) {
	if strings.Count(doc, BeginMarker) != 1 || strings.Count(doc, EndMarker) != 1 {
		return "", fmt.Errorf("want exactly one %q and one %q", BeginMarker, EndMarker)
	}
	i := strings.Index(doc, BeginMarker) + len(BeginMarker)
	j := strings.Index(doc, EndMarker)
	if j < i {
		return "", fmt.Errorf("%q comes before %q", EndMarker, BeginMarker)
	}
	return doc[:i] + "\n" + strings.TrimSpace(section) + "\n" + doc[j:], nil
}
