package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// subscriptionObject is a Stripe subscription as a webhook carries it, for
// customer and price, without Koe's metadata unless userID is given.
func subscriptionObject(id, customer, price, status, userID string, now time.Time) map[string]any {
	metadata := map[string]any{}
	if userID != "" {
		metadata["user_id"] = userID
	}
	return map[string]any{
		"id": id, "object": "subscription", "status": status, "customer": customer, "cancel_at_period_end": false,
		"current_period_start": now.Add(-time.Hour).Unix(), "current_period_end": now.Add(30 * 24 * time.Hour).Unix(),
		"metadata": metadata, "items": map[string]any{"object": "list", "data": []any{map[string]any{
			"id": "si_" + id, "object": "subscription_item", "price": map[string]any{"id": price, "object": "price"},
		}}},
	}
}

// stripeCustomer is a user of srv with a Stripe customer, and their client.
func stripeCustomer(t *testing.T, srv *apptest.Server, email, customer string) (string, *apptest.Client) {
	t.Helper()
	userID, key := srv.NewUser(auth.RoleUser, email)
	_, err := srv.DB().NewRaw("UPDATE users SET stripe_customer_id = ? WHERE id = ?", customer, userID).Exec(context.Background())
	require.NoError(t, err)
	return userID, srv.Client(key)
}

// TestStripeSameSecondOrder replays, with validly signed events against a
// running server, the two orders the security review reproduced: a late
// customer.subscription.created(incomplete) after updated(active) of the
// same second used to move a paying customer to free, and a late
// updated(active) after deleted(canceled) used to revive a canceled
// accepted returns a function that sends a validly signed Stripe event to
// srv and requires a 200.
func accepted(t *testing.T, srv *apptest.Server) func(body []byte) {
	return func(body []byte) {
		t.Helper()
		require.Equal(t, http.StatusOK, srv.PostStripe(body, apptest.StripeWebhookSecret, time.Now()))
	}
}

// subscription.
func TestStripeSameSecondOrder(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, apptest.StripeMock(t))
			sellable(t, srv)
			post := accepted(t, srv)
			T := time.Now().Truncate(time.Second)

			_, payer := stripeCustomer(t, srv, "payer@example.com", "cus_payer")
			require.Equal(t, "free", state(t, payer).Me.Plan.Code)
			post(apptest.StripeEvent("evt_payer_updated", "customer.subscription.updated", T,
				subscriptionObject("sub_payer", "cus_payer", "price_starter", "active", "", T)))
			require.Equal(t, "starter", state(t, payer).Me.Plan.Code)
			post(apptest.StripeEvent("evt_payer_created", "customer.subscription.created", T,
				subscriptionObject("sub_payer", "cus_payer", "price_starter", "incomplete", "", T)))
			s := state(t, payer)
			require.Equal(t, "starter", s.Me.Plan.Code, "a late created(incomplete) does not undo the payment")
			require.Equal(t, "ACTIVE", s.Me.Subscription.Status)

			_, leaver := stripeCustomer(t, srv, "leaver@example.com", "cus_leaver")
			post(apptest.StripeEvent("evt_leaver_updated", "customer.subscription.updated", T,
				subscriptionObject("sub_leaver", "cus_leaver", "price_starter", "active", "", T)))
			require.Equal(t, "starter", state(t, leaver).Me.Plan.Code)
			post(apptest.StripeEvent("evt_leaver_deleted", "customer.subscription.deleted", T,
				subscriptionObject("sub_leaver", "cus_leaver", "price_starter", "canceled", "", T)))
			require.Equal(t, "free", state(t, leaver).Me.Plan.Code)
			post(apptest.StripeEvent("evt_leaver_late", "customer.subscription.updated", T,
				subscriptionObject("sub_leaver", "cus_leaver", "price_starter", "active", "", T)))
			s = state(t, leaver)
			require.Equal(t, "free", s.Me.Plan.Code, "a canceled subscription is not revived")
			require.Equal(t, "CANCELED", s.Me.Subscription.Status)

			// Even an event made seconds later does not revive it: Stripe
			// never leaves canceled.
			post(apptest.StripeEvent("evt_leaver_later", "customer.subscription.updated", T.Add(5*time.Second),
				subscriptionObject("sub_leaver", "cus_leaver", "price_starter", "active", "", T)))
			require.Equal(t, "CANCELED", state(t, leaver).Me.Subscription.Status)
		})
	}
}

// TestStripeEventsWaitForTheirMapping: an event for a customer Koe has not
// mapped yet (it arrives before the checkout that maps it) or for a price
// no plan sells yet is kept, not dropped, and applied once when the mapping
// appears: by the checkout session's webhook, by an operator setting the
// plan's Stripe price.
func TestStripeEventsWaitForTheirMapping(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, apptest.StripeMock(t))
			sellable(t, srv)
			post := accepted(t, srv)
			pending := func() int { return count(t, srv, "SELECT count(*) FROM stripe_pending_events") }
			now := time.Now()

			// The subscription's events come before the checkout session's.
			early, key := srv.NewUser(auth.RoleUser, "early@example.com")
			c := srv.Client(key)
			post(apptest.StripeEvent("evt_early_sub", "customer.subscription.created", now,
				subscriptionObject("sub_early", "cus_early", "price_starter", "active", "", now)))
			invoice := map[string]any{"id": "in_early", "object": "invoice", "customer": "cus_early", "amount_paid": 900, "amount_due": 900, "currency": "usd"}
			post(apptest.StripeEvent("evt_early_invoice", "invoice.paid", now, invoice))
			require.Equal(t, "free", state(t, c).Me.Plan.Code, "nobody is known to be cus_early yet")
			require.Equal(t, 2, pending())

			session := map[string]any{"id": "cs_early", "object": "checkout.session", "mode": "subscription", "payment_status": "paid",
				"customer": "cus_early", "subscription": "sub_early", "metadata": map[string]any{"user_id": early}}
			completed := apptest.StripeEvent("evt_early_checkout", "checkout.session.completed", now, session)
			post(completed)
			s := state(t, c)
			require.Equal(t, "starter", s.Me.Plan.Code, "the waiting subscription counts once the customer is known")
			require.Equal(t, "ACTIVE", s.Me.Subscription.Status)
			require.Equal(t, 1, count(t, srv, "SELECT count(*) FROM invoices WHERE user_id = ?", early), "the waiting invoice too")
			require.Zero(t, pending())
			post(completed) // redelivered: nothing more
			require.Equal(t, 1, count(t, srv, "SELECT count(*) FROM domain_events WHERE user_id = ? AND kind = 'billing.plan_changed'", early))

			// A subscription to a price no plan sells yet.
			_, later := stripeCustomer(t, srv, "team@example.com", "cus_team")
			post(apptest.StripeEvent("evt_team_sub", "customer.subscription.created", now,
				subscriptionObject("sub_team", "cus_team", "price_team", "active", "", now)))
			require.Equal(t, "free", state(t, later).Me.Plan.Code)
			require.Equal(t, 1, pending())
			srv.Client(apptest.AdminKey).Must(`mutation { upsertPlan(input: {code: "team", name: "Team", monthlyPriceCents: 4900, currency: "usd",
				includedCharacters: 1000000, maxConcurrentGenerations: 8, maxCharactersPerGeneration: 20000, stripePriceId: "price_team"}) { code } }`, nil, nil)
			s = state(t, later)
			require.Equal(t, "team", s.Me.Plan.Code, "setting the price applies what waited for it")
			require.Equal(t, "team", s.Me.Subscription.Plan.Code)
			require.Zero(t, pending())
		})
	}
}
