package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
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

func runAddress(name string) string {
	return fmt.Sprintf("%s-%d@notify.koe.test", name, time.Now().UnixNano())
}

const notificationsQuery = `{ notifications { totalCount edges { node { id kind title body readAt } } } me { notificationPreferences {
	emailOnGenerationFinished emailOnUsageThreshold emailOnBilling productNews } } }`

type notifications struct {
	Notifications struct {
		TotalCount int
		Edges      []struct {
			Node struct {
				ID, Kind, Title, Body string
				ReadAt                *string
			}
		}
	}
	Me struct {
		NotificationPreferences struct {
			EmailOnGenerationFinished, EmailOnUsageThreshold, EmailOnBilling, ProductNews bool
		}
	}
}

// TestGenerationSucceededNotifies: one in-app notification, one live event,
// one email with text and HTML and one-click unsubscribe; the one-click POST
// turns only that preference off, after which the next generation notifies
// without email.
func TestGenerationSucceededNotifies(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Open(t)
	srv := apptest.Boot(t, storetest.SQLite, mp.Env())
	address := runAddress("ann")
	_, key := srv.NewUser(auth.RoleUser, address)
	c := srv.Client(key)
	added := c.Subscribe(apptest.TransportWS, `subscription { notificationAdded { id kind title } }`, nil)

	g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": "Tell me when it is done."})
	evs := events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	require.Equal(t, "SUCCEEDED", evs[len(evs)-1].Status)

	m := added.Next(t, 30*time.Second)
	require.Empty(t, m.Errors)
	var live struct{ NotificationAdded struct{ Kind, Title string } }
	require.NoError(t, json.Unmarshal(m.Data, &live))
	require.Equal(t, "generation.succeeded", live.NotificationAdded.Kind)
	require.Equal(t, "Your speech is ready", live.NotificationAdded.Title)

	found := mp.WaitFor(t, "to:"+address, 1, 30*time.Second)
	require.Equal(t, 1, found.MessagesCount)
	msg := mp.Message(t, found.Messages[0].ID)
	require.NotEmpty(t, msg.Subject)
	require.NotEmpty(t, msg.Text)
	require.NotEmpty(t, msg.HTML)
	h := mp.Headers(t, found.Messages[0].ID)
	require.Equal(t, "List-Unsubscribe=One-Click", h.Get("List-Unsubscribe-Post"))
	link := strings.Trim(h.Get("List-Unsubscribe"), "<>")
	require.True(t, strings.HasPrefix(link, srv.URL+"/unsubscribe?t="), link)

	// A GET (a mail scanner following the link) changes nothing.
	resp, err := http.Get(link)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var n notifications
	c.Must(notificationsQuery, nil, &n)
	require.True(t, n.Me.NotificationPreferences.EmailOnGenerationFinished)

	// The one-click POST turns that preference off, and nothing else.
	resp, err = http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	c.Must(notificationsQuery, nil, &n)
	require.Equal(t, 1, n.Notifications.TotalCount)
	p := n.Me.NotificationPreferences
	require.False(t, p.EmailOnGenerationFinished)
	require.True(t, p.EmailOnUsageThreshold)
	require.True(t, p.EmailOnBilling)
	require.False(t, p.ProductNews)

	tampered, err := http.Post(link+"x", "application/x-www-form-urlencoded", nil)
	require.NoError(t, err)
	tampered.Body.Close()
	require.Equal(t, http.StatusBadRequest, tampered.StatusCode)

	// Preference off: the notification still comes, the email does not.
	g = create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": "And this one?"})
	events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	added.Next(t, 30*time.Second)
	c.Must(notificationsQuery, nil, &n)
	require.Equal(t, 2, n.Notifications.TotalCount)
	require.Equal(t, 1, count(t, srv, "SELECT count(*) FROM email_outbox WHERE to_address = ?", address), "no second email")

	var read struct{ MarkNotificationsRead int }
	c.Must(`mutation { markNotificationsRead }`, nil, &read)
	require.Equal(t, 2, read.MarkNotificationsRead)
	c.Must(`{ notifications(unreadOnly: true) { totalCount } }`, nil, &n)
	require.Zero(t, n.Notifications.TotalCount)
}

