package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/mailpittest"
	"github.com/koe-voice/koe/internal/store/storetest"
)

const setUserDisabled = `mutation($id: ID!, $disabled: Boolean!) { setUserDisabled(userId: $id, disabled: $disabled) { id disabledAt } }`

// disable sets whether userID is disabled as c, and returns the answer.
func disable(c *apptest.Client, userID string, disabled bool) apptest.Response {
	return c.Do(setUserDisabled, map[string]any{"id": userID, "disabled": disabled})
}

// requireDisabledRefusal checks that c's credential is refused because its
// account is disabled, over HTTP and on a new socket.
func requireDisabledRefusal(t *testing.T, srv *apptest.Server, c *apptest.Client) {
	t.Helper()
	r := c.Do(`{ me { id } }`, nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Len(t, r.Errors, 1)
	require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Code())
	require.Equal(t, "this account is disabled", r.Errors[0].Message)
	require.Equal(t, 4401, refusedSocket(t, srv, c.Key))
}

// myID is the id of c's user.
func myID(t *testing.T, c *apptest.Client) string {
	t.Helper()
	var me struct{ Me struct{ ID string } }
	c.Must(`{ me { id } }`, nil, &me)
	return me.Me.ID
}

// TestDisableUser: an operator disables a person, whose API key is refused
// on the very next request (though it was remembered for a second) and on
// new sockets, and enables them again; nobody disables themselves, and an
// admin who is the last one enabled is neither demoted nor disabled, even
// when two admins disable each other at once.
func TestDisableUser(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			admin := srv.Client(apptest.AdminKey)
			userID, key := srv.NewUser(auth.RoleUser, "mallory@example.com")
			user := srv.Client(key)
			user.Must(`{ me { id } }`, nil, nil)

			var out struct {
				SetUserDisabled struct{ DisabledAt *time.Time }
			}
			admin.Must(setUserDisabled, map[string]any{"id": userID, "disabled": true}, &out)
			require.NotNil(t, out.SetUserDisabled.DisabledAt)
			at := *out.SetUserDisabled.DisabledAt
			requireDisabledRefusal(t, srv, user)
			admin.Must(setUserDisabled, map[string]any{"id": userID, "disabled": true}, &out)
			require.Equal(t, at, *out.SetUserDisabled.DisabledAt, "disabling twice keeps the first time")
			var node struct {
				Node struct{ DisabledAt *time.Time }
			}
			admin.Must(`query($id: ID!) { node(id: $id) { ... on User { disabledAt } } }`, map[string]any{"id": userID}, &node)
			require.NotNil(t, node.Node.DisabledAt, "operators see it")

			admin.Must(setUserDisabled, map[string]any{"id": userID, "disabled": false}, &out)
			require.Nil(t, out.SetUserDisabled.DisabledAt)
			user.Must(`{ me { id } }`, nil, nil)

			for name, tc := range map[string]struct{ id, code, field string }{
				"not a user id": {"gen_06h1qwqndsv8x1hzxnmwhpkn01", "BAD_USER_INPUT", "userId"},
				"nobody":        {"usr_06h1pxqjw9sphck41qec0g4pbm", "NOT_FOUND", ""},
				"oneself":       {myID(t, admin), "CONFLICT", ""},
			} {
				r := disable(admin, tc.id, true)
				require.Len(t, r.Errors, 1, name)
				require.Equal(t, tc.code, r.Errors[0].Code(), name)
				require.Equal(t, tc.field, r.Errors[0].Field(), name)
			}

			// Two admins; when one is disabled, the other is the last
			// enabled admin and stays one.
			p, keyP := srv.NewUser(auth.RoleAdmin, "p@example.com")
			q, keyQ := srv.NewUser(auth.RoleAdmin, "q@example.com")
			require.Empty(t, disable(admin, q, true).Errors)
			require.Empty(t, disable(srv.Client(keyP), myID(t, admin), true).Errors, "the built-in admin too")
			r := srv.Client(keyP).Do(`mutation($id: ID!) { setUserRole(userId: $id, role: USER) { id } }`, map[string]any{"id": p})
			require.Equal(t, "CONFLICT", r.Errors[0].Code(), "a disabled admin does not count")
			require.Empty(t, disable(srv.Client(keyP), q, false).Errors)

			// P and Q disable each other at once, five times: one wins.
			for round := range 5 {
				var wg sync.WaitGroup
				answers := make([]apptest.Response, 2)
				for i, pair := range [][2]string{{keyP, q}, {keyQ, p}} {
					wg.Go(func() { answers[i] = disable(srv.Client(pair[0]), pair[1], true) })
				}
				wg.Wait()
				var ok, conflict, refused int
				for _, a := range answers {
					switch {
					case len(a.Errors) == 0:
						ok++
					case a.Errors[0].Code() == "CONFLICT":
						conflict++
					case a.Errors[0].Code() == "UNAUTHENTICATED": // disabled a moment before
						refused++
					}
				}
				require.Equal(t, 1, ok, "round %d: %+v", round, answers)
				require.Equal(t, 1, conflict+refused, "round %d", round)
				enabled := count(t, srv, "SELECT count(*) FROM users WHERE role = 'ADMIN' AND disabled_at IS NULL")
				require.Equal(t, 1, enabled, "round %d: never no admin", round)
				winner, loser := keyP, q
				if len(answers[1].Errors) == 0 {
					winner, loser = keyQ, p
				}
				require.Empty(t, disable(srv.Client(winner), loser, false).Errors)
			}
		})
	}
}

