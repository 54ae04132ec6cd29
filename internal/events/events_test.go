package events_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/events"
)

// inbox records the payloads a handler was given.
type inbox struct {
	mu  sync.Mutex
	got []string
}

func (in *inbox) handle(payload []byte) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.got = append(in.got, string(payload))
}

func (in *inbox) messages() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.got...)
}

var _ events.Bus = (*events.Memory)(nil)

func TestMemoryDeliversToSubscribersOfEveryTopic(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	bus := events.NewMemory()
	var a1, a2, b, c, both inbox
	bus.Subscribe("a", a1.handle)
	bus.Subscribe("a", a2.handle)
	bus.Subscribe("b", b.handle)
	bus.Subscribe("c", c.handle)
	bus.Subscribe("a", both.handle)
	bus.Subscribe("b", both.handle)

	require.NoError(t, bus.Publish(ctx, []byte("one"), "a", "b"))
	require.NoError(t, bus.Publish(ctx, []byte("two"), "b"))
	require.NoError(t, bus.Publish(ctx, []byte("nobody listens"), "d"))

	require.Equal(t, []string{"one"}, a1.messages())
	require.Equal(t, []string{"one"}, a2.messages())
	require.Equal(t, []string{"one", "two"}, b.messages())
	require.Empty(t, c.messages())
	require.Equal(t, []string{"one", "one", "two"}, both.messages(), "once per subscription")
	require.Equal(t, 3, bus.Subscribers("a"))
	require.Equal(t, 2, bus.Subscribers("b"))
	require.Equal(t, 0, bus.Subscribers("d"))
}

func TestMemoryUnsubscribe(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	bus := events.NewMemory()
	var stays, leaves inbox
	bus.Subscribe("topic", stays.handle)
	unsubscribe := bus.Subscribe("topic", leaves.handle)
	// The same function subscribed twice is two subscriptions; ending
	// one leaves the other.
	unsubscribeAgain := bus.Subscribe("topic", stays.handle)
	require.Equal(t, 3, bus.Subscribers("topic"))

	require.NoError(t, bus.Publish(ctx, []byte("before"), "topic"))
	unsubscribe()
	require.Equal(t, 2, bus.Subscribers("topic"))
	unsubscribe() // idempotent: does not remove anyone else
	require.Equal(t, 2, bus.Subscribers("topic"))
	require.NoError(t, bus.Publish(ctx, []byte("after"), "topic"))

	require.Equal(t, []string{"before"}, leaves.messages())
	require.Equal(t, []string{"before", "before", "after", "after"}, stays.messages())

	unsubscribeAgain()
	require.Equal(t, 1, bus.Subscribers("topic"))
	require.NoError(t, bus.Publish(ctx, []byte("last"), "topic"))
	require.Equal(t, []string{"before", "before", "after", "after", "last"}, stays.messages())
}

func TestMemoryConcurrentUse(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	bus := events.NewMemory()
	var steady inbox
	bus.Subscribe("topic", steady.handle)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				var in inbox
				unsubscribe := bus.Subscribe("topic", in.handle)
				_ = bus.Publish(ctx, []byte("x"), "topic")
				unsubscribe()
			}
		})
	}
	wg.Wait()
	require.Len(t, steady.messages(), 800, "every publication reached the steady subscriber")
	require.Equal(t, 1, bus.Subscribers("topic"), "every other subscription ended")
}
