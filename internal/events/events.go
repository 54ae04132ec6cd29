// Package events is Koe's bus: small messages on named topics, from whoever
// changes something to whoever watches it. In one process it is memory; on
// PostgreSQL it is LISTEN/NOTIFY, so a subscriber on one replica sees what a
// worker on another published.
package events

import (
	"context"
	"sync"
)

// Bus carries messages on topics.
type Bus interface {
	// Publish sends payload to every subscriber of any of the topics, in
	// every process, once per subscription.
	Publish(ctx context.Context, payload []byte, topics ...string) error
	// Subscribe calls handler with each payload published on topic until
	// unsubscribe is called. Handlers run on the bus's goroutine: they must
	// not block (hand the payload to a mailbox and return). A nil payload
	// means messages may have been lost (the bus reconnected): the
	// subscriber should re-read the state it watches.
	Subscribe(topic string, handler func(payload []byte)) (unsubscribe func())
}

// Memory is the in-process bus.
type Memory struct {
	mu     sync.RWMutex
	topics map[string]map[*func([]byte)]struct{}
}

// NewMemory returns an empty in-process bus.
func NewMemory() *Memory {
	return &Memory{topics: map[string]map[*func([]byte)]struct{}{}}
}

// Publish delivers payload to the subscribers of the topics in this process.
func (m *Memory) Publish(_ context.Context, payload []byte, topics ...string) error {
	m.dispatch(payload, topics)
	return nil
}

func (m *Memory) dispatch(payload []byte, topics []string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, topic := range topics {
		for h := range m.topics[topic] {
			(*h)(payload)
		}
	}
}

// resync calls every handler with a nil payload.
func (m *Memory) resync() {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, subs := range m.topics {
		for h := range subs {
			(*h)(nil)
		}
	}
}

// Subscribe registers handler for topic.
func (m *Memory) Subscribe(topic string, handler func([]byte)) func() {
	h := &handler
	m.mu.Lock()
	subs := m.topics[topic]
	if subs == nil {
		subs = map[*func([]byte)]struct{}{}
		m.topics[topic] = subs
	}
	subs[h] = struct{}{}
	m.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			delete(m.topics[topic], h)
			if len(m.topics[topic]) == 0 {
				delete(m.topics, topic)
			}
		})
	}
}

// Subscribers returns how many handlers listen on topic in this process.
func (m *Memory) Subscribers(topic string) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.topics[topic])
}
