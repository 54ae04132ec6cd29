package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/store/storetest"
)

const orderSecret = "whsec_order_test"

// signed is a subscription event for customer cus_<userID> on the starter
// plan's price, made at created and signed at signedAt.
func signed(userID, eventID, typ, status string, created, signedAt time.Time) ([]byte, string) {
	body, _ := json.Marshal(map[string]any{
		"id": eventID, "object": "event", "api_version": stripe.APIVersion, "created": created.Unix(), "type": typ,
		"data": map[string]any{"object": map[string]any{
			"id": "sub_" + userID, "object": "subscription", "status": status, "customer": "cus_" + userID,
			"current_period_start": created.Unix(), "current_period_end": created.AddDate(0, 1, 0).Unix(),
			"items": map[string]any{"object": "list", "data": []any{map[string]any{
				"id": "si_1", "object": "subscription_item", "price": map[string]any{"id": "price_order_starter", "object": "price"},
			}}},
		}},
	})
	sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: orderSecret, Timestamp: signedAt})
	return body, sig.Header
}

// TestSubscriptionEventOrder: whatever order Stripe's events arrive in, the
// subscription ends in the state Stripe last gave it — events of the same
// second included — and a canceled or expired subscription stays over.
func TestSubscriptionEventOrder(t *testing.T) {
	t.Parallel()
	type event struct {
		status string
		at     int // seconds after T
	}
	tests := []struct {
		name          string
		first, second event
		want          string
	}{
		// The same second: incomplete is first in a subscription's life.
		{"late created(incomplete) after active", event{"active", 0}, event{"incomplete", 0}, "active"},
		{"late created(incomplete) after past_due", event{"past_due", 0}, event{"incomplete", 0}, "past_due"},
		{"late created(incomplete) after trialing", event{"trialing", 0}, event{"incomplete", 0}, "trialing"},
		{"incomplete then active", event{"incomplete", 0}, event{"active", 0}, "active"},
		{"incomplete twice", event{"incomplete", 0}, event{"incomplete", 0}, "incomplete"},
		{"trialing then active", event{"trialing", 0}, event{"active", 0}, "active"},
		{"active then past_due", event{"active", 0}, event{"past_due", 0}, "past_due"},
		{"past_due then active", event{"past_due", 0}, event{"active", 0}, "active"},
		{"unpaid then active", event{"unpaid", 0}, event{"active", 0}, "active"},
		// Final states stay, whenever the other event was made.
		{"late active after canceled", event{"canceled", 0}, event{"active", 0}, "canceled"},
		{"newer active after canceled", event{"canceled", 0}, event{"active", 10}, "canceled"},
		{"late incomplete after canceled", event{"canceled", 0}, event{"incomplete", 0}, "canceled"},
		{"active after incomplete_expired", event{"incomplete_expired", 0}, event{"active", 10}, "incomplete_expired"},
		{"canceled after active", event{"active", 0}, event{"canceled", 0}, "canceled"},
		{"canceled made before a newer active", event{"active", 10}, event{"canceled", 0}, "canceled"},
		{"incomplete_expired after incomplete", event{"incomplete", 0}, event{"incomplete_expired", 0}, "incomplete_expired"},
		// Other seconds: the newer wins.
		{"older incomplete after active", event{"active", 10}, event{"incomplete", 0}, "active"},
		{"older past_due after active", event{"active", 10}, event{"past_due", 0}, "active"},
		{"newer active after incomplete", event{"incomplete", 0}, event{"active", 10}, "active"},
		{"newer past_due after active", event{"active", 0}, event{"past_due", 10}, "past_due"},
	}
	entitledPlan := func(status string) string {
		if status == "active" || status == "trialing" || status == "past_due" {
			return "starter"
		}
		return "free"
	}
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.Open(t, kind)
			_, err := db.NewRaw("UPDATE plans SET stripe_price_id = 'price_order_starter' WHERE code = 'starter'").Exec(ctx)
			require.NoError(t, err)
			s := NewStripe(StripeConfig{SecretKey: "sk_test_order", WebhookSecret: orderSecret}, db, NewPlans(db), nil, slog.New(slog.DiscardHandler))
			T := time.Now().Add(-time.Hour).Truncate(time.Second)
			for i, tc := range tests {
				userID := gid.New(gid.User)
				_, err := db.NewRaw("INSERT INTO users (id, role, plan_code, stripe_customer_id, created_at) VALUES (?, 'USER', 'free', ?, ?)",
					userID, "cus_"+userID, time.Now()).Exec(ctx)
				require.NoError(t, err)
				for j, e := range []event{tc.first, tc.second} {
					typ := "customer.subscription.updated"
					if e.status == "canceled" {
						typ = "customer.subscription.deleted"
					}
					body, header := signed(userID, fmt.Sprintf("evt_%d_%d_%s", i, j, userID), typ, e.status, T.Add(time.Duration(e.at)*time.Second), time.Now())
					require.NoError(t, s.HandleWebhook(ctx, body, header), tc.name)
				}
				var got struct {
					Status string `bun:"status"`
					Plan   string `bun:"plan_code"`
				}
				require.NoError(t, db.NewRaw("SELECT s.status, u.plan_code FROM subscriptions AS s JOIN users AS u ON u.id = s.user_id WHERE s.user_id = ?", userID).Scan(ctx, &got))
				require.Equal(t, tc.want, got.Status, tc.name)
				require.Equal(t, entitledPlan(tc.want), got.Plan, tc.name)
			}
		})
	}
}

// TestWebhookFromTheFuture: a genuine signature dated more than five
// minutes ahead is refused like a stale one; within five minutes (clock
// drift) it is accepted.
func TestWebhookFromTheFuture(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite)
	s := NewStripe(StripeConfig{SecretKey: "sk_test_order", WebhookSecret: orderSecret}, db, NewPlans(db), nil, slog.New(slog.DiscardHandler))
	userID := gid.New(gid.User)
	for name, tc := range map[string]struct {
		at   time.Duration
		want error
	}{
		"ten minutes ahead":  {10 * time.Minute, ErrBadSignature},
		"six minutes ahead":  {6 * time.Minute, ErrBadSignature},
		"ten minutes ago":    {-10 * time.Minute, ErrBadSignature},
		"four minutes ahead": {4 * time.Minute, nil},
		"now":                {0, nil},
	} {
		body, header := signed(userID, "evt_future_"+name, "customer.subscription.updated", "active", time.Now(), time.Now().Add(tc.at))
		err := s.HandleWebhook(ctx, body, header)
		require.True(t, errors.Is(err, tc.want), "%s: %v", name, err)
	}
	var n int
	require.NoError(t, db.NewRaw("SELECT count(*) FROM stripe_events").Scan(ctx, &n))
	require.Equal(t, 2, n, "only the two in time were recorded")
}
