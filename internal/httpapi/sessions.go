package httpapi

import (
	"context"
	"sync"
	"time"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
)

// Sockets knows this process's open websockets by the API key they came in
// with and by their user, so that a revoked key or a changed user reaches
// the sockets already open, not only the next request.
type Sockets struct {
	mu     sync.Mutex
	byKey  map[string]map[*socketCaller]struct{}
	byUser map[string]map[*socketCaller]struct{}
}

// NewSockets returns an empty registry.
func NewSockets() *Sockets {
	return &Sockets{byKey: map[string]map[*socketCaller]struct{}{}, byUser: map[string]map[*socketCaller]struct{}{}}
}

// socketCaller is who an authenticated socket is for: the credential it
// came with, checked again at every operation and whenever the bus says its
// user changed, and the rights its operations were last authorized with.
type socketCaller struct {
	credential string
	guard      *socketGuard

	mu     sync.Mutex
	rights auth.Principal // its user, key and expiry are the credential's and never change
	// end closes the socket with the refusal's code and reason; set by
	// Sockets.track.
	end func(*Refusal)
}

type socketCallerKey struct{}

// callerOf returns the caller of an authenticated socket's context.
func callerOf(ctx context.Context) *socketCaller {
	c, _ := ctx.Value(socketCallerKey{}).(*socketCaller)
	return c
}

// expiredToken ends a socket at its ID token's exp.
var expiredToken = &Refusal{Code: closeUnauthorized, Reason: "Unauthorized: the ID token expired; reconnect with a fresh one",
	Err: apperror.New(apperror.Unauthenticated, "the ID token has expired; reconnect with a fresh one")}

// track registers c until ctx ends and returns the socket's context, which
// ends (closing the socket) with a *Refusal as its cause when c's key is
// revoked, its user changes for the worse, or its ID token expires. Call it
// before c is shared: it reads c's rights without the lock.
func (k *Sockets) track(ctx context.Context, c *socketCaller) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	c.end = func(r *Refusal) { cancel(r) }
	ctx = context.WithValue(ctx, socketCallerKey{}, c)
	userID, keyID, expires := c.rights.UserID, c.rights.APIKeyID, c.rights.Expires
	k.mu.Lock()
	add(k.byUser, userID, c)
	if keyID != "" {
		add(k.byKey, keyID, c)
	}
	k.mu.Unlock()
	// Timers and AfterFunc, not a goroutine per socket: idle sockets stay
	// cheap.
	var expiry *time.Timer
	if !expires.IsZero() {
		expiry = time.AfterFunc(time.Until(expires), func() { c.end(expiredToken) })
	}
	context.AfterFunc(ctx, func() {
		if expiry != nil {
			expiry.Stop()
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		remove(k.byUser, userID, c)
		remove(k.byKey, keyID, c)
	})
	return ctx
}

func add(m map[string]map[*socketCaller]struct{}, id string, c *socketCaller) {
	if m[id] == nil {
		m[id] = map[*socketCaller]struct{}{}
	}
	m[id][c] = struct{}{}
}

func remove(m map[string]map[*socketCaller]struct{}, id string, c *socketCaller) {
	delete(m[id], c)
	if len(m[id]) == 0 {
		delete(m, id)
	}
}

// of returns the sockets of id in m.
func (k *Sockets) of(m map[string]map[*socketCaller]struct{}, id string) []*socketCaller {
	k.mu.Lock()
	defer k.mu.Unlock()
	callers := make([]*socketCaller, 0, len(m[id]))
	for c := range m[id] {
		callers = append(callers, c)
	}
	return callers
}

// revokedKey ends a socket whose API key was revoked.
var revokedKey = &Refusal{Code: closeUnauthorized, Reason: "Unauthorized: the API key was revoked",
	Err: apperror.New(apperror.Unauthenticated, "the API key is not valid")}

// CloseKey ends every socket of this process opened with keyID, with 4401.
func (k *Sockets) CloseKey(keyID string) {
	for _, c := range k.of(k.byKey, keyID) {
		c.end(revokedKey)
	}
}

// RecheckUser checks every socket of userID in this process against the
// user as they are now: one whose credential stopped working is closed with
// 4401, one whose rights went down with 4403, so its client reconnects with
// what the user may do now. Call it once the user's remembered principal is
// forgotten; it returns when every socket is checked.
func (k *Sockets) RecheckUser(ctx context.Context, userID string) {
	k.recheck(ctx, k.of(k.byUser, userID))
}

// RecheckAll checks every socket, as RecheckUser: for when announcements
// of changes may have been lost.
func (k *Sockets) RecheckAll(ctx context.Context) {
	k.mu.Lock()
	var callers []*socketCaller
	for _, set := range k.byUser {
		for c := range set {
			callers = append(callers, c)
		}
	}
	k.mu.Unlock()
	k.recheck(ctx, callers)
}

func (k *Sockets) recheck(ctx context.Context, callers []*socketCaller) {
	for _, c := range callers {
		// A failure that is not the caller's (the database is away)
		// closes nothing: the next operation checks again.
		if _, err := c.guard.recheck(ctx, c); err != nil {
			if r, ok := err.(*Refusal); ok {
				c.end(r)
			}
		}
	}
}
