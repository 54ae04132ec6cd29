package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/email"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/mailpittest"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// insertClient is a River client that only inserts, as the outbox needs.
func insertClient(t *testing.T, db *store.DB) *river.Client[*sql.Tx] {
	t.Helper()
	var driver riverdriver.Driver[*sql.Tx] = riversqlite.New(db.DB.DB)
	if db.Postgres() {
		driver = riverdatabasesql.New(db.DB.DB)
	}
	c, err := river.NewClient(driver, &river.Config{})
	require.NoError(t, err)
	return c
}

func addUser(t *testing.T, db *store.DB, address string) string {
	t.Helper()
	id := gid.New(gid.User)
	_, err := db.NewRaw("INSERT INTO users (id, email, email_verified, role, plan_code, locale, created_at) VALUES (?, ?, TRUE, 'USER', 'free', 'en', ?)",
		id, address, time.Now()).Exec(context.Background())
	require.NoError(t, err)
	return id
}

// crashAfterSend delivers, then "kills the process": the context the worker
// goes on with is canceled before it can record the send.
type crashAfterSend struct {
	email.Sender
	crash context.CancelFunc
}

func (c crashAfterSend) Send(ctx context.Context, m email.Message) error {
	err := c.Sender.Send(ctx, m)
	c.crash()
	return err
}

// TestExactlyOnceAfterACrash: the worker dies between "sent" and
// "recorded"; the retry sends under the same Message-ID, and the mailbox
// has the message once.
func TestExactlyOnceAfterACrash(t *testing.T) {
	t.Parallel()
	mp := mailpittest.Open(t)
	db := storetest.Open(t, storetest.SQLite)
	smtp, err := email.NewSMTP(mp.SMTP, "Koe <no-reply@koe.test>")
	require.NoError(t, err)
	t.Cleanup(func() { _ = smtp.Close() })
	address := fmt.Sprintf("once-%d@outbox.koe.test", time.Now().UnixNano())
	userID := addUser(t, db, address)

	o := New(db, smtp, 100, slog.New(slog.DiscardHandler))
	o.SetJobs(insertClient(t, db))
	require.NoError(t, db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		return o.Enqueue(ctx, tx, Mail{ID: "m-once-" + userID, UserID: userID, Kind: "test", To: address, Subject: "Once", Text: "Only once."})
	}))

	crashed, crash := context.WithCancel(context.Background())
	job := &river.Job[SendArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: maxAttempts}, Args: SendArgs{ID: "m-once-" + userID}}
	o.sender = crashAfterSend{Sender: smtp, crash: crash}
	require.Error(t, NewSendWorker(o).Work(crashed, job), "the record step fails")

	o.sender = smtp
	job.Attempt = 2
	require.NoError(t, NewSendWorker(o).Work(context.Background(), job))
	mp.WaitFor(t, "to:"+address, 1, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 1, mp.Search(t, "to:"+address).MessagesCount, "exactly one message")
	var state string
	require.NoError(t, db.NewRaw("SELECT state FROM email_outbox WHERE id = ?", "m-once-"+userID).Scan(context.Background(), &state))
	require.Equal(t, StateSent, state)

	// A third run finds it sent and sends nothing.
	o.sender = crashAfterSend{Sender: smtp, crash: func() { t.Error("sent again") }}
	require.NoError(t, NewSendWorker(o).Work(context.Background(), job))
}

// sendFunc is a mail server in a function.
type sendFunc func(context.Context, email.Message) error

func (f sendFunc) Send(ctx context.Context, m email.Message) error { return f(ctx, m) }
func (sendFunc) Close() error                                      { return nil }

