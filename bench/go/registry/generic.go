package registry

import (
	"sync"
	"sync/atomic"
	"time"
)

// Registry is a concurrent registry of values of type T, each with a reference
// count and an optional time to live. The registrant holds one reference;
// Acquire takes another and Release gives it back. Unregister, replacement and
// expiry give up the registrant's reference; the entry leaves the map when the
// last reference is gone. An expired entry is never returned; expiry is noticed
// lazily, by the first lookup after the deadline. Safe for concurrent use.
//
// Release takes the entry Acquire returned rather than the key: a key-based
// release would cost a second lookup and could decrement a replacement
// registered in between.
type Registry[T any] struct {
	mu   sync.Mutex // serialises writers: Register and the removal of an entry
	data sync.Map   // string -> *Entry[T]
	now  func() time.Time
}

// Entry is one registration. Its fields are read through the methods; an entry
// returned by Acquire stays valid until it is given to Release.
type Entry[T any] struct {
	value     T
	ref       atomic.Int64 // registrant's reference (until dropped) + one per Acquire
	expiresAt time.Time    // zero: never expires
	dropped   atomic.Bool  // the registrant's reference has been given up
	key       string
}

// Value returns the registered value.
func (e *Entry[T]) Value() T { return e.value }

// Refs returns the current reference count.
func (e *Entry[T]) Refs() int64 { return e.ref.Load() }

// New returns an empty registry reading time from now (time.Now when nil).
func New[T any](now func() time.Time) *Registry[T] {
	if now == nil {
		now = time.Now
	}
	return &Registry[T]{now: now}
}

// Register stores v under key with a time to live (0: never expires), replacing
// any entry there; the replaced entry's holders keep it until they release it.
func (r *Registry[T]) Register(key string, v T, ttl time.Duration) {
	e := &Entry[T]{value: v, key: key}
	if ttl > 0 {
		e.expiresAt = r.now().Add(ttl)
	}
	e.ref.Store(1)
	r.mu.Lock()
	old, had := r.data.Load(key)
	r.data.Store(key, e)
	r.mu.Unlock()
	if had {
		r.drop(old.(*Entry[T]))
	}
}

// Unregister gives up the registrant's reference of key's entry and reports
// whether there was a live one. Later lookups no longer find it.
func (r *Registry[T]) Unregister(key string) bool {
	e, ok := r.live(key)
	if ok {
		ok = r.drop(e)
	}
	return ok
}

// Get returns key's value without taking a reference.
func (r *Registry[T]) Get(key string) (T, bool) {
	e, ok := r.live(key)
	if !ok {
		var zero T
		return zero, false
	}
	return e.value, true
}

// Acquire takes a reference on key's entry and returns it; the caller must give
// it to Release.
func (r *Registry[T]) Acquire(key string) (*Entry[T], bool) {
	e, ok := r.live(key)
	if !ok {
		return nil, false
	}
	for {
		n := e.ref.Load()
		if n <= 0 {
			return nil, false
		}
		if e.ref.CompareAndSwap(n, n+1) {
			break
		}
	}
	if e.dropped.Load() { // unregistered or expired since the lookup
		r.Release(e)
		return nil, false
	}
	return e, true
}

// Release gives back a reference taken by Acquire. The last reference removes
// the entry from the map.
func (r *Registry[T]) Release(e *Entry[T]) {
	if e.ref.Add(-1) == 0 {
		r.mu.Lock()
		if cur, ok := r.data.Load(e.key); ok && cur == e {
			r.data.Delete(e.key)
		}
		r.mu.Unlock()
	}
}

// Len counts the entries still in the map (including those kept by holders).
func (r *Registry[T]) Len() int {
	n := 0
	r.data.Range(func(any, any) bool { n++; return true })
	return n
}

// live loads key's entry and checks it: dropped entries are absent, and an
// expired one has its registrant's reference dropped now.
func (r *Registry[T]) live(key string) (*Entry[T], bool) {
	v, ok := r.data.Load(key)
	if !ok {
		return nil, false
	}
	e := v.(*Entry[T])
	if e.dropped.Load() {
		return nil, false
	}
	if !e.expiresAt.IsZero() && r.now().After(e.expiresAt) {
		r.drop(e)
		return nil, false
	}
	return e, true
}

// drop gives up the registrant's reference once; it reports whether this call did.
func (r *Registry[T]) drop(e *Entry[T]) bool {
	if !e.dropped.CompareAndSwap(false, true) {
		return false
	}
	r.Release(e)
	return true
}
