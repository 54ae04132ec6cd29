package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/config"
	"github.com/koe-voice/koe/internal/store/storetest"
)

func uniqueEmail(name string) string {
	return fmt.Sprintf("%s-%d@example.com", name, time.Now().UnixNano())
}

// refusedSocket opens a graphql-transport-ws socket with token in
// connection_init and returns the close code; the server must send no data.
func refusedSocket(t *testing.T, srv *apptest.Server, token string) int {
	t.Helper()
	code := initSocket(t, srv, token)
	require.NotZero(t, code, "the socket was refused")
	return code
}

// initSocket opens a graphql-transport-ws socket with token in
// connection_init and closes it again: 0 if the server acknowledged it, else
// the code the server closed it with, having sent no data.
func initSocket(t *testing.T, srv *apptest.Server, token string) int {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/query", http.Header{"Sec-Websocket-Protocol": {apptest.TransportWS}})
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}}))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := conn.ReadMessage()
	if err == nil {
		var m struct{ Type string }
		require.NoError(t, json.Unmarshal(data, &m))
		require.Equal(t, "connection_ack", m.Type)
		return 0
	}
	var closeErr *websocket.CloseError
	require.ErrorAs(t, err, &closeErr)
	return closeErr.Code
}

// TestFirebaseSignIn: a person signed up with Firebase uses the API with
// their ID token; their user is made on first sight, on the free plan, with
// the role of their `role` claim.
func TestFirebaseSignIn(t *testing.T) {
	t.Parallel()
	emu := apptest.FirebaseEmulator(t)
	srv := apptest.Boot(t, storetest.SQLite, emu.Env())

	email := uniqueEmail("ann")
	_, token := emu.SignUp(email, "Ann Example")
	ann := srv.Client(token)
	var me struct {
		Me struct {
			ID, Email, DisplayName, Role string
			Plan                         struct{ Code string }
		}
	}
	ann.Must(`{ me { id email displayName role plan { code } } }`, nil, &me)
	require.Equal(t, email, me.Me.Email)
	require.Equal(t, "Ann Example", me.Me.DisplayName)
	require.Equal(t, "USER", me.Me.Role)
	require.Equal(t, "free", me.Me.Plan.Code)
	first := me.Me.ID

	// The same person again, with a fresh token and over a websocket, is the
	// same user.
	ann = srv.Client(emu.SignIn(email))
	ann.Must(`{ me { id email displayName role plan { code } } }`, nil, &me)
	require.Equal(t, first, me.Me.ID)
	// An operator's change of role counts on Ann's very next request,
	// though her user is remembered for a second.
	srv.Client(apptest.AdminKey).Must(`mutation($id: ID!) { setUserRole(userId: $id, role: ADMIN) { id } }`, map[string]any{"id": first}, nil)
	ann.Must(`{ me { id email displayName role plan { code } } }`, nil, &me)
	require.Equal(t, "ADMIN", me.Me.Role)
	g := create(t, ann, map[string]any{"voiceId": "espeak-ng:en-us", "text": "Signed in with Firebase."})
	evs := events(t, follow(t, ann, apptest.TransportWS, g.ID), time.Minute)
	require.Equal(t, "SUCCEEDED", evs[len(evs)-1].Status)

	// A role claim seeds the role of a new user.
	boss := uniqueEmail("boss")
	uid, _ := emu.SignUp(boss, "Boss")
	emu.SetClaims(uid, map[string]any{"role": "ADMIN"})
	var users struct{ Users struct{ TotalCount int } }
	srv.Client(emu.SignIn(boss)).Must(`{ users { totalCount } }`, nil, &users)
	require.GreaterOrEqual(t, users.Users.TotalCount, 3, "the admin, Ann and the boss")
}

// TestFirebaseRefusals: every token that must not work is refused with
// UNAUTHENTICATED over HTTP, and its socket closed with 4401 before any data.
func TestFirebaseRefusals(t *testing.T) {
	t.Parallel()
	emu := apptest.FirebaseEmulator(t)
	srv := apptest.Boot(t, storetest.SQLite, emu.Env())

	disabledEmail, revokedEmail := uniqueEmail("disabled"), uniqueEmail("revoked")
	disabledUID, _ := emu.SignUp(disabledEmail, "")
	disabledToken := emu.SignIn(disabledEmail)
	emu.Update(disabledUID, map[string]any{"disableUser": true})
	revokedUID, revokedToken := emu.SignUp(revokedEmail, "")
	emu.Revoke(revokedUID)
	validUID, _ := emu.SignUp(uniqueEmail("valid"), "")

	tokens := map[string]struct{ token, says string }{
		"malformed":          {"eyJhbGciOiJub25lIn0.bm90IGpzb24.", "not valid"},
		"another project":    {apptest.CraftToken("demo-other", validUID, time.Now().Add(time.Hour)), "not valid"},
		"expired":            {apptest.CraftToken(apptest.FirebaseProject, validUID, time.Now().Add(-time.Hour)), "expired"}, // past the SDK's 5-minute skew
		"of a disabled user": {disabledToken, "disabled"},
		"revoked":            {revokedToken, "revoked"},
	}
	// Not tested here: a forged signature. The emulator's tokens are unsigned
	// and the SDK skips the signature check against it (which is why
	// production refuses FIREBASE_AUTH_EMULATOR_HOST); against Firebase the
	// SDK checks RS256 signatures with Google's keys.
	for name, tc := range tokens {
		r := srv.Client(tc.token).Do(`{ voices { totalCount } }`, nil)
		require.Equal(t, http.StatusUnauthorized, r.Status, name)
		require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Code(), name)
		require.Contains(t, r.Errors[0].Message, tc.says, name)
		require.Contains(t, []string{"", "null"}, string(r.Data), name)
		require.Equal(t, 4401, refusedSocket(t, srv, tc.token), name)
	}
}

// TestEmulatorRefusedInProduction: the emulator accepts unsigned tokens, so
// a production server will not start with it configured.
func TestEmulatorRefusedInProduction(t *testing.T) {
	t.Parallel()
	_, err := config.Load(func(k string) string {
		return map[string]string{"KOE_ENV": "production", "FIREBASE_PROJECT_ID": "koe", "FIREBASE_AUTH_EMULATOR_HOST": "127.0.0.1:9099"}[k]
	})
	require.ErrorContains(t, err, "FIREBASE_AUTH_EMULATOR_HOST")
}