// TestJapaneseEmail: a person whose locale is Japanese gets Japanese mail.
func TestJapaneseEmail(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Open(t)
	srv := apptest.Boot(t, storetest.SQLite, mp.Env())
	address := runAddress("hanako")
	userID, key := srv.NewUser(auth.RoleUser, address)
	_, err := srv.DB().NewRaw("UPDATE users SET locale = 'ja' WHERE id = ?", userID).Exec(context.Background())
	require.NoError(t, err)
	c := srv.Client(key)
	g := create(t, c, map[string]any{"voiceId": "espeak-ng:ja", "text": "こんにちは。"})
	events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)
	found := mp.WaitFor(t, "to:"+address, 1, 30*time.Second)
	msg := mp.Message(t, found.Messages[0].ID)
	require.Regexp(t, `[\p{Hiragana}\p{Katakana}\p{Han}]`, msg.Subject)
	var n notifications
	c.Must(notificationsQuery, nil, &n)
	require.Equal(t, "音声ができました", n.Notifications.Edges[0].Node.Title)
}

// bulkUsers adds n people who accept product news, with addresses under a
// domain of their own, and returns the domain.
func bulkUsers(t *testing.T, srv *apptest.Server, n int) string {
	t.Helper()
	ctx := context.Background()
	domain := fmt.Sprintf("bc%d.koe.test", time.Now().UnixNano())
	for start := 0; start < n; start += 500 {
		var users, prefs []string
		var args []any
		var pargs []any
		for i := start; i < min(start+500, n); i++ {
			id := fmt.Sprintf("usr_bulk%s%06d", strings.ReplaceAll(domain, ".", ""), i)
			users = append(users, "(?, ?, TRUE, 'USER', 'free', 'en', ?)")
			args = append(args, id, fmt.Sprintf("p%d@%s", i, domain), time.Now().UTC())
			prefs = append(prefs, "(?, TRUE)")
			pargs = append(pargs, id)
		}
		_, err := srv.DB().NewRaw("INSERT INTO users (id, email, email_verified, role, plan_code, locale, created_at) VALUES "+strings.Join(users, ", "), args...).Exec(ctx)
		require.NoError(t, err)
		_, err = srv.DB().NewRaw("INSERT INTO notification_preferences (user_id, product_news) VALUES "+strings.Join(prefs, ", "), pargs...).Exec(ctx)
		require.NoError(t, err)
	}
	return domain
}

type broadcast struct {
	ID, Status                         string
	Recipients, Sent, Failed, Canceled int
}

func broadcastState(t *testing.T, c *apptest.Client, id string) broadcast {
	t.Helper()
	var out struct {
		Node broadcast
	}
	c.Must(`query($id: ID!) { node(id: $id) { ... on Broadcast { id status recipients sent failed canceled } } }`, map[string]any{"id": id}, &out)
	return out.Node
}

// TestBroadcastToTwoThousand: every address gets the broadcast once, and
// the counts say so. It runs on PostgreSQL, where a deployment sending
// broadcasts of this size lives; TestCancelBroadcastHalfway sends from
// SQLite.
func TestBroadcastToTwoThousand(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Open(t)
	srv := apptest.Boot(t, storetest.Postgres, mp.Env())
	domain := bulkUsers(t, srv, 2000)
	admin := srv.Client(apptest.AdminKey)
	var made struct{ CreateBroadcast broadcast }
	admin.Must(`mutation { createBroadcast(input: {subject: "Koe news", textBody: "New voices are here."}) { id status } }`, nil, &made)
	require.Equal(t, "SCHEDULED", made.CreateBroadcast.Status)

	found := mp.WaitFor(t, "to:"+domain, 2000, 5*time.Minute) // generous: a loaded machine is slow, not wrong
	seen := map[string]bool{}
	for _, m := range found.Messages {
		for _, to := range m.To {
			require.False(t, seen[to.Address], "%s got it twice", to.Address)
			seen[to.Address] = true
		}
	}
	require.Len(t, seen, 2000)
	require.Eventually(t, func() bool { return broadcastState(t, admin, made.CreateBroadcast.ID).Status == "SENT" }, time.Minute, 100*time.Millisecond)
	b := broadcastState(t, admin, made.CreateBroadcast.ID)
	require.Equal(t, 2000, b.Recipients)
	require.Equal(t, 2000, b.Sent)
	require.Zero(t, b.Failed)
}

