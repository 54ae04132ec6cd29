package generation

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/gid"
)

// Watch returns a channel with the generation's current state, then each
// change, closed after the terminal state or when ctx ends. A slow reader gets
// the latest state (progress is coalesced) and never holds up the publisher.
func (s *Service) Watch(ctx context.Context, p auth.Principal, id string) (<-chan *Event, error) {
	if !gid.Is(id, gid.Generation) {
		return nil, apperror.Invalid("id", "is not a generation id")
	}
	mb := newMailbox()
	// Subscribe before reading the current state, so no change falls between.
	unsubscribe := s.bus.Subscribe(generationTopic(id), func(payload []byte) {
		if payload == nil {
			// The bus may have lost events: read the current state again,
			// off the bus's goroutine.
			go s.reoffer(ctx, mb, id)
			return
		}
		mb.offerPayload(payload)
	})
	g, err := s.mustGet(ctx, p, id)
	if err != nil {
		unsubscribe()
		return nil, err
	}
	mb.offer(eventOf(g))
	return mb.stream(ctx, unsubscribe, true), nil
}

func (s *Service) reoffer(ctx context.Context, mb *mailbox, id string) {
	g, err := s.load(ctx, s.db, id)
	if err != nil || g == nil {
		return
	}
	mb.offer(eventOf(g))
}

// WatchOwner returns a channel with every change to any of the principal's
// generations, until ctx ends. Events lost while the bus reconnects are not
// replayed here (Watch re-reads its one generation).
func (s *Service) WatchOwner(ctx context.Context, p auth.Principal) <-chan *Event {
	mb := newMailbox()
	unsubscribe := s.bus.Subscribe(ownerTopic(p.UserID), mb.offerPayload)
	return mb.stream(ctx, unsubscribe, false)
}

// mailbox holds the latest undelivered event of each generation, in the order
// generations first had one. Offering never blocks.
type mailbox struct {
	mu      sync.Mutex
	pending map[string]Event
	order   []string
	signal  chan struct{}
}

func newMailbox() *mailbox {
	return &mailbox{pending: map[string]Event{}, signal: make(chan struct{}, 1)}
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
	m.mu.Unlock()
	select {
	case m.signal <- struct{}{}:
	default:
	}
}

func (m *mailbox) next(ctx context.Context) (Event, bool) {
	for {
		m.mu.Lock()
		if len(m.order) > 0 {
			id := m.order[0]
			m.order = m.order[1:]
			e := m.pending[id]
			delete(m.pending, id)
			m.mu.Unlock()
			return e, true
		}
		m.mu.Unlock()
		select {
		case <-m.signal:
		case <-ctx.Done():
			return Event{}, false
		}
	}
}

// stream delivers the mailbox's events in order, skipping any that are not
// newer than what was already delivered for the same generation. With
// untilTerminal it ends after the first terminal event.
func (m *mailbox) stream(ctx context.Context, unsubscribe func(), untilTerminal bool) <-chan *Event {
	out := make(chan *Event)
	go func() {
		defer close(out)
		defer unsubscribe()
		sent := map[string]Event{}
		for {
			e, ok := m.next(ctx)
			if !ok {
				return
			}
			if last, seen := sent[e.GenerationID]; seen && !e.newer(last) {
				continue
			}
			select {
			case out <- &e:
			case <-ctx.Done():
				return
			}
			if untilTerminal && e.Status.Terminal() {
				return
			}
			sent[e.GenerationID] = e
		}
	}()
	return out
}
