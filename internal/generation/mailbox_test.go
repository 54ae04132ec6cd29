package generation

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/wake"
)

// mailboxWait bounds waits for something that should happen promptly; it
// never decides that something did not happen.
const mailboxWait = 10 * time.Second

func progressEvent(id string, progress float64) Event {
	return Event{GenerationID: id, OwnerID: "usr_1", Status: StatusRunning, Progress: progress, ChunksTotal: 10, ChunksDone: int(progress * 10)}
}

func terminalEvent(id string, status Status, progress float64) Event {
	e := progressEvent(id, progress)
	e.Status = status
	return e
}

// mailboxSetup is a mailbox streaming to a channel, and how often the stream
// unsubscribed.
type mailboxSetup struct {
	mb           *mailbox
	out          <-chan *Event
	cancel       context.CancelFunc
	unsubscribed *atomic.Int32
	markers      *int
}

// setupMailbox offers the events before, as a bus does while a subscriber is
// not yet reading, then starts the stream.
func setupMailbox(t *testing.T, before ...Event) mailboxSetup {
	t.Helper()
	return setupDelivery(t, before, (*mailbox).stream)
}

// setupDelivery offers the events before to a new mailbox, then has deliver
// start delivering them until the test ends.
func setupDelivery(t *testing.T, before []Event, deliver func(mb *mailbox, ctx context.Context, unsubscribe func()) <-chan *Event) mailboxSetup {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var unsubscribed atomic.Int32
	mb := newMailbox()
	for _, e := range before {
		mb.offer(e)
	}
	return mailboxSetup{
		mb:           mb,
		out:          deliver(mb, ctx, func() { unsubscribed.Add(1) }),
		cancel:       cancel,
		unsubscribed: &unsubscribed,
		markers:      new(int),
	}
}

// receiveEvent returns the next event of the stream.
func receiveEvent(t *testing.T, out <-chan *Event) Event {
	t.Helper()
	select {
	case e, ok := <-out:
		require.True(t, ok, "the stream ended early")
		return *e
	case <-time.After(mailboxWait):
		t.Fatal("no event arrived")
		return Event{}
	}
}

// requireStreamClosed waits for the stream to end.
func requireStreamClosed(t *testing.T, out <-chan *Event) {
	t.Helper()
	select {
	case e, ok := <-out:
		require.False(t, ok, "the stream should have ended, got %+v", e)
	case <-time.After(mailboxWait):
		t.Fatal("the stream did not end")
	}
}

// drainStream reads the stream until it ends and returns what it delivered.
func drainStream(t *testing.T, out <-chan *Event) []Event {
	t.Helper()
	var got []Event
	deadline := time.After(mailboxWait)
	for {
		select {
		case e, ok := <-out:
			if !ok {
				return got
			}
			got = append(got, *e)
		case <-deadline:
			t.Fatalf("the stream did not end after %+v", got)
		}
	}
}

// settleMailbox offers a marker on a generation of its own and reads until it
// arrives, returning what came before it: generations leave the mailbox in
// the order they entered, so by then anything offered earlier has been
// delivered or dropped.
func settleMailbox(t *testing.T, s mailboxSetup) []Event {
	t.Helper()
	// Each marker makes more progress than the last, or it would be
	// dropped as old news.
	*s.markers++
	s.mb.offer(progressEvent("marker", float64(*s.markers)/1000))
	var before []Event
	for {
		e := receiveEvent(t, s.out)
		if e.GenerationID == "marker" {
			return before
		}
		before = append(before, e)
	}
}

