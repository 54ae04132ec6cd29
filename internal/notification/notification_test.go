package notification

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/email"
	"github.com/koe-voice/koe/internal/email/outbox"
	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/page"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/store/storetest"
)

type links struct{}

func (links) Unsubscribe(userID, preference string) string {
	return "https://koe.test/unsubscribe?u=" + userID + "&p=" + preference
}
func (links) App(path string) string { return "https://app.koe.test" + path }

func setup(t *testing.T, kind storetest.Kind) (*Service, *store.DB, *events.Memory) {
	t.Helper()
	db := storetest.Open(t, kind)
	var driver riverdriver.Driver[*sql.Tx] = riversqlite.New(db.DB.DB)
	if db.Postgres() {
		driver = riverdatabasesql.New(db.DB.DB)
	}
	jobs, err := river.NewClient(driver, &river.Config{})
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)
	mail := outbox.New(db, email.NewLog(log), 100, log)
	mail.SetJobs(jobs)
	bus := events.NewMemory()
	return NewService(db, bus, mail, email.Render, links{}, log), db, bus
}

func count(t *testing.T, db *store.DB, q string, args ...any) (n int) {
	t.Helper()
	require.NoError(t, db.NewRaw(q, args...).Scan(context.Background(), &n))
	return n
}

// TestOncePerCause: the same cause recorded and dispatched again — a
// retried job, a second replica — makes one notification and one email;
// preferences decide the email, never the notification.
func TestOncePerCause(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, db, bus := setup(t, kind)
			userID := verifiedUser(t, db, "once@koe.test")
			var published int
			bus.Subscribe(topic(userID), func([]byte) { published++ })

			cause := "generation.succeeded:gen_1"
			payload := map[string]any{"generationId": "gen_1", "characters": 42, "voiceId": "espeak-ng:en-us"}
			for range 2 {
				require.NoError(t, events.Record(ctx, db, cause, events.KindGenerationSucceeded, userID, payload))
				_, err := s.Dispatch(ctx)
				require.NoError(t, err)
				// As if the event were never marked: dispatching again must
				// still not notify twice.
				_, err = db.NewRaw("UPDATE domain_events SET processed_at = NULL").Exec(ctx)
				require.NoError(t, err)
				_, err = s.Dispatch(ctx)
				require.NoError(t, err)
			}
			require.Equal(t, 1, count(t, db, "SELECT count(*) FROM notifications WHERE user_id = ?", userID))
			require.Equal(t, 1, count(t, db, "SELECT count(*) FROM email_outbox WHERE user_id = ?", userID))
			require.Equal(t, 1, published)

			page, err := s.List(ctx, userID, false, pageOf(10))
			require.NoError(t, err)
			require.Equal(t, "Your speech is ready", page.Items[0].Title)
			require.Contains(t, page.Items[0].Body, "42")

			// Usage emails off: the threshold still notifies, without email.
			off := false
			_, err = s.UpdatePreferences(ctx, userID, PreferencesInput{EmailOnUsageThreshold: &off})
			require.NoError(t, err)
			require.NoError(t, events.Record(ctx, db, "usage.threshold:x:80", events.KindUsageThreshold, userID,
				map[string]any{"percent": 80, "used": 8000, "quota": 10000, "periodEnd": "2026-12-01T00:00:00Z"}))
			_, err = s.Dispatch(ctx)
			require.NoError(t, err)
			require.Equal(t, 2, count(t, db, "SELECT count(*) FROM notifications WHERE user_id = ?", userID))
			require.Equal(t, 1, count(t, db, "SELECT count(*) FROM email_outbox WHERE user_id = ?", userID))
		})
	}
}

// verifiedUser adds a person on the free plan whose address is verified,
// and returns their id.
func verifiedUser(t *testing.T, db *store.DB, address string) string {
	t.Helper()
	id := gid.New(gid.User)
	_, err := db.NewRaw("INSERT INTO users (id, email, email_verified, role, plan_code, locale, created_at) VALUES (?, ?, TRUE, 'USER', 'free', 'en', ?)",
		id, address, time.Now()).Exec(context.Background())
	require.NoError(t, err)
	return id
}

func pageOf(n int) page.Request { return page.Request{First: n} }

// outboxRow is what the throttle test reads of the outbox.
type outboxRow struct {
	Kind        string    `bun:"kind"`
	State       string    `bun:"state"`
	ToName      string    `bun:"to_name"`
	Text        string    `bun:"text_body"`
	SendAfter   time.Time `bun:"send_after"`
	DigestCount int       `bun:"digest_count"`
}

