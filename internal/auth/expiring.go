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

func (c *expiring[K, V]) put(k K, v V, until, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
	for k, e := range c.entries {
		if del(e.v) {
			delete(c.entries, k)
		}
	}
}