func TestEventNewer(t *testing.T) {
	t.Parallel()
	queued := Event{GenerationID: "g", Status: StatusQueued}
	started := Event{GenerationID: "g", Status: StatusRunning, ChunksTotal: 4}
	tests := []struct {
		name     string
		old, new Event
		want     bool
	}{
		{"started after queued", queued, started, true},
		{"queued after started", started, queued, false},
		{"chunk count learnt", Event{Status: StatusRunning}, Event{Status: StatusRunning, ChunksTotal: 4}, true},
		{"the same event", progressEvent("g", 0.5), progressEvent("g", 0.5), false},
		{"more progress", progressEvent("g", 0.5), progressEvent("g", 0.75), true},
		{"less progress", progressEvent("g", 0.75), progressEvent("g", 0.5), false},
		{"progress after queued", queued, progressEvent("g", 0.25), true},
		{"succeeded after progress", progressEvent("g", 0.9), terminalEvent("g", StatusSucceeded, 1), true},
		{"failed with less progress", progressEvent("g", 0.9), terminalEvent("g", StatusFailed, 0.3), true},
		{"canceled while queued", queued, terminalEvent("g", StatusCanceled, 0), true},
		{"progress after succeeded", terminalEvent("g", StatusSucceeded, 1), progressEvent("g", 1), false},
		{"progress after failed", terminalEvent("g", StatusFailed, 0.3), progressEvent("g", 0.9), false},
		{"another terminal after failed", terminalEvent("g", StatusFailed, 0.3), terminalEvent("g", StatusSucceeded, 1), false},
		{"the same terminal again", terminalEvent("g", StatusCanceled, 0.5), terminalEvent("g", StatusCanceled, 0.5), false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.new.newer(tt.old), tt.name)
	}
}

func TestMailboxOfferNeverBlocks(t *testing.T) {
	t.Parallel()
	for _, reader := range []string{"no stream", "a stream nobody reads"} {
		mb := newMailbox()
		if reader == "a stream nobody reads" {
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(cancel)
			_ = mb.stream(ctx, func() {})
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 10_000 {
				mb.offer(progressEvent(fmt.Sprint("gen_", i%50), float64(i)/10_000))
				mb.offerPayload([]byte("not JSON"))
			}
		}()
		select {
		case <-done:
		case <-time.After(mailboxWait):
			t.Fatalf("%s: offering blocked", reader)
		}
	}
}

func TestMailboxSlowReaderGetsTheLatestProgress(t *testing.T) {
	t.Parallel()
	s := setupMailbox(t,
		progressEvent("g", 0.1), progressEvent("g", 0.2), progressEvent("g", 0.4), progressEvent("g", 0.3))
	require.Equal(t, progressEvent("g", 0.4), receiveEvent(t, s.out), "the steps that waited are coalesced into the latest")
	require.Empty(t, settleMailbox(t, s))

	// An older step offered after a newer one was delivered is dropped.
	s.mb.offer(progressEvent("g", 0.2))
	require.Empty(t, settleMailbox(t, s), "never an older step after a newer")

	// While the stream waits to hand over one step, the next ones pile up
	// and are coalesced; the reader gets the one held, then the latest.
	for _, p := range []float64{0.5, 0.6, 0.8, 0.7} {
		s.mb.offer(progressEvent("g", p))
	}
	got := append([]Event{receiveEvent(t, s.out)}, settleMailbox(t, s)...)
	if got[0].Progress < 0.8 {
		require.Equal(t, []Event{got[0], progressEvent("g", 0.8)}, got)
	} else {
		require.Equal(t, []Event{progressEvent("g", 0.8)}, got)
	}
}

func TestMailboxKeepsOrderOfFirstAppearance(t *testing.T) {
	t.Parallel()
	s := setupMailbox(t,
		progressEvent("a", 0.1), progressEvent("b", 0.1), progressEvent("c", 0.1), progressEvent("a", 0.2),
		progressEvent("b", 0.3), progressEvent("d", 0.1), progressEvent("c", 0.2))
	var got []Event
	for range 4 {
		got = append(got, receiveEvent(t, s.out))
	}
	require.Equal(t, []Event{progressEvent("a", 0.2), progressEvent("b", 0.3), progressEvent("c", 0.2), progressEvent("d", 0.1)}, got)

	// Delivered generations queue up again in the order they come back.
	s.mb.offer(progressEvent("d", 0.2))
	s.mb.offer(progressEvent("b", 0.4))
	s.mb.offer(terminalEvent("a", StatusSucceeded, 1))
	s.mb.offer(progressEvent("d", 0.3))
	got = settleMailbox(t, s)
	require.Contains(t, [][]Event{
		{progressEvent("d", 0.3), progressEvent("b", 0.4), terminalEvent("a", StatusSucceeded, 1)},
		// The stream may have taken d's first step before the rest came.
		{progressEvent("d", 0.2), progressEvent("b", 0.4), terminalEvent("a", StatusSucceeded, 1), progressEvent("d", 0.3)},
	}, got)
}

