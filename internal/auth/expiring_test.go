package auth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestExpiring(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	c := newExpiring[string, int](2)
	c.put("a", 1, now.Add(time.Second), now, c.version())
	v, ok := c.get("a", now.Add(999*time.Millisecond))
	require.True(t, ok)
	require.Equal(t, 1, v)
	_, ok = c.get("a", now.Add(time.Second))
	require.False(t, ok, "gone at its time")

	c.put("b", 2, now.Add(time.Second), now, c.version())
	c.put("c", 3, now.Add(time.Minute), now, c.version())
	c.put("d", 4, now.Add(time.Minute), now, c.version())
	_, ok = c.get("d", now)
	require.False(t, ok, "full of live entries: a new one is not kept")
	c.put("d", 4, now.Add(time.Minute), now.Add(time.Second), c.version())
	v, ok = c.get("d", now.Add(time.Second))
	require.True(t, ok, "an expired entry made room")
	require.Equal(t, 4, v)

	c.deleteFunc(func(v int) bool { return v == 3 })
	_, ok = c.get("c", now)
	require.False(t, ok)
	_, ok = c.get("d", now)
	require.True(t, ok)

	// A value read before a deletion may be what it meant to drop.
	c = newExpiring[string, int](2)
	seen := c.version()
	c.deleteFunc(func(int) bool { return false })
	c.put("e", 5, now.Add(time.Minute), now, seen)
	_, ok = c.get("e", now)
	require.False(t, ok, "not kept")
	c.put("e", 5, now.Add(time.Minute), now, c.version())
	_, ok = c.get("e", now)
	require.True(t, ok)
}
