package gctune_test

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/gctune"
)

func TestPercent(t *testing.T) {
	const mb = 1 << 20
	for _, tt := range []struct {
		live uint64
		want int
	}{
		{0, 1000},       // nothing measured yet
		{4 * mb, 1000},  // 128 MB over 4 MB would be 3,200 %: capped
		{32 * mb, 400},  // grows by the headroom
		{64 * mb, 200},  // still the headroom
		{128 * mb, 100}, // from here Go's own rule: grow by what is live
		{200 * mb, 100}, // never collects more often than Go would
		{4096 * mb, 100},
	} {
		require.Equal(t, tt.want, gctune.Percent(tt.live, gctune.Headroom), "live %d MB", tt.live/mb)
	}
}

// Not parallel: it changes the process's GC setting.
func TestRunSetsGOGCUntilItEnds(t *testing.T) {
	t.Setenv("GOGC", "")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		gctune.Run(ctx)
		close(done)
	}()
	// A test process's live heap is far below the headroom.
	require.Eventually(t, func() bool { return currentPercent() > 100 }, 5*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	require.Equal(t, 100, currentPercent(), "what was set before is back")

	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	gctune.Run(t.Context()) // returns at once: the operator chose
	require.Equal(t, 150, currentPercent())
}

// currentPercent is the GOGC in force.
func currentPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}