func TestMailboxGoesOnAfterAGenerationEnds(t *testing.T) {
	t.Parallel()
	s := setupMailbox(t)
	s.mb.offer(terminalEvent("a", StatusFailed, 0.5))
	require.Equal(t, terminalEvent("a", StatusFailed, 0.5), receiveEvent(t, s.out))
	s.mb.offer(progressEvent("a", 0.9))
	s.mb.offer(progressEvent("b", 0.5))
	require.Equal(t, progressEvent("b", 0.5), receiveEvent(t, s.out), "nothing of a after its end")
	require.Equal(t, int32(0), s.unsubscribed.Load())
}

func TestMailboxStreamEndsWithItsContext(t *testing.T) {
	t.Parallel()
	s := setupMailbox(t)
	s.mb.offer(progressEvent("g", 0.5))
	s.mb.offer(progressEvent("h", 0.5))
	require.Eventually(t, func() bool {
		s.mb.mu.Lock()
		defer s.mb.mu.Unlock()
		return len(s.mb.order) == 1
	}, mailboxWait, time.Millisecond, "the stream holds g, ready to hand it over")
	s.cancel()
	// The stream may hand over what it held, but then ends.
	drainStream(t, s.out)
	require.Equal(t, int32(1), s.unsubscribed.Load())
	s.mb.offer(progressEvent("g", 0.9)) // the bus may still call in: no block, no panic
}

func TestMailboxOfferPayload(t *testing.T) {
	t.Parallel()
	s := setupMailbox(t)
	s.mb.offerPayload([]byte(`{"id":`)) // malformed: ignored
	e := terminalEvent("gen_1", StatusSucceeded, 1)
	b, err := json.Marshal(e)
	require.NoError(t, err)
	s.mb.offerPayload(b)
	require.Equal(t, e, receiveEvent(t, s.out), "events travel the bus as JSON and arrive unchanged")
}

// latestSetup is one generation's stream and how often it unsubscribed.
type latestSetup struct {
	l            *latest
	cancel       context.CancelFunc
	unsubscribed *atomic.Int32
}

func setupLatest(t *testing.T) latestSetup {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var unsubscribed atomic.Int32
	l := &latest{out: make(chan *Event, 1), unsubscribe: func() { unsubscribed.Add(1) }}
	l.stop = context.AfterFunc(ctx, l.end)
	return latestSetup{l: l, cancel: cancel, unsubscribed: &unsubscribed}
}

func TestLatestSlowReaderGetsTheNewestEvent(t *testing.T) {
	t.Parallel()
	s := setupLatest(t)
	for _, p := range []float64{0.1, 0.2, 0.4, 0.3} {
		s.l.offer(progressEvent("g", p))
	}
	require.Equal(t, progressEvent("g", 0.4), receiveEvent(t, s.l.out), "the steps that waited are coalesced into the newest")
	s.l.offer(progressEvent("g", 0.2))
	s.l.offer(progressEvent("g", 0.5))
	require.Equal(t, progressEvent("g", 0.5), receiveEvent(t, s.l.out), "never an older step after a newer")
}

func TestLatestOfferNeverBlocks(t *testing.T) {
	t.Parallel()
	s := setupLatest(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10_000 {
			s.l.offer(progressEvent("g", float64(i)/10_000))
		}
	}()
	select {
	case <-done:
	case <-time.After(mailboxWait):
		t.Fatal("offering blocked on a reader that never reads")
	}
	require.Equal(t, progressEvent("g", 0.9999), receiveEvent(t, s.l.out))
}

func TestLatestEndsWithTheTerminalEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		offers []Event
		last   Event
	}{
		{"late progress after success", []Event{progressEvent("g", 0.5), terminalEvent("g", StatusSucceeded, 1), progressEvent("g", 0.9)}, terminalEvent("g", StatusSucceeded, 1)},
		{"failure with less progress", []Event{progressEvent("g", 0.8), terminalEvent("g", StatusFailed, 0.2), progressEvent("g", 0.9)}, terminalEvent("g", StatusFailed, 0.2)},
		{"cancel of a queued generation", []Event{{GenerationID: "g", Status: StatusQueued}, terminalEvent("g", StatusCanceled, 0), progressEvent("g", 0.1)}, terminalEvent("g", StatusCanceled, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name+", read as it comes", func(t *testing.T) {
			t.Parallel()
			s := setupLatest(t)
			s.l.offer(tt.offers[0])
			require.Equal(t, tt.offers[0], receiveEvent(t, s.l.out))
			for _, e := range tt.offers[1:] {
				s.l.offer(e)
			}
			require.Equal(t, []Event{tt.last}, drainStream(t, s.l.out))
			require.Eventually(t, func() bool { return s.unsubscribed.Load() == 1 }, mailboxWait, time.Millisecond,
				"the stream unsubscribes when it ends")
		})
		t.Run(tt.name+", read late", func(t *testing.T) {
			t.Parallel()
			s := setupLatest(t)
			for _, e := range tt.offers {
				s.l.offer(e)
			}
			require.Equal(t, []Event{tt.last}, drainStream(t, s.l.out), "a reader who comes late still gets the terminal event")
			s.cancel()
			require.Eventually(t, func() bool { return s.unsubscribed.Load() == 1 }, mailboxWait, time.Millisecond)
			require.Never(t, func() bool { return s.unsubscribed.Load() > 1 }, 50*time.Millisecond, time.Millisecond,
				"unsubscribed once")
		})
	}
}

func TestLatestEndsWithItsContext(t *testing.T) {
	t.Parallel()
	s := setupLatest(t)
	s.l.offer(progressEvent("g", 0.5))
	s.cancel()
	// What the slot held may still be handed over, then the stream ends.
	got := drainStream(t, s.l.out)
	require.LessOrEqual(t, len(got), 1)
	require.Equal(t, int32(1), s.unsubscribed.Load())
	s.l.offer(progressEvent("g", 0.9)) // the bus may still call in: no block, no panic
}

// TestLatestWakesOncePerReceive: with a wake function (package wake), each
// wake means exactly one receive that does not wait: a value, or the end.
func TestLatestWakesOncePerReceive(t *testing.T) {
	t.Parallel()
	s := setupLatest(t)
	wakes := 0
	s.l.wake = func() { wakes++ } // offers run one at a time here
	take := func() (*Event, bool) {
		t.Helper()
		require.Positive(t, wakes, "received without a wake")
		wakes--
		select {
		case e, ok := <-s.l.out:
			return e, ok
		default:
			t.Fatal("woken with nothing to receive")
			return nil, false
		}
	}

	s.l.offer(progressEvent("g", 0.1))
	s.l.offer(progressEvent("g", 0.2)) // replaces 0.1: no second wake
	require.Equal(t, 1, wakes)
	e, _ := take()
	require.Equal(t, progressEvent("g", 0.2), *e)

	s.l.offer(progressEvent("g", 0.3))
	s.l.offer(terminalEvent("g", StatusSucceeded, 1)) // replaces 0.3, then closes
	require.Equal(t, 2, wakes)
	e, _ = take()
	require.Equal(t, terminalEvent("g", StatusSucceeded, 1), *e)
	_, ok := take()
	require.False(t, ok, "the second wake is the end")
	require.Zero(t, wakes)
}

// TestLatestWakesWhileReceiving: a reader that receives only when woken,
// while events keep coming, never waits for a value (beyond an offer that
// is replacing one) and gets the terminal event and the end.
func TestLatestWakesWhileReceiving(t *testing.T) {
	t.Parallel()
	s := setupLatest(t)
	wakes := make(chan struct{}, 20_002)
	s.l.wake = func() { wakes <- struct{}{} }
	go func() {
		for i := range 10_000 {
			s.l.offer(progressEvent("g", float64(i)/10_000))
		}
		s.l.offer(terminalEvent("g", StatusSucceeded, 1))
	}()
	var last Event
	for {
		select {
		case <-wakes:
		case <-time.After(mailboxWait):
			t.Fatal("no wake for the end")
		}
		select {
		case e, ok := <-s.l.out:
			if !ok {
				require.Equal(t, terminalEvent("g", StatusSucceeded, 1), last)
				require.Empty(t, wakes, "woken more often than there was to receive")
				return
			}
			last = *e
		case <-time.After(mailboxWait):
			t.Fatal("woken with nothing to receive")
		}
	}
}

