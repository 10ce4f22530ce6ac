// Package registry holds the two registries the benchmarked article proposes as
// fixes for a leaking map[string]func(), written from its description: the
// HandlerRegistry of its first section (a map behind a sync.RWMutex) and the
// generic Registry[T] of section 4.4 (a sync.Map of entries that carry a
// reference count and an expiry time).
package registry

import "sync"

// HandlerRegistry maps names to handlers behind a reader/writer lock. The zero
// value is not usable; call NewHandlerRegistry. Safe for concurrent use.
type HandlerRegistry struct {
	mu       sync.RWMutex
	handlers map[string]func()
}

// NewHandlerRegistry returns an empty registry.
func NewHandlerRegistry() *HandlerRegistry {
	return &HandlerRegistry{handlers: make(map[string]func())}
}

// Register stores f under name, replacing any handler already there.
func (r *HandlerRegistry) Register(name string, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[name] = f
}

// Unregister removes name's handler; removing an absent name does nothing.
func (r *HandlerRegistry) Unregister(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.handlers, name)
}

// Call looks name up under the read lock and calls its handler after releasing
// the lock (a handler may then register or unregister). It reports whether a
// handler was found.
func (r *HandlerRegistry) Call(name string) bool {
	r.mu.RLock()
	f, ok := r.handlers[name]
	r.mu.RUnlock()
	if ok {
		f()
	}
	return ok
}

// Len returns the number of registered names.
func (r *HandlerRegistry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.handlers)
}
