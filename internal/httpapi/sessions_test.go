package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/ratelimit"
)

// fakeAuthenticator answers for one credential with whatever principal (or
// refusal) the test set last, as auth.Service answers with the user as the
// database has them.
type fakeAuthenticator struct {
	mu  sync.Mutex
	p   auth.Principal
	err error
	// landing runs once, after the next successful read: a change that
	// lands between a socket's authentication and its registration.
	landing func()
}

func (f *fakeAuthenticator) set(p auth.Principal, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.p, f.err = p, err
}

func (f *fakeAuthenticator) Authenticate(context.Context, string) (auth.Principal, error) {
	f.mu.Lock()
	p, err, landing := f.p, f.err, f.landing
	if err == nil {
		f.landing = nil
	}
	f.mu.Unlock()
	if err != nil {
		return auth.Principal{}, err
	}
	if landing != nil {
		landing()
	}
	return p, nil
}

// guarded is a GraphQL endpoint with websockets guarded as NewGraphQL
// guards them, on the test schema.
type guarded struct {
	url     string
	auth    *fakeAuthenticator
	sockets *Sockets
}

var ann = auth.Principal{UserID: "usr_ann", Role: auth.RoleAdmin, PlanCode: "pro", APIKeyID: "key_ann"}

func setupGuarded(t *testing.T) *guarded {
	t.Helper()
	g := &guarded{auth: &fakeAuthenticator{p: ann}, sockets: NewSockets()}
	plans := map[string]PlanLimits{"pro": {RequestsPerMinute: 1000, Websockets: 10, Subscriptions: 50}, "free": {RequestsPerMinute: 60, Websockets: 5, Subscriptions: 20}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := NewGraphQL(GraphQLConfig{
		Schema: &execSchema{streams: make(chan *stream, 16)}, Authenticator: g.auth, Websocket: &Websocket{}, Sockets: g.sockets, Log: log,
		Limits: &Limits{Limiter: ratelimit.NewMemory(), Log: log, Anonymous: PlanLimits{RequestsPerMinute: 60, Websockets: 5},
			Of: func(_ context.Context, p auth.Principal) (PlanLimits, bool, error) {
				return plans[p.PlanCode], false, nil
			}},
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	g.url = "ws" + strings.TrimPrefix(hs.URL, "http")
	return g
}

// open sends connection_init with a credential and returns the socket and
// what the server answered: the ack, or the close.
func (g *guarded) open(t *testing.T) (*websocket.Conn, error) {
	t.Helper()
	c := dial(t, g.url, nil, transportWS)
	send(t, c, wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer koe_ann"}`)})
	require.NoError(t, c.SetReadDeadline(time.Now().Add(testWait)))
	var m wsMessage
	if err := c.ReadJSON(&m); err != nil {
		return c, err
	}
	require.Equal(t, "connection_ack", m.Type)
	return c, nil
}

// TestSocketRevokedWhileOpening: finding 15. A key revoked after the socket
// read it but before the socket was registered (so the revocation found no
// socket to close) still ends the socket: it is checked again once
// registered.
func TestSocketRevokedWhileOpening(t *testing.T) {
	t.Parallel()
	g := setupGuarded(t)
	g.auth.landing = func() {
		g.auth.set(auth.Principal{}, apperror.New(apperror.Unauthenticated, "the API key is not valid"))
		g.sockets.CloseKey(ann.APIKeyID)
	}
	_, err := g.open(t)
	requireCloseFrame(t, err, 4401, "Unauthorized: the API key is not valid")
}

// TestSocketsRecheckUser: when the bus says a user changed, each of their
// sockets is checked against the user as they are now: closed with 4401
// when the credential stopped working, 4403 when the role or the plan's
// limits went down, left open otherwise.
func TestSocketsRecheckUser(t *testing.T) {
	t.Parallel()
	demoted, smallerPlan := ann, ann
	demoted.Role = auth.RoleUser
	smallerPlan.PlanCode = "free"
	tests := []struct {
		name   string
		now    auth.Principal
		err    error
		code   int
		reason string
	}{
		{"disabled", auth.Principal{}, apperror.New(apperror.Unauthenticated, "this account is disabled"), 4401, "Unauthorized: this account is disabled"},
		{"demoted", demoted, nil, 4403, "Forbidden: your role changed; reconnect"},
		{"a smaller plan", smallerPlan, nil, 4403, "Forbidden: your plan changed; reconnect"},
		{"unchanged", ann, nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := setupGuarded(t)
			c, err := g.open(t)
			require.NoError(t, err)
			send(t, c, startMessage(transportWS, "live", "subscription { name }"))
			send(t, c, startMessage(transportWS, "q", "{ name }"))
			require.Equal(t, "q", read(t, c).ID, "the socket works")

			g.auth.set(tt.now, tt.err)
			g.sockets.RecheckUser(context.Background(), ann.UserID)
			if tt.code != 0 {
				requireCloseFrame(t, readUntilError(t, c), tt.code, tt.reason)
				return
			}
			send(t, c, startMessage(transportWS, "again", "{ name }"))
			m := read(t, c, "complete")
			require.Equal(t, wsMessage{ID: "again", Type: "next", Payload: json.RawMessage(`{"data":{"name":"test"}}`)}, m)
		})
	}
}