// TestFirebaseDisablementReachesKeys reproduces finding 5: Dave signs in
// with Firebase and makes an API key; disabling him in Firebase, or revoking
// his sessions, used to leave the key working. Once Koe sees the disabled
// or revoked token, the key is refused too, until Firebase accepts a token
// of his again; an operator's disablement outlasts any token.
func TestFirebaseDisablementReachesKeys(t *testing.T) {
	t.Parallel()
	emu := apptest.FirebaseEmulator(t)
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, emu.Env())
			email := uniqueEmail("dave")
			uid, token := emu.SignUp(email, "Dave")
			dave := srv.Client(token)
			var made struct{ CreateApiKey struct{ Secret string } }
			dave.Must(`mutation { createApiKey(name: "script") { secret } }`, nil, &made)
			script := srv.Client(made.CreateApiKey.Secret)
			userID := myID(t, script)

			// Disabled in Firebase; Koe learns it from a token it has not
			// verified yet (another of his devices, say: it trusts a verified
			// token for up to 30 s). The emulator's tokens of one second are
			// the same string, so the next second's.
			time.Sleep(1100 * time.Millisecond)
			other := emu.SignIn(email)
			emu.Update(uid, map[string]any{"disableUser": true})
			r := srv.Client(other).Do(`{ me { id } }`, nil)
			require.Equal(t, "UNAUTHENTICATED", r.Errors[0].Code())
			requireDisabledRefusal(t, srv, script)
			var node struct {
				Node struct{ DisabledAt *time.Time }
			}
			srv.Client(apptest.AdminKey).Must(`query($id: ID!) { node(id: $id) { ... on User { disabledAt } } }`, map[string]any{"id": userID}, &node)
			require.NotNil(t, node.Node.DisabledAt)

			// Enabled again in Firebase: the token Koe verified before the
			// disablement (still trusted from its cache) lifts nothing; one
			// Firebase accepts now does.
			emu.Update(uid, map[string]any{"disableUser": false})
			requireDisabledRefusal(t, srv, dave)
			srv.Client(emu.SignIn(email)).Must(`{ me { id } }`, nil, nil)
			script.Must(`{ me { id } }`, nil, nil)

			// Sessions revoked, seen through a token Koe has not verified yet
			// (of the next second, so not the one it just did).
			time.Sleep(1100 * time.Millisecond)
			old := emu.SignIn(email)
			emu.Revoke(uid)
			r = srv.Client(old).Do(`{ me { id } }`, nil)
			require.Contains(t, r.Errors[0].Message, "revoked")
			requireDisabledRefusal(t, srv, script)
			srv.Client(emu.SignIn(email)).Must(`{ me { id } }`, nil, nil)
			script.Must(`{ me { id } }`, nil, nil)

			// An operator's disablement: no token lifts it, not even one
			// Firebase accepts afterwards (of the next second: a new one).
			require.Empty(t, disable(srv.Client(apptest.AdminKey), userID, true).Errors)
			time.Sleep(1100 * time.Millisecond)
			requireDisabledRefusal(t, srv, srv.Client(emu.SignIn(email)))
			requireDisabledRefusal(t, srv, script)
			require.Empty(t, disable(srv.Client(apptest.AdminKey), userID, false).Errors)
			script.Must(`{ me { id } }`, nil, nil)
		})
	}
}

