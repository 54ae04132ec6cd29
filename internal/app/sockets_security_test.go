package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/app"
	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// socket is a graphql-transport-ws connection driven by hand, as an
// attacker's script drives it: operations one at a time, answers read by id.
type socket struct {
	t    *testing.T
	conn *websocket.Conn
	next int
}

// socketAnswer is what came of one operation: its result (data, errors),
// or the close code of the socket if it closed first.
type socketAnswer struct {
	Data   json.RawMessage
	Errors []apptest.Error
	Closed int
	Reason string
}

// openSocket dials srv's /query with header and sends connection_init with
// credential ("" for none). It returns the socket once acknowledged, or the
// close code the server refused it with.
func openSocket(t *testing.T, url, credential string, header http.Header) (*socket, int) {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{apptest.TransportWS}, HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(url, "http")+"/query", header)
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		return nil, resp.StatusCode
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	payload := map[string]any{}
	if credential != "" {
		payload["Authorization"] = "Bearer " + credential
	}
	require.NoError(t, conn.WriteJSON(map[string]any{"type": "connection_init", "payload": payload}))
	s := &socket{t: t, conn: conn}
	for {
		m, code, _ := s.read()
		if code != 0 {
			return nil, code
		}
		if m.Type == "connection_ack" {
			return s, 0
		}
	}
}

type socketMessage struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

// read returns the next message, or the close code and reason once the
// server closed the socket.
func (s *socket) read() (socketMessage, int, string) {
	s.t.Helper()
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var m socketMessage
		err := s.conn.ReadJSON(&m)
		var closeErr *websocket.CloseError
		if errors.As(err, &closeErr) {
			return m, closeErr.Code, closeErr.Text
		}
		var netErr net.Error
		require.False(s.t, errors.As(err, &netErr) && netErr.Timeout(), "nothing from the server in 10 s")
		require.NoError(s.t, err)
		if m.Type == "ping" {
			_ = s.conn.WriteJSON(map[string]string{"type": "pong"})
			continue
		}
		return m, 0, ""
	}
}

// start sends an operation and returns its id. A socket the server is
// closing may refuse the write; reading then finds the close.
func (s *socket) start(query string, vars map[string]any) string {
	s.t.Helper()
	s.next++
	id := strconv.Itoa(s.next)
	if err := s.conn.WriteJSON(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}}); err != nil {
		s.t.Logf("write %s: %v", id, err)
	}
	return id
}

// do runs one query or mutation and waits for how it ended.
func (s *socket) do(query string, vars map[string]any) socketAnswer {
	s.t.Helper()
	id := s.start(query, vars)
	var a socketAnswer
	for {
		m, code, reason := s.read()
		switch {
		case code != 0:
			return socketAnswer{Closed: code, Reason: reason}
		case m.ID != id:
		case m.Type == "next":
			require.NoError(s.t, json.Unmarshal(m.Payload, &a))
		case m.Type == "error":
			require.NoError(s.t, json.Unmarshal(m.Payload, &a.Errors))
			return a
		case m.Type == "complete":
			return a
		}
	}
}

// waitClosed reads until the server closes the socket and returns the
// code and reason; data for operations started before is skipped.
func (s *socket) waitClosed() (int, string) {
	s.t.Helper()
	for {
		if _, code, reason := s.read(); code != 0 {
			return code, reason
		}
	}
}

// requireRefused checks a is the answer of an operation that did not run:
// the socket closed first, or the operation ended with one of codes and no
// data.
func requireRefused(t *testing.T, a socketAnswer, codes ...string) {
	t.Helper()
	if a.Closed != 0 {
		return
	}
	require.NotEmpty(t, a.Errors, "data: %s", a.Data)
	require.Contains(t, codes, a.Errors[0].Code(), a.Errors[0].Message)
	require.Contains(t, []string{"", "null"}, string(a.Data))
}

