// A generic registry in the shape of the article's section 4.4: entries with a
// reference count and an expiry (lazy on Acquire, and when the count reaches
// zero), plus per-name factories and expiry hooks. Factories are never
// removed; expiry hooks are (OffExpire swap-removes them).
package registry

import (
	"sync"
	"time"
)

// FactoryFunc builds a fresh value for a name.
type FactoryFunc[T any] func() (T, error)

type entry[T any] struct {
	Value     T
	Ref       int64
	ExpiresAt time.Time
}

type Registry[T any] struct {
	mu        sync.RWMutex
	entries   map[string]*entry[T]
	factories map[string]FactoryFunc[T]
	onExpire  map[string][]func(T)
	ttl       time.Duration
}

func New[T any](ttl time.Duration) *Registry[T] {
	return &Registry[T]{
		entries:   map[string]*entry[T]{},
		factories: map[string]FactoryFunc[T]{},
		onExpire:  map[string][]func(T){},
		ttl:       ttl,
	}
}

func (r *Registry[T]) RegisterFactory(name string, f FactoryFunc[T]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.factories[name] = f
}

func (r *Registry[T]) OnExpire(name string, fn func(T)) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.onExpire[name] = append(r.onExpire[name], fn)
	return len(r.onExpire[name]) - 1
}

// OffExpire swap-removes hook i: the last one takes its place, the slot it
// leaves is cleared and the slice shrinks.
func (r *Registry[T]) OffExpire(name string, i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	hooks := r.onExpire[name]
	hooks[i] = hooks[len(hooks)-1]
	hooks[len(hooks)-1] = nil
	r.onExpire[name] = hooks[:len(hooks)-1]
}

// Acquire returns the value for name, built by its factory when there is none
// or it has expired, and takes a reference on it.
func (r *Registry[T]) Acquire(name string) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var zero T
	e, ok := r.entries[name]
	if ok && time.Now().After(e.ExpiresAt) {
		r.expire(name, e)
		ok = false
	}
	if !ok {
		f, found := r.factories[name]
		if !found {
			return zero, false
		}
		v, err := f()
		if err != nil {
			return zero, false
		}
		e = &entry[T]{Value: v, ExpiresAt: time.Now().Add(r.ttl)}
		r.entries[name] = e
	}
	e.Ref++
	return e.Value, true
}

// Release drops a reference; the last one expires the entry.
func (r *Registry[T]) Release(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[name]
	if !ok {
		return
	}
	if e.Ref--; e.Ref <= 0 {
		r.expire(name, e)
	}
}

func (r *Registry[T]) expire(name string, e *entry[T]) {
	delete(r.entries, name)
	for _, fn := range r.onExpire[name] {
		fn(e.Value)
	}
}

type conn struct {
	addr string
	buf  []byte
}

func dial(addr string) (*conn, error) { return &conn{addr: addr}, nil }

// Wire keeps a connection registry: the expiry hook captures the connection
// that dial returned (a pointer, inferred from dial's result), the factory
// only the address.
func Wire(r *Registry[*conn], addr string) {
	c, err := dial(addr)
	if err != nil {
		return
	}
	r.OnExpire(addr, func(old *conn) {
		c.buf = nil
		_ = old
	})
	r.RegisterFactory(addr, func() (*conn, error) { return dial(addr) })
}
