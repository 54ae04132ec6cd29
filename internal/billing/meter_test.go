package billing

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/store"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// recordingSender stands in for Stripe where the test must see what was
// sent; StripeMeter, the real sender, is tested against stripe-mock below.
type recordingSender struct {
	sent  []MeterEvent
	after func() // runs after each send, e.g. to crash the caller
}

func (r *recordingSender) Send(_ context.Context, e MeterEvent) error {
	r.sent = append(r.sent, e)
	if r.after != nil {
		r.after()
	}
	return nil
}

func overageUser(t *testing.T, db *store.DB, overage int64) (userID string, start time.Time) {
	t.Helper()
	ctx := context.Background()
	userID = gid.New(gid.User)
	_, err := db.NewRaw(`INSERT INTO users (id, role, plan_code, stripe_customer_id, created_at) VALUES (?, 'USER', 'starter', ?, ?)`,
		userID, "cus_"+userID, time.Now()).Exec(ctx)
	require.NoError(t, err)
	start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	_, err = db.NewRaw(`INSERT INTO usage_periods (user_id, period_start, period_end, included_characters, overage_allowed, used_characters, overage_characters)
		VALUES (?, ?, ?, 500000, TRUE, ?, ?)`, userID, start, start.AddDate(0, 1, 0), 500000+overage, overage).Exec(ctx)
	require.NoError(t, err)
	return userID, start
}

// TestMeterRetrySendsTheSameIdentifier: a crash after Stripe accepted a
// batch but before it was marked sent → the next run sends that batch again
// with the same identifier (Stripe keeps one), then nothing more; new
// overage is a new batch.
func TestMeterRetrySendsTheSameIdentifier(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, kind)
			userID, start := overageUser(t, db, 1200)
			sender := &recordingSender{}
			m := NewMeter(db, sender)

			crashed, crash := context.WithCancel(context.Background())
			sender.after = crash // the process dies right after Stripe answered
			require.Error(t, m.Report(crashed))
			require.Len(t, sender.sent, 1)
			first := sender.sent[0]
			require.EqualValues(t, 1200, first.Characters)
			require.Equal(t, "cus_"+userID, first.Customer)

			sender.after = nil
			require.NoError(t, m.Report(context.Background()))
			require.Len(t, sender.sent, 2)
			require.Equal(t, first.Identifier, sender.sent[1].Identifier, "the retry sends the same identifier")
			require.EqualValues(t, 1200, sender.sent[1].Characters)

			require.NoError(t, m.Report(context.Background()))
			require.Len(t, sender.sent, 2, "nothing left to send")

			_, err := db.NewRaw("UPDATE usage_periods SET overage_characters = overage_characters + 300 WHERE user_id = ? AND period_start = ?", userID, start).
				Exec(context.Background())
			require.NoError(t, err)
			require.NoError(t, m.Report(context.Background()))
			require.Len(t, sender.sent, 3)
			require.NotEqual(t, first.Identifier, sender.sent[2].Identifier)
			require.EqualValues(t, 300, sender.sent[2].Characters)
		})
	}
}

// TestStripeMeterSends: the real sender's request is accepted by stripe-mock.
func TestStripeMeterSends(t *testing.T) {
	t.Parallel()
	base := os.Getenv("KOE_TEST_STRIPE_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("stripe-mock is required under CI")
		}
		t.Skip("KOE_TEST_STRIPE_URL is not set")
	}
	s := NewStripe(StripeConfig{SecretKey: "sk_test_123", WebhookSecret: "whsec_x", APIBase: base}, nil, nil, nil, slog.New(slog.DiscardHandler))
	err := NewStripeMeter(s, "koe_characters").Send(context.Background(), MeterEvent{Identifier: "koe-test-1", Customer: "cus_1", Characters: 42, At: time.Now()})
	require.NoError(t, err)
}
