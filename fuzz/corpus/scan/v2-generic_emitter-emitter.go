// Generic event emitters. Emitter keeps its listeners in an instantiated
// named map type and Off removes them (re-slicing out the one it drops);
// Broadcaster hands out subscription ids but nothing ever deletes one.
package events

import "sync"

type listeners[T any] map[string][]func(T)

type Emitter[T any] struct {
	mu   sync.Mutex
	subs listeners[T]
}

func NewEmitter[T any]() *Emitter[T] { return &Emitter[T]{subs: listeners[T]{}} }

func (e *Emitter[T]) On(event string, fn func(T)) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.subs[event] = append(e.subs[event], fn)
	return len(e.subs[event]) - 1
}

// Off removes listener i, keeping the order of the others.
func (e *Emitter[T]) Off(event string, i int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.subs[event] = append(e.subs[event][:i], e.subs[event][i+1:]...)
}

func (e *Emitter[T]) Emit(event string, v T) {
	e.mu.Lock()
	fns := e.subs[event]
	e.mu.Unlock()
	for _, fn := range fns {
		fn(v)
	}
}

type Handler[T any] func(T)

type Broadcaster[T any] struct {
	mu    sync.Mutex
	next  uint64
	hooks map[uint64]Handler[T]
}

func (b *Broadcaster[T]) Subscribe(h Handler[T]) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hooks == nil {
		b.hooks = make(map[uint64]Handler[T])
	}
	b.next++
	b.hooks[b.next] = h
	return b.next
}

// Close only forgets the counter: the hooks stay.
func (b *Broadcaster[T]) Close() { b.next = 0 }

type session struct {
	user  string
	conns []int
}

func newSession(user string) *session { return &session{user: user} }

// Track subscribes closures that capture a session (a pointer, from the
// same-package constructor) and a count (a scalar).
func Track(e *Emitter[string], b *Broadcaster[int], user string) {
	s := newSession(user)
	e.On("login", func(msg string) { s.conns = append(s.conns, len(msg)) })
	count := 0
	b.Subscribe(func(n int) { count += n })
}
