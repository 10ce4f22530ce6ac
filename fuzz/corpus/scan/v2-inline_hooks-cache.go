// A cache with event hooks kept in inline structs, the way TTL caches write
// them: insertion hooks are removed through the cancel func that OnInsertion
// returns; eviction hooks and the package-level ones are never removed.
package cache

import "sync"

type Item[K comparable, V any] struct {
	Key   K
	Value V
}

type Cache[K comparable, V any] struct {
	mu     sync.Mutex
	items  map[K]*Item[K, V]
	nextID uint64
	events struct {
		insertion struct {
			fns map[uint64]func(*Item[K, V])
		}
		eviction struct {
			fns map[uint64]func(*Item[K, V])
		}
	}
}

func (c *Cache[K, V]) OnInsertion(fn func(*Item[K, V])) (cancel func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	id := c.nextID
	c.events.insertion.fns[id] = func(it *Item[K, V]) { fn(it) }
	return func() {
		c.mu.Lock()
		delete(c.events.insertion.fns, id)
		c.mu.Unlock()
	}
}

func (c *Cache[K, V]) OnEviction(fn func(*Item[K, V])) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nextID++
	c.events.eviction.fns[c.nextID] = fn
}

// Package-level hooks in an inline struct.
var hooks struct {
	mu     sync.Mutex
	before map[string]func()
	after  map[string]func()
}

func Before(name string, f func()) { hooks.before[name] = f }

func After(name string, f func()) { hooks.after[name] = f }

func ClearAfter() { hooks.after = map[string]func(){} }