// TestBroadcastInTheirLanguage: a person whose language has a version of the
// broadcast gets that version; the others get it as composed.
func TestBroadcastInTheirLanguage(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Open(t)
	srv := apptest.Boot(t, storetest.SQLite, mp.Env())
	domain := bulkUsers(t, srv, 2)
	_, err := srv.DB().NewRaw("UPDATE users SET locale = 'ja' WHERE email = ?", "p1@"+domain).Exec(context.Background())
	require.NoError(t, err)
	admin := srv.Client(apptest.AdminKey)

	bad := admin.Do(`mutation { createBroadcast(input: {subject: "News", textBody: "Hi.",
		translations: [{locale: "ja", subject: "お知らせ", textBody: "こんにちは。"}, {locale: "ja", subject: "x", textBody: "y"}]}) { id } }`, nil)
	require.Equal(t, "BAD_USER_INPUT", bad.Errors[0].Code())
	require.Equal(t, "input.translations[1].locale", bad.Errors[0].Field())
	bad = admin.Do(`mutation { createBroadcast(input: {subject: "News", textBody: "Hi.",
		translations: [{locale: "fr", subject: "Nouvelles", textBody: "Salut."}]}) { id } }`, nil)
	require.Equal(t, "input.translations[0].locale", bad.Errors[0].Field())
	bad = admin.Do(`mutation { createBroadcast(input: {subject: "News", textBody: "Hi.",
		translations: [{locale: "ja", subject: "  ", textBody: "こんにちは。"}]}) { id } }`, nil)
	require.Equal(t, "input.translations[0].subject", bad.Errors[0].Field())
	require.Zero(t, count(t, srv, "SELECT count(*) FROM broadcasts"), "bad input stores nothing")

	var made struct {
		CreateBroadcast struct {
			ID           string
			Translations []struct{ Locale, Subject string }
		}
	}
	admin.Must(`mutation { createBroadcast(input: {subject: "New voices", textBody: "New voices are here.",
		translations: [{locale: "ja", subject: "新しい声", textBody: "新しい声が届きました。"}]}) { id translations { locale subject } } }`, nil, &made)
	require.Equal(t, []struct{ Locale, Subject string }{{"ja", "新しい声"}}, made.CreateBroadcast.Translations)

	found := mp.WaitFor(t, "to:"+domain, 2, time.Minute)
	subjects := map[string]string{}
	for _, m := range found.Messages {
		subjects[m.To[0].Address] = m.Subject
	}
	require.Equal(t, map[string]string{"p0@" + domain: "New voices", "p1@" + domain: "新しい声"}, subjects)
	ja := mp.Message(t, found.Messages[slices.IndexFunc(found.Messages, func(m mailpittest.Summary) bool { return m.Subject == "新しい声" })].ID)
	require.Contains(t, ja.Text, "新しい声が届きました。")
}

