// This file defines Cache, a bounded cache of rebuilt functions keyed by
// the content hash of their bundles.

package ship

import (
	"sync"

	"go.starlark.net/starlark"
)

// MaxCacheBytes bounds the total size of the bundles whose functions a
// Cache holds; a bundle larger than this by itself is rebuilt on every
// Load and never cached.
const MaxCacheBytes = 64 << 20

// A Cache holds rebuilt, frozen functions, at most a fixed number of them
// and at most MaxCacheBytes of bundles, dropping the least recently used.
//
// An entry is keyed by the bundle's [Hash] (which covers the compiler
// version) and by the identity of the predeclared dict it was rebuilt
// with, since the same bundle resolves its names differently against
// different dicts. Callers should therefore pass one long-lived dict per
// kind of thread (an engine: its engine-side predeclared dict); a fresh
// dict on every call makes every Load a miss.
//
// A Cache is safe for concurrent use. Two concurrent misses for the same
// bundle may both rebuild it; one result is kept.
type Cache struct {
	mu    sync.Mutex
	max   int
	bytes int
	m     map[cacheKey]*entry
	lru   entry // sentinel of the recency list: lru.next is the most recent
}

type cacheKey struct {
	hash Key
	pre  uintptr // identity of the predeclared dict
}

type entry struct {
	key        cacheKey
	pre        starlark.StringDict // kept so that key.pre stays unique
	fn         *starlark.Function
	size       int
	prev, next *entry
}

// NewCache returns an empty cache holding at most maxEntries functions
// (at least one).
func NewCache(maxEntries int) *Cache {
	c := &Cache{max: max(maxEntries, 1), m: make(map[cacheKey]*entry)}
	c.lru.prev, c.lru.next = &c.lru, &c.lru
	return c
}

// Load returns the function of the bundle data rebuilt against
// predeclared (see [Rebuild]), from the cache when possible. The function
// is frozen and may be called from several goroutines, each with its own
// thread.
func (c *Cache) Load(data []byte, predeclared starlark.StringDict) (*starlark.Function, error) {
	key := cacheKey{Hash(data), mapID(predeclared)}
	if fn := c.get(key); fn != nil {
		return fn, nil
	}
	fn, err := Rebuild(data, predeclared)
	if err != nil {
		return nil, err
	}
	return c.put(key, predeclared, fn, len(data)), nil
}

// Len returns the number of cached functions.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// get returns the cached function for key, or nil, marking it recent.
func (c *Cache) get(key cacheKey) *starlark.Function {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[key]
	if e == nil {
		return nil
	}
	c.unlink(e)
	c.pushFront(e)
	return e.fn
}

// put caches fn under key unless another goroutine did first, and returns
// the cached function.
func (c *Cache) put(key cacheKey, pre starlark.StringDict, fn *starlark.Function, size int) *starlark.Function {
	if size > MaxCacheBytes {
		return fn
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.m[key]; e != nil {
		return e.fn
	}
	e := &entry{key: key, pre: pre, fn: fn, size: size}
	c.m[key] = e
	c.pushFront(e)
	c.bytes += size
	for len(c.m) > c.max || c.bytes > MaxCacheBytes {
		c.evict(c.lru.prev)
	}
	return fn
}

// evict drops e.
func (c *Cache) evict(e *entry) {
	c.unlink(e)
	delete(c.m, e.key)
	c.bytes -= e.size
}

func (c *Cache) unlink(e *entry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (c *Cache) pushFront(e *entry) {
	e.prev, e.next = &c.lru, c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
}