// TestCancelDuringAFailedAttempt: a broadcast canceled while one of its
// messages was being attempted, an attempt that failed for now, does not
// send that message later; the cancel counts it.
func TestCancelDuringAFailedAttempt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite)
	userID := addUser(t, db, fmt.Sprintf("cancel-%d@outbox.koe.test", time.Now().UnixNano()))
	o := New(db, nil, 100, slog.New(slog.DiscardHandler))
	o.SetJobs(insertClient(t, db))
	b := NewBroadcasts(o, nil)
	bc, err := b.Create(ctx, userID, BroadcastInput{Subject: "News", TextBody: "Hello."})
	require.NoError(t, err)
	id := "m-cancel-" + userID
	require.NoError(t, db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return o.Enqueue(ctx, tx, Mail{ID: id, UserID: userID, Kind: "broadcast", To: "x@outbox.koe.test", Subject: "News", Text: "Hello.", BroadcastID: &bc.ID})
	}))

	// The broadcast is canceled while the mail server is still answering,
	// and the answer is "try again later".
	o.sender = sendFunc(func(ctx context.Context, _ email.Message) error {
		if _, err := b.Cancel(ctx, bc.ID); err != nil {
			return err
		}
		return errors.New("421 try again later")
	})
	job := &river.Job[SendArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: maxAttempts}, Args: SendArgs{ID: id}}
	require.NoError(t, NewSendWorker(o).Work(ctx, job), "no retry for a canceled broadcast")
	var state string
	require.NoError(t, db.NewRaw("SELECT state FROM email_outbox WHERE id = ?", id).Scan(ctx, &state))
	require.Equal(t, StateCanceled, state)
	got, err := b.Get(ctx, bc.ID)
	require.NoError(t, err)
	require.Equal(t, 1, got.Canceled)

	// Had River run it again anyway, nothing would go out.
	o.sender = sendFunc(func(context.Context, email.Message) error {
		t.Error("sent after the cancel")
		return nil
	})
	job.Attempt = 2
	require.NoError(t, NewSendWorker(o).Work(ctx, job))
}

// TestOptimizeSendTime: each person gets the broadcast at the first time in
// their usual hour within 24 hours of sendAt; people without history at
// sendAt. Runs with an injected clock.
func TestOptimizeSendTime(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, kind)
			now := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
			sendAt := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			_, err := db.NewRaw(`INSERT INTO voices (id, engine, engine_voice_id, name, language, language_name, created_at, updated_at)
				VALUES ('v', 'e', 'v', 'V', 'en', 'English', ?, ?)`, now, now).Exec(ctx)
			require.NoError(t, err)
			users := map[string]int{} // user → the hour their generations happen
			for name, hour := range map[string]int{"afternoon": 15, "night": 3, "new": -1, "morning": 10} {
				id := addUser(t, db, name+"@hours.koe.test")
				_, err := db.NewRaw("INSERT INTO notification_preferences (user_id, product_news) VALUES (?, TRUE)", id).Exec(ctx)
				require.NoError(t, err)
				users[id] = hour
				for i := range 4 {
					if hour < 0 {
						break
					}
					at := time.Date(2026, 11, 20+i, hour, 17, 0, 0, time.UTC)
					_, err := db.NewRaw(`INSERT INTO generations (id, owner_id, voice_id, text, characters, format, speed, pitch, status, created_at)
						VALUES (?, ?, 'v', 'x', 1, 'WAV', 1, 0, 'SUCCEEDED', ?)`, gid.New(gid.Generation), id, at).Exec(ctx)
					require.NoError(t, err)
				}
				// One generation at another hour: the usual one wins.
				_, err = db.NewRaw(`INSERT INTO generations (id, owner_id, voice_id, text, characters, format, speed, pitch, status, created_at)
					VALUES (?, ?, 'v', 'x', 1, 'WAV', 1, 0, 'SUCCEEDED', ?)`, gid.New(gid.Generation), id, time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)).Exec(ctx)
				require.NoError(t, err)
				if hour < 0 {
					_, err = db.NewRaw("DELETE FROM generations WHERE owner_id = ?", id).Exec(ctx)
					require.NoError(t, err)
				}
			}
			o := New(db, email.NewLog(slog.New(slog.DiscardHandler)), 100, slog.New(slog.DiscardHandler))
			o.now = func() time.Time { return now }
			o.SetJobs(insertClient(t, db))
			b := NewBroadcasts(o, func(bc *Broadcast, r Recipient) (Mail, error) {
				return Mail{To: r.Email, Subject: bc.Subject, Text: bc.TextBody}, nil
			})
			bc, err := b.Create(ctx, "usr_admin", BroadcastInput{Subject: "News", TextBody: "Hello.", SendAt: &sendAt, OptimizeSendTime: true})
			require.NoError(t, err)

			require.NoError(t, b.Release(ctx))
			var fanned int
			require.NoError(t, db.NewRaw("SELECT count(*) FROM email_outbox").Scan(ctx, &fanned))
			require.Zero(t, fanned, "nothing before sendAt")

			now = sendAt
			require.NoError(t, b.Release(ctx))
			want := map[int]time.Time{
				15: time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC),
				3:  time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC),
				-1: sendAt,
				10: sendAt,
			}
			for id, hour := range users {
				var after time.Time
				require.NoError(t, db.NewRaw("SELECT send_after FROM email_outbox WHERE user_id = ?", id).Scan(ctx, &after))
				require.True(t, want[hour].Equal(after), "hour %d: want %s, got %s", hour, want[hour], after)
				require.False(t, after.Before(sendAt))
				require.True(t, after.Before(sendAt.Add(24*time.Hour)))
			}
			got, err := b.Get(ctx, bc.ID)
			require.NoError(t, err)
			require.Equal(t, BroadcastSending, got.Status)
			require.Equal(t, 4, got.Recipients)
		})
	}
}

