package httpapi

import (
	"context"
	"sync"
)

// KeySockets knows which open websockets came in with which API key, so
// revoking a key can end them: the key stops working on the next request,
// and on the sockets it already opened.
type KeySockets struct {
	mu      sync.Mutex
	next    uint64
	sockets map[string]map[uint64]context.CancelCauseFunc
}

// NewKeySockets returns an empty registry.
func NewKeySockets() *KeySockets {
	return &KeySockets{sockets: map[string]map[uint64]context.CancelCauseFunc{}}
}

// track returns a context for a socket opened with keyID that ends when the
// key is revoked, with ErrCredentialRevoked as its cause; the socket leaves
// the registry when ctx ends.
func (k *KeySockets) track(ctx context.Context, keyID string) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	k.mu.Lock()
	k.next++
	id := k.next
	if k.sockets[keyID] == nil {
		k.sockets[keyID] = map[uint64]context.CancelCauseFunc{}
	}
	k.sockets[keyID][id] = cancel
	k.mu.Unlock()
	// AfterFunc, not a goroutine per socket: idle sockets stay cheap.
	context.AfterFunc(ctx, func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		delete(k.sockets[keyID], id)
		if len(k.sockets[keyID]) == 0 {
			delete(k.sockets, keyID)
		}
	})
	return ctx
}

// Close ends every socket of this process opened with keyID; GraphQLWS then
// closes each one with 4401.
func (k *KeySockets) Close(keyID string) {
	k.mu.Lock()
	cancels := make([]context.CancelCauseFunc, 0, len(k.sockets[keyID]))
	for _, cancel := range k.sockets[keyID] {
		cancels = append(cancels, cancel)
	}
	k.mu.Unlock()
	for _, cancel := range cancels {
		cancel(ErrCredentialRevoked)
	}
}