// TestDemotedAdminLosesTheSocket reproduces the review's finding 1: an
// ADMIN opens a socket with her API key and another admin demotes her over
// HTTP. What she sends on the old socket is refused (she can neither read
// every user nor make herself ADMIN again) and the socket is closed with
// 4403, live subscription and all. On PostgreSQL the socket is open on
// another replica than the one that demoted her: the bus closes it there.
func TestDemotedAdminLosesTheSocket(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			held := srv // where Mallory's socket is open
			if kind == storetest.Postgres {
				held = srv.Another(nil)
			}
			admin := srv.Client(apptest.AdminKey)
			mallory, key := srv.NewUser(auth.RoleUser, "mallory@example.com")
			const setRole = `mutation($id: ID!, $role: Role!) { setUserRole(userId: $id, role: $role) { role } }`
			admin.Must(setRole, map[string]any{"id": mallory, "role": "ADMIN"}, nil)

			ws, code := openSocket(t, held.URL, key, nil)
			require.Zero(t, code)
			reason := ""
			require.Empty(t, ws.do(`{ users { totalCount } }`, nil).Errors, "an admin reads users over her socket")
			ws.start(`subscription { myGenerationUpdates { status } }`, nil)

			admin.Must(setRole, map[string]any{"id": mallory, "role": "USER"}, nil)
			r := srv.Client(key).Do(`{ users { totalCount } }`, nil)
			require.Equal(t, "FORBIDDEN", r.Errors[0].Code(), "HTTP knows at once")

			if kind == storetest.SQLite {
				// One process: the demotion is known before its answer
				// came back, so the attack right after it fails.
				read := ws.do(`{ users { edges { node { email } } } }`, nil)
				requireRefused(t, read, "FORBIDDEN")
				if read.Closed == 0 {
					promote := ws.do(setRole, map[string]any{"id": mallory, "role": "ADMIN"})
					requireRefused(t, promote, "FORBIDDEN")
					read.Closed, read.Reason = promote.Closed, promote.Reason
					if read.Closed == 0 {
						read.Closed, read.Reason = ws.waitClosed()
					}
				}
				code, reason = read.Closed, read.Reason
			} else {
				// Another replica hears of it through the bus, within a
				// second (it remembers a principal for one).
				code, reason = ws.waitClosed()
			}
			require.Equal(t, 4403, code, "the socket is closed, its live subscription with it")
			require.Equal(t, "Forbidden: your role changed; reconnect", reason)

			// Reconnecting gives her only what she may do now.
			ws, code = openSocket(t, held.URL, key, nil)
			require.Zero(t, code)
			requireRefused(t, ws.do(`{ users { edges { node { email } } } }`, nil), "FORBIDDEN")
			requireRefused(t, ws.do(setRole, map[string]any{"id": mallory, "role": "ADMIN"}), "FORBIDDEN")
			var me struct{ Me struct{ Role string } }
			srv.Client(key).Must(`{ me { role } }`, nil, &me)
			require.Equal(t, "USER", me.Me.Role, "she did not make herself ADMIN again")
		})
	}
}

// TestLostAnnouncementCountsAtTheNextOperation: a change the bus never
// announced (here the role is changed in the database behind Koe's back)
// still counts on an open socket: each operation authenticates its
// credential again, remembered for a second at most, so within a second the
// next one is refused and the socket closed.
func TestLostAnnouncementCountsAtTheNextOperation(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	mallory, key := srv.NewUser(auth.RoleAdmin, "quiet@example.com")
	ws, code := openSocket(t, srv.URL, key, nil)
	require.Zero(t, code)
	require.Empty(t, ws.do(`{ users { totalCount } }`, nil).Errors)

	_, err := srv.DB().NewUpdate().Table("users").Set("role = ?", auth.RoleUser).Where("id = ?", mallory).Exec(context.Background())
	require.NoError(t, err)
	var last socketAnswer
	require.Eventually(t, func() bool {
		last = ws.do(`{ users { totalCount } }`, nil)
		return last.Closed != 0 || len(last.Errors) > 0
	}, 10*time.Second, 100*time.Millisecond, "refused once the remembered principal is a second old")
	requireRefused(t, last, "FORBIDDEN")
	if last.Closed == 0 {
		code, _ := ws.waitClosed()
		require.Equal(t, 4403, code)
	}
}

