package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestMemoryBucket(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	m := NewMemory()
	m.now = func() time.Time { return now }
	ctx := context.Background()

	for i := range 60 {
		d, err := m.Allow(ctx, "ann", 60)
		require.NoError(t, err)
		require.True(t, d.Allowed, "request %d of a full bucket", i)
		require.Equal(t, 60-i-1, d.Remaining)
		require.Equal(t, 60, d.Limit)
	}
	d, _ := m.Allow(ctx, "ann", 60)
	require.False(t, d.Allowed, "the 61st request in the same instant")
	require.Equal(t, time.Second, d.RetryAfter, "one token a second at 60 a minute")
	require.Equal(t, time.Minute, d.Reset)

	other, _ := m.Allow(ctx, "bob", 60)
	require.True(t, other.Allowed, "buckets are per key")

	now = now.Add(1500 * time.Millisecond) // 1.5 tokens back
	d, _ = m.Allow(ctx, "ann", 60)
	require.True(t, d.Allowed)
	d, _ = m.Allow(ctx, "ann", 60)
	require.False(t, d.Allowed)
	require.Equal(t, 500*time.Millisecond, d.RetryAfter)

	now = now.Add(time.Hour)
	d, _ = m.Allow(ctx, "ann", 60)
	require.Equal(t, 59, d.Remaining, "a bucket refills to its size, not beyond")
}

// redisClient is the Redis the test command provides (KOE_TEST_REDIS_URL or
// the local one); skipped without it, except under CI=true.
func redisClient(t *testing.T) *redis.Client {
	url := os.Getenv("KOE_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	require.NoError(t, err)
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis is required under CI: %v", err)
		}
		t.Skipf("Redis not reachable at %s: %v", url, err)
	}
	return c
}

// TestBurstOfTenTimesTheRate: on both limiters, a burst of ten times the
// rate from many goroutines lets exactly a minute's worth through.
func TestBurstOfTenTimesTheRate(t *testing.T) {
	t.Parallel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	limiters := map[string]Limiter{
		"memory": NewMemory(),
		"redis":  NewRedis(redisClient(t), "koetest:"+hex.EncodeToString(b[:])+":"),
	}
	for name, l := range limiters {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const perMinute = 100
			var allowed, refused atomic.Int64
			var wg sync.WaitGroup
			for range 10 {
				wg.Go(func() {
					for range perMinute {
						d, err := l.Allow(context.Background(), "burst", perMinute)
						require.NoError(t, err)
						if d.Allowed {
							allowed.Add(1)
						} else {
							refused.Add(1)
							require.Positive(t, d.RetryAfter)
						}
					}
				})
			}
			wg.Wait()
			// The burst takes a moment: a few tokens may refill meanwhile.
			require.InDelta(t, perMinute, allowed.Load(), 3)
			require.Equal(t, int64(10*perMinute), allowed.Load()+refused.Load())
		})
	}
}

// TestPeekTakesNothing: Peek says whether a token is there without taking
// it, so a bucket that counts failures can be looked at before every
// attempt.
func TestPeekTakesNothing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	m := NewMemory()
	m.now = func() time.Time { return now }
	ctx := context.Background()
	for range 10 {
		require.True(t, m.Peek("failures", 3).Allowed, "looking at a full bucket takes nothing")
	}
	for range 3 {
		d, err := m.Allow(ctx, "failures", 3)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}
	d := m.Peek("failures", 3)
	require.False(t, d.Allowed, "an empty bucket")
	require.Equal(t, 20*time.Second, d.RetryAfter, "a token comes back every 20 s at 3 a minute")
	now = now.Add(20 * time.Second)
	require.True(t, m.Peek("failures", 3).Allowed)
}
