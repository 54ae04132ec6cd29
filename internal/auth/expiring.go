package auth

import (
	"sync"
	"time"
)

// expiring is a map whose entries stop counting after their own time, and
// which drops its expired entries when it reaches max.
type expiring[K comparable, V any] struct {
	max     int
	mu      sync.Mutex
	entries map[K]expiringEntry[V]
	// deletions counts deleteFunc's calls: a value read before one may be
	// what it meant to drop.
	deletions uint64
}

type expiringEntry[V any] struct {
	v     V
	until time.Time
}

func newExpiring[K comparable, V any](max int) *expiring[K, V] {
	return &expiring[K, V]{max: max, entries: map[K]expiringEntry[V]{}}
}

func (c *expiring[K, V]) get(k K, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if ok && !now.Before(e.until) {
		delete(c.entries, k)
		var zero V
		return zero, false
	}
	return e.v, ok
}

// version is what put needs to know that no deleteFunc came between: take
// it before reading the value to put.
func (c *expiring[K, V]) version() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deletions
}

// put keeps v until its time, unless deleteFunc was called since version
// returned seen.
func (c *expiring[K, V]) put(k K, v V, until, now time.Time, seen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.deletions != seen {
		return
	}
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
	}
	if len(c.entries) < c.max {
		c.entries[k] = expiringEntry[V]{v, until}
	}
}

// deleteFunc drops the entries whose value del reports.
func (c *expiring[K, V]) deleteFunc(del func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deletions++
	for k, e := range c.entries {
		if del(e.v) {
			delete(c.entries, k)
		}
	}
}