// TestCancelBroadcastHalfway: canceling stops what is not sent, and sent,
// failed and canceled add up to the recipients.
func TestCancelBroadcastHalfway(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Open(t)
	env := mp.Env()
	env["KOE_EMAIL_RATE"] = "100"
	srv := apptest.Boot(t, storetest.SQLite, env)
	domain := bulkUsers(t, srv, 2000)
	admin := srv.Client(apptest.AdminKey)
	var made struct{ CreateBroadcast broadcast }
	admin.Must(`mutation { createBroadcast(input: {subject: "Half", textBody: "Some of you get this."}) { id } }`, nil, &made)
	id := made.CreateBroadcast.ID
	require.Eventually(t, func() bool { return broadcastState(t, admin, id).Sent >= 300 }, 3*time.Minute, 50*time.Millisecond)
	var canceled struct{ CancelBroadcast broadcast }
	admin.Must(`mutation($id: ID!) { cancelBroadcast(id: $id) { status } }`, map[string]any{"id": id}, &canceled)
	require.Equal(t, "CANCELED", canceled.CancelBroadcast.Status)

	// In-flight sends finish; then nothing moves.
	var b broadcast
	require.Eventually(t, func() bool {
		return count(t, srv, "SELECT count(*) FROM email_outbox WHERE broadcast_id = ? AND state IN ('pending', 'sending')", id) == 0
	}, 30*time.Second, 50*time.Millisecond)
	b = broadcastState(t, admin, id)
	stopped := count(t, srv, "SELECT count(*) FROM email_outbox WHERE broadcast_id = ? AND state = 'canceled'", id)
	require.Less(t, b.Sent, 2000)
	require.Positive(t, stopped)
	require.Equal(t, b.Recipients, b.Sent+b.Failed+stopped)
	require.Equal(t, stopped, b.Canceled, "the broadcast counts what its cancellation stopped")
	mp.WaitFor(t, "to:"+domain, b.Sent, 10*time.Second)
	time.Sleep(500 * time.Millisecond) // and no more arrive
	require.Equal(t, b.Sent, mp.Count(t, "to:"+domain), "Mailpit has exactly what was counted as sent")
	r := admin.Do(`mutation($id: ID!) { cancelBroadcast(id: $id) { status } }`, map[string]any{"id": id})
	require.Equal(t, "CONFLICT", r.Errors[0].Code())
}

// flakyRelay stands between Koe and Mailpit on a fixed port: closed (the mail
// server is down) until Open is called.
type flakyRelay struct {
	addr, to string
	mu       sync.Mutex
	ln       net.Listener
}

func (r *flakyRelay) Open(t *testing.T) {
	ln, err := net.Listen("tcp", r.addr)
	require.NoError(t, err)
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				out, err := net.Dial("tcp", r.to)
				if err != nil {
					in.Close()
					return
				}
				go func() { _, _ = copyAndClose(out, in) }()
				_, _ = copyAndClose(in, out)
			}()
		}
	}()
}

func copyAndClose(dst, src net.Conn) (int64, error) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
		}
		if err != nil {
			return n, err
		}
	}
}

// TestMailServerDownThenBack: messages wait while SMTP is down and go out,
// once each, when it is back.
func TestMailServerDownThenBack(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Open(t)
	free, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := free.Addr().String()
	require.NoError(t, free.Close())
	mailpitHost := strings.TrimPrefix(strings.SplitN(mp.SMTP, "?", 2)[0], "smtp://")
	relay := &flakyRelay{addr: addr, to: mailpitHost}

	srv := apptest.Boot(t, storetest.SQLite, map[string]string{"KOE_SMTP_URL": "smtp://" + addr + "?tls=none"})
	address := runAddress("patient")
	_, key := srv.NewUser(auth.RoleUser, address)
	c := srv.Client(key)
	g := create(t, c, map[string]any{"voiceId": "espeak-ng:en-us", "text": "Wait for the mail server."})
	events(t, follow(t, c, apptest.TransportWS, g.ID), time.Minute)

	// The send fails and waits for a retry.
	require.Eventually(t, func() bool {
		return count(t, srv, `SELECT count(*) FROM river_job WHERE kind = 'email_send' AND errors IS NOT NULL AND state IN ('retryable', 'scheduled', 'available', 'running')`) > 0
	}, time.Minute, 50*time.Millisecond, "the first attempt failed")
	require.Equal(t, 1, count(t, srv, "SELECT count(*) FROM email_outbox WHERE to_address = ? AND state = 'pending'", address))

	relay.Open(t)
	found := mp.WaitFor(t, "to:"+address, 1, time.Minute)
	require.Equal(t, 1, found.MessagesCount)
	require.Eventually(t, func() bool {
		return count(t, srv, "SELECT count(*) FROM email_outbox WHERE to_address = ? AND state = 'sent'", address) == 1
	}, 30*time.Second, 50*time.Millisecond)
}