// TestAPIKeyCapAndPages: a person holds at most 50 active keys — the 51st
// is CONFLICT, also when many are made at once — and apiKeys pages through
// all of them, newest first, while a client that sends no arguments still
// gets a list.
func TestAPIKeyCapAndPages(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := apptest.Boot(t, kind, nil)
			userID, key := srv.NewUser(auth.RoleUser, "scripter@example.com")
			c := srv.Client(key)
			keys := auth.NewService(srv.App.DB())
			p := auth.Principal{UserID: userID, Role: auth.RoleUser}
			for i := range 44 {
				_, _, err := keys.CreateAPIKey(ctx, p, fmt.Sprintf("machine %d", i))
				require.NoError(t, err)
			}
			// Ten at once with room for five.
			var wg sync.WaitGroup
			results := make(chan error, 10)
			for i := range 10 {
				wg.Go(func() {
					_, _, err := keys.CreateAPIKey(ctx, p, fmt.Sprintf("burst %d", i))
					results <- err
				})
			}
			wg.Wait()
			close(results)
			made := 0
			for err := range results {
				if err == nil {
					made++
				}
			}
			require.Equal(t, 5, made, "exactly up to the cap")
			require.Equal(t, 50, count(t, srv, "SELECT count(*) FROM api_keys WHERE user_id = ? AND revoked_at IS NULL", userID))

			r := c.Do(`mutation { createApiKey(name: "one too many") { secret } }`, nil)
			require.Len(t, r.Errors, 1)
			require.Equal(t, "CONFLICT", r.Errors[0].Code())
			require.Contains(t, r.Errors[0].Message, "50")

			var all struct{ APIKeys []struct{ ID string } }
			c.Must(`{ apiKeys { id } }`, nil, &all)
			require.Len(t, all.APIKeys, 50, "today's clients, no arguments: the newest 50")
			c.Must(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, map[string]any{"id": all.APIKeys[0].ID}, nil)
			c.Must(`mutation { createApiKey(name: "room again") { secret } }`, nil, nil)

			var seen []string
			var after *string
			for range 10 {
				var page struct{ APIKeys []struct{ ID string } }
				c.Must(`query($after: String) { apiKeys(first: 20, after: $after) { id } }`, map[string]any{"after": after}, &page)
				for _, k := range page.APIKeys {
					seen = append(seen, k.ID)
				}
				if len(page.APIKeys) < 20 {
					break
				}
				after = &page.APIKeys[len(page.APIKeys)-1].ID
			}
			require.Len(t, seen, 51, "every key once, the revoked one too")
			var ids []string
			require.NoError(t, srv.DB().NewRaw("SELECT id FROM api_keys WHERE user_id = ? ORDER BY created_at DESC, id DESC", userID).Scan(ctx, &ids))
			require.Equal(t, ids, seen, "newest first")

			otherID, _ := srv.NewUser(auth.RoleUser, "other@example.com")
			var others []string
			require.NoError(t, srv.DB().NewRaw("SELECT id FROM api_keys WHERE user_id = ?", otherID).Scan(ctx, &others))
			for name, tc := range map[string]struct {
				vars  map[string]any
				field string
			}{
				"first too large":    {map[string]any{"first": 101}, "first"},
				"first negative":     {map[string]any{"first": -1}, "first"},
				"after not a key id": {map[string]any{"after": "usr_06h1pxqjw9sphck41qec0g4pbm"}, "after"},
				"someone else's key": {map[string]any{"after": others[0]}, "after"},
			} {
				r := c.Do(`query($first: Int, $after: String) { apiKeys(first: $first, after: $after) { id } }`, tc.vars)
				require.Len(t, r.Errors, 1, name)
				require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code(), name)
				require.Equal(t, tc.field, r.Errors[0].Field(), name)
			}
		})
	}
}

