// Package ratelimit decides whether a principal may make one more request:
// a token bucket per key that holds a minute's worth of requests and refills
// continuously. In one process it lives in memory; with Redis every replica
// shares the same buckets.
package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"
)

// Decision is the answer for one request, with what the RateLimit-* headers
// tell the client.
type Decision struct {
	Allowed bool
	// Limit is the bucket's size: requests per minute.
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is, when not allowed, how long until one request is.
	RetryAfter time.Duration
	// Reset is how long until the bucket is full again.
	Reset time.Duration
}

// Limiter decides requests against per-minute rates.
type Limiter interface {
	// Allow takes one token from key's bucket of perMinute tokens, refilled
	// at perMinute a minute.
	Allow(ctx context.Context, key string, perMinute int) (Decision, error)
}

// bucket is a token bucket's state: tokens at time at.
type bucket struct {
	tokens float64
	at     time.Time
}

// take is the token bucket rule both limiters apply; with peek it takes
// nothing and only says whether a token is there.
func take(b bucket, now time.Time, perMinute int, peek bool) (bucket, Decision) {
	rate := float64(perMinute) / 60 // tokens a second
	capacity := float64(perMinute)
	if b.at.IsZero() {
		b.tokens = capacity
	} else {
		b.tokens = math.Min(capacity, b.tokens+now.Sub(b.at).Seconds()*rate)
	}
	b.at = now
	d := Decision{Limit: perMinute}
	if b.tokens >= 1 {
		if !peek {
			b.tokens--
		}
		d.Allowed = true
	} else {
		d.RetryAfter = seconds((1 - b.tokens) / rate)
	}
	d.Remaining = int(b.tokens)
	d.Reset = seconds((capacity - b.tokens) / rate)
	return b, d
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Memory is the per-process limiter.
type Memory struct {
	mu      sync.Mutex
	buckets map[string]bucket
	now     func() time.Time
	calls   int
}

// NewMemory returns an empty in-memory limiter.
func NewMemory() *Memory {
	return &Memory{buckets: map[string]bucket{}, now: time.Now}
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string, perMinute int) (Decision, error) {
	return m.take(key, perMinute, false), nil
}

// Peek says whether Allow would allow one more now, taking nothing: for
// buckets that count failures, looked at before each attempt and taken
// from only when one fails.
func (m *Memory) Peek(key string, perMinute int) Decision {
	return m.take(key, perMinute, true)
}

func (m *Memory) take(key string, perMinute int, peek bool) Decision {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	b, d := take(m.buckets[key], now, perMinute, peek)
	if peek {
		return d // looking changes nothing
	}
	m.buckets[key] = b
	if m.calls++; m.calls%10_000 == 0 {
		// A bucket untouched for a minute is full again: forgetting it
		// changes nothing.
		for k, b := range m.buckets {
			if now.Sub(b.at) > time.Minute {
				delete(m.buckets, k)
			}
		}
	}
	return d
}
