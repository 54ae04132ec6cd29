package notification

import (
	"context"
	"database/sql"
	"log/slog"
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
			userID := gid.New(gid.User)
			_, err := db.NewRaw("INSERT INTO users (id, email, role, plan_code, locale, created_at) VALUES (?, 'once@koe.test', 'USER', 'free', 'en', ?)",
				userID, time.Now()).Exec(ctx)
			require.NoError(t, err)
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

func pageOf(n int) page.Request { return page.Request{First: n} }
