package notification

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/wake"
)

// watchSetup is a Service on a memory bus, and how to tell user usr_1
// something.
func watchSetup(t *testing.T) (*Service, func(id string)) {
	t.Helper()
	bus := events.NewMemory()
	s := &Service{bus: bus, log: slog.New(slog.DiscardHandler)}
	publish := func(id string) {
		payload, err := json.Marshal(Notification{ID: id, UserID: "usr_1", Kind: "GENERATION_SUCCEEDED", Title: id})
		require.NoError(t, err)
		require.NoError(t, bus.Publish(context.Background(), payload, topic("usr_1")))
	}
	return s, publish
}

// receive takes what the channel holds now, failing if it would wait.
func receive(t *testing.T, ch <-chan *Notification) (*Notification, bool) {
	t.Helper()
	select {
	case n, ok := <-ch:
		return n, ok
	default:
		t.Fatal("nothing to receive")
		return nil, false
	}
}

func TestWatchStreamsInOrderAndEnds(t *testing.T) {
	t.Parallel()
	s, publish := watchSetup(t)
	ctx, cancel := context.WithCancel(context.Background())
	ch := s.Watch(ctx, "usr_1")
	for i := range 3 {
		publish(fmt.Sprint("ntf_", i))
	}
	for i := range 3 {
		n, ok := receive(t, ch)
		require.True(t, ok)
		require.Equal(t, fmt.Sprint("ntf_", i), n.ID)
	}
	cancel()
	select {
	case _, ok := <-ch:
		require.False(t, ok, "the stream ends with its context")
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end")
	}
	publish("late") // the bus may still call in: no block, no panic
}

// TestWatchWakesOncePerNotification: with a wake function, each
// notification wakes the transport once and so does the end, and every
// wake has something to receive.
func TestWatchWakesOncePerNotification(t *testing.T) {
	t.Parallel()
	s, publish := watchSetup(t)
	var wakes atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	ctx, hook := wake.With(ctx, func() { wakes.Add(1) })
	ch := s.Watch(ctx, "usr_1")
	require.True(t, hook.Taken())

	publish("ntf_a")
	publish("ntf_b")
	require.Equal(t, int32(2), wakes.Load())
	for _, id := range []string{"ntf_a", "ntf_b"} {
		n, _ := receive(t, ch)
		require.Equal(t, id, n.ID)
	}
	cancel()
	require.Eventually(t, func() bool { return wakes.Load() == 3 }, 10*time.Second, time.Millisecond)
	_, ok := receive(t, ch)
	require.False(t, ok, "the last wake is the end")
}

// TestWatchDropsForASubscriberWhoDoesNotRead: the bus is never held up by
// a subscriber that stopped reading; what does not fit is dropped.
func TestWatchDropsForASubscriberWhoDoesNotRead(t *testing.T) {
	t.Parallel()
	s, publish := watchSetup(t)
	ch := s.Watch(t.Context(), "usr_1")
	for i := range watchBuffer + 10 {
		publish(fmt.Sprint("ntf_", i))
	}
	for i := range watchBuffer {
		n, _ := receive(t, ch)
		require.Equal(t, fmt.Sprint("ntf_", i), n.ID)
	}
	require.Empty(t, ch)
}
