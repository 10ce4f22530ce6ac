// A sync.Map used as a registry of funcs, never deleted from.
package cache

import "sync"

var hooks sync.Map

type Conn struct{ buf []byte }

func AddHook(name string, c *Conn) {
	hooks.Store(name, func() int { return len(c.buf) })
}

// A sync.Map of strings is not a func registry.
var names sync.Map

func remember(k, v string) { names.Store(k, v) }