// slotSetup is a mailbox delivering through its slot to a transport that
// counts wakes, and how often it unsubscribed.
type slotSetup struct {
	mailboxSetup
	wakes *int
}

func setupSlot(t *testing.T, before ...Event) slotSetup {
	t.Helper()
	wakes := new(int) // offers and refills run one at a time here, or under mb.mu
	s := setupDelivery(t, before, func(mb *mailbox, ctx context.Context, unsubscribe func()) <-chan *Event {
		return mb.slot(ctx, func() { *wakes++ }, unsubscribe)
	})
	return slotSetup{mailboxSetup: s, wakes: wakes}
}

// take receives once for a wake, as the transport does, failing if it would
// wait, and refills.
func (s slotSetup) take(t *testing.T) (Event, bool) {
	t.Helper()
	s.mb.mu.Lock()
	require.Positive(t, *s.wakes, "received without a wake")
	*s.wakes--
	s.mb.mu.Unlock()
	select {
	case e, ok := <-s.out:
		s.mb.refill()
		if !ok {
			return Event{}, false
		}
		return *e, true
	default:
		t.Fatal("woken with nothing to receive")
		return Event{}, false
	}
}

// TestMailboxSlotWakesOncePerEvent: through the slot, each delivered event
// is one wake and one receive that does not wait; events that wait are
// coalesced and keep their order; the end is one more wake.
func TestMailboxSlotWakesOncePerEvent(t *testing.T) {
	t.Parallel()
	s := setupSlot(t, progressEvent("a", 0.1), progressEvent("b", 0.1))
	require.Equal(t, 1, *s.wakes, "one event in the slot, one wake")
	s.mb.offer(progressEvent("a", 0.3)) // a is in the slot already: queued behind b
	s.mb.offer(progressEvent("b", 0.2))
	s.mb.offer(progressEvent("b", 0.4))
	require.Equal(t, 1, *s.wakes, "the slot is full: offers wait without waking")

	var got []Event
	for *s.wakes > 0 {
		e, ok := s.take(t)
		require.True(t, ok)
		got = append(got, e)
	}
	require.Equal(t, []Event{progressEvent("a", 0.1), progressEvent("b", 0.4), progressEvent("a", 0.3)}, got)

	s.mb.offer(progressEvent("a", 0.2))
	require.Zero(t, *s.wakes, "never an older step after a newer")
	s.mb.offer(terminalEvent("a", StatusSucceeded, 1))
	e, ok := s.take(t)
	require.True(t, ok)
	require.Equal(t, terminalEvent("a", StatusSucceeded, 1), e)

	s.cancel()
	require.Eventually(t, func() bool { return s.unsubscribed.Load() == 1 }, mailboxWait, time.Millisecond)
	_, ok = s.take(t)
	require.False(t, ok, "the last wake is the end")
	s.mb.offer(progressEvent("c", 0.5)) // the bus may still call in: no block, no panic
	s.mb.mu.Lock()
	require.Zero(t, *s.wakes)
	s.mb.mu.Unlock()
}

// TestWatchOwnerWithWakeStartsNoGoroutine: a myGenerationUpdates
// subscription whose transport wakes to receive costs no goroutine while it
// lives. Not parallel, so other tests' goroutines do not count.
func TestWatchOwnerWithWakeStartsNoGoroutine(t *testing.T) {
	bus := events.NewMemory()
	s := &Service{bus: bus}
	created := func() uint64 {
		m := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
		metrics.Read(m)
		return m[0].Value.Uint64()
	}
	wakes := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx, hook := wake.With(ctx, func() { wakes <- struct{}{} })

	before := created()
	out := s.WatchOwner(ctx, auth.Principal{UserID: "usr_1"})
	require.True(t, hook.Taken())
	for i := range 3 {
		payload, err := json.Marshal(progressEvent(fmt.Sprint("gen_", i), 0.5))
		require.NoError(t, err)
		require.NoError(t, bus.Publish(ctx, payload, ownerTopic("usr_1")))
	}
	for i := range 3 {
		<-wakes
		e := <-out
		hook.Received()
		require.Equal(t, fmt.Sprint("gen_", i), e.GenerationID)
	}
	require.Zero(t, created()-before, "no goroutine for the subscription")
	require.Empty(t, wakes)
}