// TestAudioReadyThrottled: ten generations finishing at once make one
// "audio ready" email and one digest of the other nine at the end of the
// window; a generation finishing while that digest is being sent starts the
// next digest after it; after a quiet window the next is told at once. An
// unverified address gets no email at all, only the in-app notifications.
func TestAudioReadyThrottled(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, db, _ := setup(t, kind)
			user := func(address string, verified bool) string {
				id := gid.New(gid.User)
				_, err := db.NewRaw("INSERT INTO users (id, email, email_verified, display_name, role, plan_code, locale, created_at) VALUES (?, ?, ?, ?, 'USER', 'free', 'en', ?)",
					id, address, verified, "Call +1-555-0100 at http://evil.example", time.Now()).Exec(ctx)
				require.NoError(t, err)
				return id
			}
			verified, unverified := user("busy@koe.test", true), user("stranger@koe.test", false)
			finished := func(userID string, n int) {
				t.Helper()
				for range n {
					id := gid.New(gid.Generation)
					require.NoError(t, events.Record(ctx, db, "generation.succeeded:"+id, events.KindGenerationSucceeded, userID,
						map[string]any{"generationId": id, "characters": 1, "voiceId": "espeak-ng:en-us"}))
				}
				_, err := s.Dispatch(ctx)
				require.NoError(t, err)
			}
			mails := func(userID string) []outboxRow {
				t.Helper()
				var rows []outboxRow
				require.NoError(t, db.NewSelect().Table("email_outbox").Column("kind", "state", "to_name", "text_body", "send_after", "digest_count").
					Where("user_id = ?", userID).Order("send_after").Scan(ctx, &rows))
				return rows
			}

			finished(unverified, 10)
			require.Empty(t, mails(unverified), "never to an address its owner did not verify")
			require.Equal(t, 10, count(t, db, "SELECT count(*) FROM notifications WHERE user_id = ?", unverified))

			finished(verified, 10)
			got := mails(verified)
			require.Len(t, got, 2)
			first, digest := got[0], got[1]
			require.Equal(t, "generation.succeeded", first.Kind)
			require.Empty(t, first.ToName, "a phone number and a link are no name")
			require.True(t, strings.HasPrefix(first.Text, "Hi there,"), first.Text)
			require.NotContains(t, first.Text, "evil")
			require.Equal(t, "generation.digest", digest.Kind)
			require.Equal(t, "pending", digest.State)
			require.Equal(t, 9, digest.DigestCount)
			require.Contains(t, digest.Text, "9 more audio files are ready")
			require.WithinDuration(t, first.SendAfter.Add(audioReadyEvery), digest.SendAfter, time.Millisecond)

			// The digest is being sent when one more finishes: that one waits
			// for the next window.
			_, err := db.NewRaw("UPDATE email_outbox SET state = 'sending' WHERE user_id = ? AND kind = 'generation.digest'", verified).Exec(ctx)
			require.NoError(t, err)
			s.now = func() time.Time { return first.SendAfter.Add(audioReadyEvery + time.Second) }
			finished(verified, 1)
			got = mails(verified)
			require.Len(t, got, 3)
			require.Equal(t, 9, got[1].DigestCount, "what is being sent is not changed")
			require.Equal(t, 1, got[2].DigestCount)
			require.WithinDuration(t, digest.SendAfter.Add(audioReadyEvery), got[2].SendAfter, time.Millisecond)

			// A quiet window after the digests went out, the next is told at
			// once.
			_, err = db.NewRaw("UPDATE email_outbox SET state = 'sent' WHERE user_id = ?", verified).Exec(ctx)
			require.NoError(t, err)
			s.now = func() time.Time { return got[2].SendAfter.Add(audioReadyEvery) }
			finished(verified, 1)
			require.Len(t, mails(verified), 4)
			require.Equal(t, 2, count(t, db, "SELECT count(*) FROM email_outbox WHERE user_id = ? AND kind = 'generation.succeeded'", verified))
			require.Equal(t, 12, count(t, db, "SELECT count(*) FROM notifications WHERE user_id = ?", verified), "every one is told in the app")
		})
	}
}

// TestFailuresThrottled: a person whose generations keep failing is emailed
// the first failure at once and the others of the next ten minutes only in
// the app; after a quiet window, the next failure is emailed again.
func TestFailuresThrottled(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, db, _ := setup(t, kind)
			userID := verifiedUser(t, db, "unlucky@koe.test")
			failed := func(n int) {
				t.Helper()
				for range n {
					id := gid.New(gid.Generation)
					require.NoError(t, events.Record(ctx, db, "generation.failed:"+id, events.KindGenerationFailed, userID,
						map[string]any{"generationId": id, "reason": "The speech engine stopped."}))
				}
				_, err := s.Dispatch(ctx)
				require.NoError(t, err)
			}
			emails := func() int {
				return count(t, db, "SELECT count(*) FROM email_outbox WHERE user_id = ? AND kind = 'generation.failed'", userID)
			}

			failed(20)
			require.Equal(t, 1, emails(), "one email for twenty failures in a row")
			require.Equal(t, 20, count(t, db, "SELECT count(*) FROM notifications WHERE user_id = ?", userID), "every one is told in the app")

			var first time.Time
			require.NoError(t, db.NewSelect().Table("email_outbox").Column("send_after").Where("user_id = ?", userID).Scan(ctx, &first))
			s.now = func() time.Time { return first.Add(failedEvery - time.Second) }
			failed(1)
			require.Equal(t, 1, emails(), "still within the window")
			s.now = func() time.Time { return first.Add(failedEvery) }
			failed(1)
			require.Equal(t, 2, emails(), "a window later, the next failure is emailed")
		})
	}
}
