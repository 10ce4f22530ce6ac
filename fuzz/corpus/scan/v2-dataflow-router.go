// Data flow the rules follow: local aliases of maps and map elements, maps of
// maps of funcs, the slice removal idioms, and closures made by helpers.
package router

import (
	"maps"
	"net/http"
	"slices"
)

type Handler func(w http.ResponseWriter, r *http.Request)

type Router struct {
	routes map[string]map[string]Handler // method -> path -> handler
	tbl    map[string]map[int]func()     // written through a local alias only
	subs   map[string][]func(string)
	hooks  map[string][]func()
	named  map[string][]func()
	byKey  map[int]func()
}

// Handle adds to a map of maps; nothing removes from it.
func (rt *Router) Handle(method, path string, h Handler) {
	m := rt.routes[method]
	if m == nil {
		m = map[string]Handler{}
		rt.routes[method] = m
	}
	m[path] = h
}

// Tag writes through a local alias of a map element.
func (rt *Router) Tag(k string, tag int, fn func()) {
	m := rt.tbl[k]
	m[tag] = fn
}

// Subscribe and Unsubscribe: swap-remove, then re-slice.
func (rt *Router) Subscribe(topic string, fn func(string)) {
	rt.subs[topic] = append(rt.subs[topic], fn)
}

func (rt *Router) Unsubscribe(topic string, i int) {
	s := rt.subs[topic]
	s[i] = s[len(s)-1]
	rt.subs[topic] = s[:len(s)-1]
}

// AddHook and DropHook: the slot is set to nil.
func (rt *Router) AddHook(name string, fn func()) {
	rt.hooks[name] = append(rt.hooks[name], fn)
}

func (rt *Router) DropHook(name string, i int) { rt.hooks[name][i] = nil }

// AddNamed and the two removals from the slices and maps packages.
func (rt *Router) AddNamed(name string, fn func()) { rt.named[name] = append(rt.named[name], fn) }

func (rt *Router) DropNamed(name string, i int) {
	rt.named[name] = slices.Delete(rt.named[name], i, i+1)
}

func (rt *Router) AddByKey(k int, fn func()) { rt.byKey[k] = fn }

func (rt *Router) DropOdd() { maps.DeleteFunc(rt.byKey, func(k int, _ func()) bool { return k%2 == 1 }) }

// withLogging returns a closure that captures its parameter: a helper.
func withLogging(h Handler) Handler {
	return func(w http.ResponseWriter, r *http.Request) {
		h(w, r)
	}
}

// constant returns a closure that captures nothing but a scalar.
func constant(code int) Handler {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
}

// Mount stores closures made by helpers.
func (rt *Router) Mount(h Handler) {
	rt.Handle("GET", "/logged", withLogging(h))
	rt.Handle("GET", "/teapot", constant(418))
}

type requestState struct {
	body []byte
}

func newRequestState(r *http.Request) *requestState { return &requestState{} }

func load(id string) (*requestState, error) { return &requestState{}, nil }

// Serve captures values whose types come from calls: a same-package
// constructor, a two-result function, and the standard library's r.Context().
func (rt *Router) Serve(r *http.Request, id string) {
	st := newRequestState(r)
	rt.Handle("GET", "/state", func(w http.ResponseWriter, _ *http.Request) { _ = st })
	st2, err := load(id)
	if err != nil {
		return
	}
	ctx := r.Context()
	rt.Handle("GET", "/ctx", func(w http.ResponseWriter, _ *http.Request) { _, _ = st2, ctx })
	n := len(id)
	rt.Handle("GET", "/len", func(w http.ResponseWriter, _ *http.Request) { _ = n })
	x := mystery(id)
	rt.Handle("GET", "/unknown", func(w http.ResponseWriter, _ *http.Request) { _ = x })
}
