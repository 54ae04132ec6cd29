package generation

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/wake"
)

// Watch returns a channel with the generation's current state, then each
// change, closed after the terminal state or when ctx ends. A slow reader gets
// the latest state (progress is coalesced) and never holds up the publisher.
func (s *Service) Watch(ctx context.Context, p auth.Principal, id string) (<-chan *Event, error) {
	if !gid.Is(id, gid.Generation) {
		return nil, apperror.Invalid("id", "is not a generation id")
	}
	l := &latest{out: make(chan *Event, 1)}
	// Subscribe before reading the current state, so no change falls between.
	l.unsubscribe = s.bus.Subscribe(generationTopic(id), func(payload []byte) {
		if payload == nil {
			// The bus may have lost events: read the current state again,
			// off the bus's goroutine.
			go s.reoffer(ctx, l, id)
			return
		}
		var e Event
		if json.Unmarshal(payload, &e) == nil {
			l.offer(e)
		}
	})
	g, err := s.mustGet(ctx, p, id)
	if err != nil {
		l.unsubscribe()
		return nil, err
	}
	l.mu.Lock()
	l.stop = context.AfterFunc(ctx, l.end)
	l.wake = wake.Take(ctx)
	// What the bus offered so far came before the transport could be told.
	if l.wake != nil {
		if len(l.out) > 0 {
			l.wake()
		}
		if l.closed {
			l.wake()
		}
	}
	l.mu.Unlock()
	l.offer(eventOf(g))
	return l.out, nil
}

func (s *Service) reoffer(ctx context.Context, l *latest, id string) {
	g, err := s.load(ctx, s.db, id)
	if err != nil || g == nil {
		return
	}
	l.offer(eventOf(g))
}

// latest streams one generation through a channel of one slot that always
// holds the newest event not yet taken. It needs no goroutine of its own:
// the bus's handler replaces what the slot holds, and the channel closes
// after the terminal event or when the watcher's context ends. A
// subscription parked on it costs this struct and a channel, which is what
// lets one process hold ten thousand of them. When the transport gave a wake
// function (package wake), nobody waits on the channel either: wake is
// called when the slot fills and when the channel closes.
type latest struct {
	out         chan *Event
	unsubscribe func()

	mu      sync.Mutex
	last    Event // the newest event put in the slot
	offered bool
	closed  bool
	stop    func() bool // stops the context.AfterFunc that ends the stream
	wake    func()      // nil: a goroutine waits on out
}

// offer puts e in the slot in place of what the reader has not taken, unless
// e is not newer than what was offered before. Offering never blocks.
func (l *latest) offer(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.offered && !e.newer(l.last) {
		return
	}
	replaced := false
	select {
	case <-l.out: // older than e, and not yet taken: the reader gets e instead
		replaced = true
	default:
	}
	l.out <- &e
	l.last, l.offered = e, true
	if l.wake != nil && !replaced {
		l.wake()
	}
	if e.Status.Terminal() {
		l.closed = true
		close(l.out)
		if l.wake != nil {
			l.wake()
		}
		if l.stop != nil {
			l.stop()
		}
		// offer may run inside the bus's handler, where unsubscribing
		// would wait on the bus's own lock.
		go l.unsubscribe()
	}
}

// end closes the stream when the watcher's context ends.
func (l *latest) end() {
	l.mu.Lock()
	closing := !l.closed
	if closing {
		l.closed = true
		close(l.out)
		if l.wake != nil {
			l.wake()
		}
	}
	l.mu.Unlock()
	if closing {
		l.unsubscribe()
	}
}

// WatchOwner returns a channel with every change to any of the principal's
// generations, until ctx ends. Events lost while the bus reconnects are not
// replayed here (Watch re-reads its one generation).
func (s *Service) WatchOwner(ctx context.Context, p auth.Principal) <-chan *Event {
	mb := newMailbox()
	unsubscribe := s.bus.Subscribe(ownerTopic(p.UserID), mb.offerPayload)
	if wake := wake.TakeRefilled(ctx, mb.refill); wake != nil {
		return mb.slot(ctx, wake, unsubscribe)
	}
	return mb.stream(ctx, unsubscribe)
}

// mailbox holds the latest undelivered event of each generation, in the order
// generations first had one. Offering never blocks. It delivers either
// through a goroutine (stream) or, when the transport wakes to receive and
// tells when it has (package wake), through a channel of one that it refills
// itself (slot): then a subscription parked on it owns no goroutine.
type mailbox struct {
	mu      sync.Mutex
	pending map[string]Event
	order   []string
	sent    map[string]Event // the last delivered event of each generation
	signal  chan struct{}

	// Set by slot.
	out    chan *Event
	wake   func()
	closed bool
}

func newMailbox() *mailbox {
	return &mailbox{pending: map[string]Event{}, sent: map[string]Event{}, signal: make(chan struct{}, 1)}
}

func (m *mailbox) offerPayload(payload []byte) {
	var e Event
	if json.Unmarshal(payload, &e) == nil {
		m.offer(e)
	}
}

func (m *mailbox) offer(e Event) {
	m.mu.Lock()
	if old, ok := m.pending[e.GenerationID]; !ok {
		m.pending[e.GenerationID] = e
		m.order = append(m.order, e.GenerationID)
	} else if e.newer(old) {
		m.pending[e.GenerationID] = e
	}
	if m.wake != nil {
		m.fill()
	}
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

// pop takes the oldest pending event that is newer than what was delivered
// of its generation, counting it as delivered. m.mu is held.
func (m *mailbox) pop() (*Event, bool) {
	for len(m.order) > 0 {
		id := m.order[0]
		m.order = m.order[1:]
		e := m.pending[id]
		delete(m.pending, id)
		if last, seen := m.sent[id]; seen && !e.newer(last) {
			continue
		}
		m.sent[id] = e
		return &e, true
	}
	return nil, false
}

func (m *mailbox) next(ctx context.Context) (*Event, bool) {
	for {
		m.mu.Lock()
		e, ok := m.pop()
		m.mu.Unlock()
		if ok {
			return e, true
		}
		select {
		case <-m.signal:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// stream delivers the mailbox's events in order on a goroutine of its own.
func (m *mailbox) stream(ctx context.Context, unsubscribe func()) <-chan *Event {
	out := make(chan *Event)
	go func() {
		defer close(out)
		defer unsubscribe()
		for {
			e, ok := m.next(ctx)
			if !ok {
				return
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// slot delivers the mailbox's events in order through a channel of one:
// wake tells the transport it holds one, and the transport's call of refill
// after each receive puts in the next. The channel closes when ctx ends.
func (m *mailbox) slot(ctx context.Context, wake, unsubscribe func()) <-chan *Event {
	m.mu.Lock()
	m.out, m.wake = make(chan *Event, 1), wake
	m.fill()
	m.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.mu.Lock()
		if !m.closed {
			m.closed = true
			close(m.out)
			m.wake()
		}
		m.mu.Unlock()
		unsubscribe()
	})
	return m.out
}

// refill puts the next event in the slot once the transport has taken the
// last.
func (m *mailbox) refill() {
	m.mu.Lock()
	m.fill()
	m.mu.Unlock()
}

// fill puts the next event in the slot if it is empty, and wakes the
// transport to receive it. m.mu is held; nothing but fill sends on out.
func (m *mailbox) fill() {
	if m.closed || len(m.out) > 0 {
		return
	}
	if e, ok := m.pop(); ok {
		m.out <- e
		m.wake()
	}
}