// TestIdempotencyKeyReusedWithOtherInput reproduces finding 11: the same
// key with another text, voice, format or speed used to answer the first
// generation silently. Now it is CONFLICT naming the key, and nothing is
// made; the same input still answers the first generation.
func TestIdempotencyKeyReusedWithOtherInput(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			c := srv.Client(apptest.AdminKey)
			input := func(changes map[string]any) map[string]any {
				in := map[string]any{"voiceId": "espeak-ng:en-us", "text": "pay me ten dollars", "format": "WAV", "idempotencyKey": "k1"}
				for k, v := range changes {
					in[k] = v
				}
				return in
			}
			first := create(t, c, input(nil))
			require.Equal(t, first.ID, create(t, c, input(nil)).ID, "a retry answers the first")
			require.Equal(t, first.ID, create(t, c, input(map[string]any{"speed": 1.0, "pitch": 0})).ID, "the defaults are the same input")
			for name, changes := range map[string]map[string]any{
				"text":   {"text": "a completely different text"},
				"voice":  {"voiceId": "espeak-ng:ja"},
				"format": {"format": "MP3"},
				"speed":  {"speed": 2},
				"pitch":  {"pitch": 3},
			} {
				r := c.Do(createGeneration, map[string]any{"input": input(changes)})
				require.Len(t, r.Errors, 1, name)
				require.Equal(t, "CONFLICT", r.Errors[0].Code(), name)
				require.Equal(t, "input.idempotencyKey", r.Errors[0].Field(), name)
			}
			gens, jobs := rows(t, srv)
			require.Equal(t, 1, gens)
			require.Equal(t, 1, jobs)
		})
	}
}

// generateAndWait makes n one-character generations one after another
// (a free plan runs two at once), each to its end, watched over one socket,
// then waits until Koe has told their owner of every one in the app.
func generateAndWait(t *testing.T, srv *apptest.Server, c *apptest.Client, userID string, n int) {
	t.Helper()
	updates := c.Subscribe(apptest.TransportWS, `subscription { myGenerationUpdates { status generation { id } } }`, nil)
	defer updates.Conn.Close()
	for range n {
		g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": "a"})
		for done := false; !done; {
			id, status := nextMyUpdate(t, updates, time.Minute)
			done = id == g.ID && status == "SUCCEEDED"
		}
	}
	require.Eventually(t, func() bool {
		return count(t, srv, "SELECT count(*) FROM notifications WHERE user_id = ? AND kind = 'generation.succeeded'", userID) == n
	}, time.Minute, 50*time.Millisecond)
}

// phishingName is the display name of the review's reproduction.
const phishingName = "Your account is locked - call +1-555-0100 or visit http://evil.example/login"

// TestNoMailToUnverifiedAddresses reproduces finding 6: someone signs up
// in Firebase with a stranger's address, unverified, and a phishing-shaped
// name, and makes ten generations. Koe used to send the stranger ten "audio
// ready" mails greeting them with that name; now it sends none.
func TestNoMailToUnverifiedAddresses(t *testing.T) {
	t.Parallel()
	emu := apptest.FirebaseEmulator(t)
	mp := mailpittest.Open(t)
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			env := mp.Env()
			for k, v := range emu.Env() {
				env[k] = v
			}
			srv := apptest.Boot(t, kind, env)
			victim := runAddress("victim")
			_, token := emu.SignUp(victim, phishingName)
			c := srv.Client(token)
			userID := myID(t, c)
			generateAndWait(t, srv, c, userID, 10)
			require.Zero(t, count(t, srv, "SELECT count(*) FROM email_outbox WHERE user_id = ?", userID))
			require.Zero(t, mp.Count(t, "to:"+victim), "no mail to an address its owner never verified")
		})
	}
}