// freshToken is an ID token of the emulator's user uid, issued now and
// expiring after life. The emulator's own tokens last an hour, and
// CraftToken's are issued an hour before their exp, which is before a new
// account's validSince (the SDK would call them revoked); the user, its
// revocation state and the verification are the emulator's and the SDK's.
func freshToken(t *testing.T, uid string, life time.Duration) string {
	t.Helper()
	parts := strings.Split(apptest.CraftToken(apptest.FirebaseProject, uid, time.Now().Add(life)), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	now := time.Now().Unix()
	claims["iat"], claims["auth_time"] = now, now
	payload, _ = json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// TestFirebaseSocketEndsAtTokenExpiry: a socket opened with a Firebase ID
// token is closed with 4401 at the token's exp, live subscription and all,
// so the client must come back with a fresh token; the expired token opens
// no new socket (though the SDK would accept it for minutes more), a fresh
// one does.
func TestFirebaseSocketEndsAtTokenExpiry(t *testing.T) {
	t.Parallel()
	emu := apptest.FirebaseEmulator(t)
	srv := apptest.Boot(t, storetest.SQLite, emu.Env())
	email := uniqueEmail("expiring")
	uid, _ := emu.SignUp(email, "Expiring")
	token := freshToken(t, uid, 3*time.Second)

	ws, code := openSocket(t, srv.URL, token, nil)
	require.Zero(t, code)
	var me struct{ Me struct{ ID string } }
	a := ws.do(`{ me { id } }`, nil)
	require.Empty(t, a.Errors)
	require.NoError(t, json.Unmarshal(a.Data, &me))
	require.NotEmpty(t, me.Me.ID)
	ws.start(`subscription { notificationAdded { id } }`, nil)

	code, reason := ws.waitClosed()
	require.Equal(t, 4401, code)
	require.Equal(t, "Unauthorized: the ID token expired; reconnect with a fresh one", reason)

	_, code = openSocket(t, srv.URL, token, nil)
	require.Equal(t, 4401, code, "the expired token opens no socket")
	ws, code = openSocket(t, srv.URL, emu.SignIn(email), nil)
	require.Zero(t, code, "a fresh token does")
	require.Empty(t, ws.do(`{ me { id } }`, nil).Errors)
}

// TestSocketOperationsShareTheRate reproduces finding 3: once HTTP has
// used half a free plan's 60 requests a minute, one socket gets about the
// other half, then RATE_LIMITED with a retry time; the socket stays open,
// and HTTP is out of budget too.
func TestSocketOperationsShareTheRate(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	_, key := srv.NewUser(auth.RoleUser, "flood@example.com")
	c := srv.Client(key)
	start := time.Now()
	for range 30 {
		c.Must(`{ me { id } }`, nil, nil)
	}
	ws, code := openSocket(t, srv.URL, key, nil)
	require.Zero(t, code)
	ok := 0
	var limited socketAnswer
	for ok < 200 {
		a := ws.do(`{ voices(first: 5) { edges { node { id } } } }`, nil)
		require.Zero(t, a.Closed, "the socket stays open")
		if len(a.Errors) > 0 {
			limited = a
			break
		}
		ok++
	}
	took := time.Since(start)
	require.NotEmpty(t, limited.Errors, "%d operations on one socket, never limited", ok)
	require.Equal(t, "RATE_LIMITED", limited.Errors[0].Code(), limited.Errors[0].Message)
	require.Positive(t, limited.Errors[0].Extensions["retryAfterSeconds"])
	// The 30 left of the minute's 60, plus one for each second since.
	require.GreaterOrEqual(t, ok, 27)
	require.LessOrEqual(t, ok, 32+int(took.Seconds()), "one budget for HTTP and the socket")

	r := c.Do(`{ me { id } }`, nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status, "and HTTP is out of it too")
	a := ws.do(`{ me { id } }`, nil)
	require.Zero(t, a.Closed, "the socket is still open")
	requireRefused(t, a, "RATE_LIMITED")
}

// TestAnonymousSocketsAreLimited: a socket with no credential is charged
// to its client address, as anonymous HTTP is.
func TestAnonymousSocketsAreLimited(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_ANONYMOUS_RPM": "10"})
	start := time.Now()
	ws, code := openSocket(t, srv.URL, "", nil) // the upgrade request is one
	require.Zero(t, code)
	ok := 0
	for {
		a := ws.do(`{ plans { code } }`, nil)
		require.Zero(t, a.Closed)
		if len(a.Errors) > 0 {
			require.Equal(t, "RATE_LIMITED", a.Errors[0].Code())
			break
		}
		ok++
		require.Less(t, ok, 100, "never limited")
	}
	require.GreaterOrEqual(t, ok, 8)
	require.LessOrEqual(t, ok, 10+int(time.Since(start).Seconds()/6))
	require.Equal(t, http.StatusTooManyRequests, srv.Client("").Do(`{ plans { code } }`, nil).Status)
}

// TestFailedSignInsAreLimited reproduces finding 7: after
// KOE_AUTH_FAILURES_PER_MINUTE bad credentials from one address (over HTTP
// and sockets alike), its next attempts are refused with 429 before
// anything is looked up, a valid key from that address included (asking
// before reading the key is the point); its anonymous requests go on, and
// successes never count.
func TestFailedSignInsAreLimited(t *testing.T) {
	t.Parallel()
	counter := &statementCounter{}
	// Three a minute: one comes back every 20 s, longer than the test.
	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_AUTH_FAILURES_PER_MINUTE": "3"}, app.WithQueryHook(counter))
	_, key := srv.NewUser(auth.RoleUser, "valid@example.com")
	for range 20 {
		srv.Client(key).Must(`{ me { id } }`, nil, nil)
	}
	for i := range 2 {
		r := srv.Client(fmt.Sprintf("koe_guess%d", i)).Do(`{ me { id } }`, nil)
		require.Equal(t, http.StatusUnauthorized, r.Status)
	}
	_, code := openSocket(t, srv.URL, "koe_guess_by_socket", nil)
	require.Equal(t, 4401, code, "the third failure, on a socket")

	counter.requestID.Store("after-the-third")
	r := srv.Client("koe_guess_again").Do(`{ me { id } }`, nil, "X-Request-Id", "after-the-third")
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "RATE_LIMITED", r.Errors[0].Code())
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.Positive(t, retry)
	require.EqualValues(t, retry, r.Errors[0].Extensions["retryAfterSeconds"])
	require.Zero(t, counter.n.Load(), "refused before any database lookup")

	require.Equal(t, http.StatusTooManyRequests, srv.Client(key).Do(`{ me { id } }`, nil).Status, "a valid key from the failing address too")
	_, code = openSocket(t, srv.URL, "koe_guess_by_socket", nil)
	require.Equal(t, 4429, code)
	require.Equal(t, http.StatusOK, srv.Client("").Do(`{ plans { code } }`, nil).Status, "anonymous requests go on")
}

// TestTrustedProxies reproduces finding 8: behind a trusted proxy, two
// clients have budgets of their own; a client that is not behind one cannot
// choose its budget by writing X-Forwarded-For.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	const rpm = 5
	spend := func(srv *apptest.Server, forwardedFor string) (ok int) {
		for range rpm + 1 {
			if srv.Client("").Do(`{ plans { code } }`, nil, "X-Forwarded-For", forwardedFor).Status == http.StatusOK {
				ok++
			}
		}
		return ok
	}
	// refilled is how many requests a spent budget got back since start:
	// one every 60/rpm seconds.
	refilled := func(start time.Time) int { return int(time.Since(start) / (time.Minute / rpm)) }

	behind := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_ANONYMOUS_RPM": strconv.Itoa(rpm), "KOE_TRUSTED_PROXIES": "127.0.0.0/8"})
	start := time.Now()
	require.Equal(t, rpm, spend(behind, "198.51.100.1"), "the first client's budget")
	require.Equal(t, rpm, spend(behind, "198.51.100.2"), "the second client's own budget")
	require.Equal(t, rpm, spend(behind, "198.51.100.1, 198.51.100.3"), "a third client, whatever it wrote to the left")
	require.LessOrEqual(t, spend(behind, "198.51.100.99, 198.51.100.1"), refilled(start), "the first client again, whatever it claims")
	// Their anonymous sockets too: the upgrade and each operation.
	ws, code := openSocket(t, behind.URL, "", http.Header{"X-Forwarded-For": {"198.51.100.4"}})
	require.Zero(t, code)
	require.Empty(t, ws.do(`{ plans { code } }`, nil).Errors)
	if refilled(start) == 0 {
		_, code = openSocket(t, behind.URL, "", http.Header{"X-Forwarded-For": {"198.51.100.1"}})
		require.Equal(t, http.StatusTooManyRequests, code, "the first client's budget is spent, for sockets too")
	}

	direct := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_ANONYMOUS_RPM": strconv.Itoa(rpm)})
	start = time.Now()
	require.Equal(t, rpm, spend(direct, "198.51.100.1"))
	require.LessOrEqual(t, spend(direct, "198.51.100.2"), refilled(start), "a spoofed X-Forwarded-For from an untrusted peer is ignored")
}
