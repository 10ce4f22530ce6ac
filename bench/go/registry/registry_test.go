package registry

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestHandlerRegistry(t *testing.T) {
	r := NewHandlerRegistry()
	calls := 0
	r.Register("a", func() { calls++ })
	if !r.Call("a") || calls != 1 {
		t.Fatalf("Call(a): calls = %d, want 1", calls)
	}
	if r.Call("b") {
		t.Fatal("Call(b) found a handler that was never registered")
	}
	r.Register("a", func() { calls += 10 })
	r.Call("a")
	if calls != 11 {
		t.Fatalf("after replacing a: calls = %d, want 11", calls)
	}
	r.Unregister("a")
	if r.Call("a") || r.Len() != 0 {
		t.Fatal("a is still there after Unregister")
	}
}

// A handler may register while being called: Call releases the lock first.
func TestHandlerRegistryReentrant(t *testing.T) {
	r := NewHandlerRegistry()
	r.Register("a", func() { r.Register("b", func() {}) })
	r.Call("a")
	if !r.Call("b") {
		t.Fatal("b registered from a's handler is missing")
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestRegistryRefcount(t *testing.T) {
	r := New[int](nil)
	r.Register("k", 7, 0)
	e, ok := r.Acquire("k")
	if !ok || e.Value() != 7 || e.Refs() != 2 {
		t.Fatalf("Acquire: ok=%v refs=%d", ok, e.Refs())
	}
	if !r.Unregister("k") {
		t.Fatal("Unregister(k) = false")
	}
	if _, ok := r.Get("k"); ok {
		t.Fatal("Get finds an unregistered key")
	}
	if r.Len() != 1 {
		t.Fatalf("entry left the map while held: Len = %d", r.Len())
	}
	if r.Unregister("k") {
		t.Fatal("second Unregister(k) = true")
	}
	r.Release(e)
	if r.Len() != 0 || e.Refs() != 0 {
		t.Fatalf("after the last Release: Len = %d, refs = %d", r.Len(), e.Refs())
	}
}

func TestRegistryReplaceKeepsHolders(t *testing.T) {
	r := New[string](nil)
	r.Register("k", "old", 0)
	old, _ := r.Acquire("k")
	r.Register("k", "new", 0)
	if v, _ := r.Get("k"); v != "new" {
		t.Fatalf("Get after replace = %q", v)
	}
	r.Release(old) // must not remove the replacement
	if v, ok := r.Get("k"); !ok || v != "new" {
		t.Fatal("releasing the replaced entry removed the new one")
	}
}

func TestRegistryTTL(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	r := New[int](c.now)
	r.Register("k", 1, time.Second)
	if _, ok := r.Get("k"); !ok {
		t.Fatal("fresh entry missing")
	}
	c.t = c.t.Add(2 * time.Second)
	if _, ok := r.Acquire("k"); ok {
		t.Fatal("Acquire returned an expired entry")
	}
	if r.Len() != 0 {
		t.Fatalf("expired, unheld entry still in the map: Len = %d", r.Len())
	}
}

func TestRegistryConcurrent(t *testing.T) {
	r := New[func()](nil)
	for i := 0; i < 100; i++ {
		r.Register(strconv.Itoa(i), func() {}, time.Hour)
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				k := strconv.Itoa((i + g) % 120)
				if e, ok := r.Acquire(k); ok {
					e.Value()()
					r.Release(e)
				}
				if g == 0 && i%7 == 0 {
					r.Register("x"+k, func() {}, time.Hour)
					r.Unregister("x" + k)
				}
			}
		}(g)
	}
	wg.Wait()
	if r.Len() != 100 {
		t.Fatalf("Len = %d after balanced churn, want 100", r.Len())
	}
}
