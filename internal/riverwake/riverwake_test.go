package riverwake

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/stretchr/testify/require"
)

// slowListener stands for riversqlite's listener with a poll that never
// comes: each wait reads the table (reads counts them; the first finds
// nothing, later ones what has) and then waits for ctx.
type slowListener struct {
	riverdriver.Listener
	reads int
	has   *riverdriver.Notification
	err   error
}

func (l *slowListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	l.reads++
	if l.reads > 1 && (l.has != nil || l.err != nil) {
		return l.has, l.err
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// wait runs WaitForNotification in the background.
func wait(ctx context.Context, l *listener) <-chan error {
	done := make(chan error, 1)
	go func() {
		n, err := l.WaitForNotification(ctx)
		if err == nil && n.Topic != "river_insert" {
			err = errors.New("wrong notification")
		}
		done <- err
	}()
	return done
}

// TestWakeReadsAgain: a wait that would last until the next poll ends as
// soon as Wake is called, with what a new read of the table finds.
func TestWakeReadsAgain(t *testing.T) {
	d := &Driver{wake: make(chan struct{}, 1)}
	inner := &slowListener{has: &riverdriver.Notification{Topic: "river_insert", Payload: `{"queue":"generation"}`}}
	l := &listener{Listener: inner, wake: d.wake}
	done := wait(t.Context(), l)
	select {
	case err := <-done:
		t.Fatalf("returned before a wake: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	d.Wake()
	d.Wake() // a second wake while one is pending does not block
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("a wake did not end the wait")
	}
	require.Equal(t, 2, inner.reads)
}

// TestWakeKeepsErrors: the caller's cancellation and the listener's own
// errors end the wait as they would without wakes.
func TestWakeKeepsErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	l := &listener{Listener: &slowListener{}, wake: make(chan struct{}, 1)}
	done := wait(ctx, l)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)

	broken := errors.New("database is locked")
	d := &Driver{wake: make(chan struct{}, 1)}
	l = &listener{Listener: &slowListener{err: broken}, wake: d.wake}
	done = wait(t.Context(), l)
	d.Wake()
	require.ErrorIs(t, <-done, broken)
}