// TestAudioReadyMailIsThrottled: a person with a verified address who
// makes ten quick generations gets one "audio ready" mail, greeting them by
// their plain name, and one digest of the other nine at the end of the
// ten-minute window (the test moves the window's end to now); a person
// whose name reads as a message is greeted without it, and it is not the
// To header's display name.
func TestAudioReadyMailIsThrottled(t *testing.T) {
	t.Parallel()
	emu := apptest.FirebaseEmulator(t)
	mp := mailpittest.Open(t)
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			env := mp.Env()
			for k, v := range emu.Env() {
				env[k] = v
			}
			srv := apptest.Boot(t, kind, env)
			verified := func(name string) (string, string, *apptest.Client) {
				address := runAddress("ann")
				uid, _ := emu.SignUp(address, name)
				emu.Update(uid, map[string]any{"emailVerified": true})
				c := srv.Client(emu.SignIn(address))
				return address, myID(t, c), c
			}

			ann, annID, c := verified("Ann Example")
			generateAndWait(t, srv, c, annID, 10)
			found := mp.WaitFor(t, "to:"+ann, 1, 30*time.Second)
			require.Equal(t, 1, found.MessagesCount, "one mail for ten generations")
			first := mp.Message(t, found.Messages[0].ID)
			require.Equal(t, "Your audio is ready", first.Subject)
			require.True(t, strings.HasPrefix(first.Text, "Hi Ann Example,"), first.Text)
			require.Equal(t, "Ann Example", first.To[0].Name)

			var digest struct {
				ID          string    `bun:"id"`
				State       string    `bun:"state"`
				DigestCount int       `bun:"digest_count"`
				SendAfter   time.Time `bun:"send_after"`
			}
			require.NoError(t, srv.DB().NewRaw("SELECT id, state, digest_count, send_after FROM email_outbox WHERE user_id = ? AND kind = 'generation.digest'", annID).Scan(ctx, &digest))
			require.Equal(t, "pending", digest.State)
			require.Equal(t, 9, digest.DigestCount)
			require.Greater(t, time.Until(digest.SendAfter), 9*time.Minute, "at the end of the window")
			require.Equal(t, 2, count(t, srv, "SELECT count(*) FROM email_outbox WHERE user_id = ?", annID), "at most one digest")

			// Ten minutes pass.
			now := time.Now().UTC()
			_, err := srv.DB().NewRaw("UPDATE email_outbox SET send_after = ? WHERE id = ?", now, digest.ID).Exec(ctx)
			require.NoError(t, err)
			_, err = srv.DB().NewRaw("UPDATE river_job SET scheduled_at = ? WHERE kind = 'email_send' AND state = 'scheduled' AND CAST(args AS TEXT) LIKE ?",
				now, "%"+digest.ID+"%").Exec(ctx)
			require.NoError(t, err)
			found = mp.WaitFor(t, "to:"+ann, 2, time.Minute)
			require.Equal(t, 2, found.MessagesCount)
			var subjects []string
			for _, m := range found.Messages {
				subjects = append(subjects, m.Subject)
			}
			require.Contains(t, subjects, "9 audio files are ready")

			eve, eveID, e := verified(phishingName)
			generateAndWait(t, srv, e, eveID, 1)
			found = mp.WaitFor(t, "to:"+eve, 1, 30*time.Second)
			msg := mp.Message(t, found.Messages[0].ID)
			require.True(t, strings.HasPrefix(msg.Text, "Hi there,"), msg.Text)
			require.NotContains(t, msg.Text, "evil.example")
			require.NotContains(t, msg.HTML, "evil.example")
			require.NotContains(t, msg.Text, "555")
			require.Empty(t, msg.To[0].Name)
		})
	}
}
