// Creating the map on first use is not a reset: it still only grows.
package lazy

type Emitter struct {
	listeners map[string]func()
}

func (e *Emitter) On(name string, f func()) {
	if e.listeners == nil {
		e.listeners = make(map[string]func())
	}
	e.listeners[name] = f
}