// TestReleasesAtOnceCountOnce: two releases of the same broadcast at once (a
// slow one overlapping the next periodic run) enqueue each recipient once and
// count each once; on PostgreSQL they used to count a batch twice.
func TestReleasesAtOnceCountOnce(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, kind)
			const n = 40
			for i := range n {
				id := addUser(t, db, fmt.Sprintf("at-once-%d@outbox.koe.test", i))
				_, err := db.NewRaw("INSERT INTO notification_preferences (user_id, product_news) VALUES (?, TRUE)", id).Exec(ctx)
				require.NoError(t, err)
			}
			o := New(db, email.NewLog(slog.New(slog.DiscardHandler)), 100, slog.New(slog.DiscardHandler))
			o.SetJobs(insertClient(t, db))
			b := NewBroadcasts(o, func(bc *Broadcast, r Recipient) (Mail, error) {
				return Mail{To: r.Email, Subject: bc.Subject, Text: bc.TextBody}, nil
			})
			b.batch = 3
			bc, err := b.Create(ctx, "usr_admin", BroadcastInput{Subject: "News", TextBody: "Hello."})
			require.NoError(t, err)

			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() { require.NoError(t, b.Release(ctx)) })
			}
			wg.Wait()
			var queued int
			require.NoError(t, db.NewRaw("SELECT count(*) FROM email_outbox WHERE broadcast_id = ?", bc.ID).Scan(ctx, &queued))
			require.Equal(t, n, queued)
			got, err := b.Get(ctx, bc.ID)
			require.NoError(t, err)
			require.Equal(t, n, got.Recipients, "each recipient counted once")
		})
	}
}

// TestReviseWhilePending: a pending message can be rewritten (a digest that
// grew) and is sent as rewritten; once a worker has claimed it, it cannot,
// and what was sent is what the row says. A display name that is not plain
// words never reaches the To header.
func TestReviseWhilePending(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, kind)
			address := fmt.Sprintf("revise-%d@outbox.koe.test", time.Now().UnixNano())
			userID := addUser(t, db, address)
			o := New(db, nil, 100, slog.New(slog.DiscardHandler))
			o.SetJobs(insertClient(t, db))
			m := Mail{ID: "m-revise-" + userID, UserID: userID, Kind: "generation.digest", To: address,
				ToName: "Call +1-555-0100 now", Subject: "2 ready", Text: "2 more.", DigestCount: 2}
			revise := func(m Mail) (revised bool) {
				require.NoError(t, db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) (err error) {
					revised, err = o.Revise(ctx, tx, m)
					return err
				}))
				return revised
			}
			require.False(t, revise(m), "nothing to revise yet")
			require.NoError(t, db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return o.Enqueue(ctx, tx, m) }))
			m.Subject, m.Text, m.DigestCount = "3 ready", "3 more.", 3
			require.True(t, revise(m))

			var sent []email.Message
			o.sender = sendFunc(func(_ context.Context, got email.Message) error {
				m.Subject, m.Text, m.DigestCount = "4 ready", "4 more.", 4
				require.False(t, revise(m), "claimed: it goes out as it is")
				sent = append(sent, got)
				return nil
			})
			job := &river.Job[SendArgs]{JobRow: &rivertype.JobRow{Attempt: 1, MaxAttempts: maxAttempts}, Args: SendArgs{ID: m.ID}}
			require.NoError(t, NewSendWorker(o).Work(ctx, job))
			require.Len(t, sent, 1)
			require.Equal(t, "3 ready", sent[0].Subject)
			require.Equal(t, "3 more.", sent[0].Text)
			require.Empty(t, sent[0].ToName, "a phone number is no display name")

			var latest []*Queued
			require.NoError(t, db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				q, err := o.Latest(ctx, tx, userID, "generation.succeeded", "generation.digest")
				latest = append(latest, q)
				return err
			}))
			require.Equal(t, StateSent, latest[0].State)
			require.Equal(t, 3, latest[0].DigestCount)
		})
	}
}
