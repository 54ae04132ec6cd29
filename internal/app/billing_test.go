package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/koe-voice/koe/internal/apptest"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/store/storetest"
)

const checkout = `mutation($in: CheckoutInput!) { createCheckoutSession(input: $in) { id url } }`

// TestBillingNotConfigured: without Stripe, checkout and portal say so and
// the free plan keeps working.
func TestBillingNotConfigured(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	_, key := srv.NewUser(auth.RoleUser, "free@example.com")
	c := srv.Client(key)
	r := c.Do(checkout, map[string]any{"in": map[string]any{"planCode": "pro", "successUrl": "https://a.test/ok", "cancelUrl": "https://a.test/no"}})
	require.Equal(t, "BILLING_NOT_CONFIGURED", r.Errors[0].Code())
	r = c.Do(`mutation { createBillingPortalSession(returnUrl: "https://a.test") { url } }`, nil)
	require.Equal(t, "BILLING_NOT_CONFIGURED", r.Errors[0].Code())
	require.Equal(t, http.StatusServiceUnavailable, srv.PostStripe([]byte(`{}`), apptest.StripeWebhookSecret, time.Now()))
	var out struct {
		Usage struct{ IncludedCharacters int }
	}
	c.Must(`{ usage { includedCharacters } }`, nil, &out)
	require.Equal(t, 20000, out.Usage.IncludedCharacters)
	require.Empty(t, purchasable(t, c), "nothing can be bought without billing")
}

// purchasable lists the codes of the plans and credit packs that say they
// can be bought.
func purchasable(t *testing.T, c *apptest.Client) []string {
	t.Helper()
	var out struct {
		Plans, CreditPacks []struct {
			Code        string
			Purchasable bool
		}
	}
	c.Must(`{ plans { code purchasable } creditPacks { code purchasable } }`, nil, &out)
	var codes []string
	for _, p := range append(out.Plans, out.CreditPacks...) {
		if p.Purchasable {
			codes = append(codes, p.Code)
		}
	}
	return codes
}

// TestUpsertPlanKeepsWhatIsLeftOut: an operator editing a plan without
// retyping its Stripe price or its limits keeps them; an empty price removes
// it; only operators see the price; bad limits name their field.
func TestUpsertPlanKeepsWhatIsLeftOut(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, nil)
	admin := srv.Client(apptest.AdminKey)
	type plan struct {
		StripePriceID                                      *string
		RequestsPerMinute, MaxWebsockets, MaxSubscriptions int
		Name                                               string
	}
	upsert := func(extra string) plan {
		var out struct{ UpsertPlan plan }
		admin.Must(`mutation { upsertPlan(input: {code: "team", name: "Team", monthlyPriceCents: 4900, currency: "usd",
			includedCharacters: 1000000, maxConcurrentGenerations: 8, maxCharactersPerGeneration: 20000`+extra+`}) {
			name stripePriceId requestsPerMinute maxWebsockets maxSubscriptions } }`, nil, &out)
		return out.UpsertPlan
	}
	created := upsert(``)
	require.Nil(t, created.StripePriceID)
	require.Equal(t, plan{RequestsPerMinute: 60, MaxWebsockets: 5, MaxSubscriptions: 20, Name: "Team"}, created, "a new plan's defaults")

	set := upsert(`, stripePriceId: "price_team", requestsPerMinute: 300, maxWebsockets: 10, maxSubscriptions: 50`)
	require.Equal(t, "price_team", *set.StripePriceID)
	require.Equal(t, 300, set.RequestsPerMinute)

	kept := upsert(``)
	require.NotNil(t, kept.StripePriceID, "left out, the price stays")
	require.Equal(t, "price_team", *kept.StripePriceID)
	require.Equal(t, plan{StripePriceID: kept.StripePriceID, RequestsPerMinute: 300, MaxWebsockets: 10, MaxSubscriptions: 50, Name: "Team"}, kept)

	require.Nil(t, upsert(`, stripePriceId: ""`).StripePriceID, "an empty price removes it")

	r := admin.Do(`mutation { upsertPlan(input: {code: "team", name: "Team", monthlyPriceCents: 4900, currency: "usd",
		includedCharacters: 1000000, maxConcurrentGenerations: 8, maxCharactersPerGeneration: 20000, maxWebsockets: 0}) { id } }`, nil)
	require.Len(t, r.Errors, 1)
	require.Equal(t, "input.maxWebsockets", r.Errors[0].Field())
	require.Equal(t, 10, upsert(``).MaxWebsockets, "the refused change changed nothing")

	_, key := srv.NewUser(auth.RoleUser, "shopper@example.com")
	user := srv.Client(key)
	user.Must(`{ plans { code name } }`, nil, nil)
	r = user.Do(`{ plans { code stripePriceId } }`, nil)
	require.NotEmpty(t, r.Errors)
	require.Equal(t, "FORBIDDEN", r.Errors[0].Code(), "only operators see Stripe prices")
}

// sellable puts Stripe prices on the starter plan and the small credit pack.
func sellable(t *testing.T, srv *apptest.Server) {
	t.Helper()
	ctx := context.Background()
	_, err := srv.DB().NewRaw("UPDATE plans SET stripe_price_id = 'price_starter' WHERE code = 'starter'").Exec(ctx)
	require.NoError(t, err)
	var pack struct{ UpsertCreditPack struct{ Code string } }
	srv.Client(apptest.AdminKey).Must(`mutation { upsertCreditPack(input: {code: "credits-100k", name: "100,000 characters",
		characters: 100000, priceCents: 500, currency: "usd", stripePriceId: "price_100k"}) { code } }`, nil, &pack)
	require.Equal(t, "credits-100k", pack.UpsertCreditPack.Code)
}

// TestCheckoutAndPortal against stripe-mock: a customer is made once per
// user and reused; checkout works for plans and packs; bad input names the
// field.
func TestCheckoutAndPortal(t *testing.T) {
	t.Parallel()
	srv := apptest.Boot(t, storetest.SQLite, apptest.StripeMock(t))
	sellable(t, srv)
	userID, key := srv.NewUser(auth.RoleUser, "buyer@example.com")
	c := srv.Client(key)
	require.ElementsMatch(t, []string{"starter", "credits-100k"}, purchasable(t, c), "what has a Stripe price can be bought")
	urls := map[string]any{"successUrl": "https://app.koe.test/billing/success", "cancelUrl": "https://app.koe.test/billing"}
	with := func(extra map[string]any) map[string]any {
		in := map[string]any{}
		for k, v := range urls {
			in[k] = v
		}
		for k, v := range extra {
			in[k] = v
		}
		return map[string]any{"in": in}
	}
	var sess struct{ CreateCheckoutSession struct{ ID, URL string } }
	c.Must(checkout, with(map[string]any{"planCode": "starter"}), &sess)
	require.True(t, strings.HasPrefix(sess.CreateCheckoutSession.ID, "cs_"), sess.CreateCheckoutSession.ID)
	require.NotEmpty(t, sess.CreateCheckoutSession.URL)
	c.Must(checkout, with(map[string]any{"creditPackCode": "credits-100k"}), &sess)

	var customer string
	require.NoError(t, srv.DB().NewRaw("SELECT stripe_customer_id FROM users WHERE id = ?", userID).Scan(context.Background(), &customer))
	require.True(t, strings.HasPrefix(customer, "cus_"))

	var portal struct{ CreateBillingPortalSession struct{ URL string } }
	c.Must(`mutation { createBillingPortalSession(returnUrl: "https://app.koe.test/billing") { url } }`, nil, &portal)
	require.NotEmpty(t, portal.CreateBillingPortalSession.URL)

	for _, tc := range []struct {
		name  string
		in    map[string]any
		field string
	}{
		{"both", with(map[string]any{"planCode": "starter", "creditPackCode": "credits-100k"}), "input.planCode"},
		{"neither", with(nil), "input.planCode"},
		{"a plan not sold", with(map[string]any{"planCode": "pro"}), "input.planCode"},
		{"a pack not sold", with(map[string]any{"creditPackCode": "credits-1m"}), "input.creditPackCode"},
		{"a relative success URL", map[string]any{"in": map[string]any{"planCode": "starter", "successUrl": "/ok", "cancelUrl": "https://a.test"}}, "input.successUrl"},
	} {
		r := c.Do(checkout, tc.in)
		require.Len(t, r.Errors, 1, tc.name)
		require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code(), tc.name)
		require.Equal(t, tc.field, r.Errors[0].Field(), tc.name)
	}
}

type billingState struct {
	Me struct {
		Plan         struct{ Code string }
		Subscription *struct {
			Status            string
			CancelAtPeriodEnd bool
			Plan              struct{ Code string }
		}
		Usage struct{ CreditCharacters int }
	}
}

func state(t *testing.T, c *apptest.Client) billingState {
	t.Helper()
	var s billingState
	c.Must(`{ me { plan { code } subscription { status cancelAtPeriodEnd plan { code } } usage { creditCharacters } } }`, nil, &s)
	return s
}

func count(t *testing.T, srv *apptest.Server, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, srv.DB().NewRaw(query, args...).Scan(context.Background(), &n))
	return n
}

// TestStripeWebhooks: each handled event changes what it should, once,
// whatever the order; bad signatures change nothing.
func TestStripeWebhooks(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, apptest.StripeMock(t))
			sellable(t, srv)
			userID, key := srv.NewUser(auth.RoleUser, "subscriber@example.com")
			c := srv.Client(key)
			_, err := srv.DB().NewRaw("UPDATE users SET stripe_customer_id = 'cus_koe1' WHERE id = ?", userID).Exec(context.Background())
			require.NoError(t, err)
			secret, now := apptest.StripeWebhookSecret, time.Now()
			post := func(body []byte) { require.Equal(t, http.StatusOK, srv.PostStripe(body, secret, time.Now())) }
			sub := func(status string, cancelAtEnd bool) map[string]any {
				return map[string]any{
					"id": "sub_1", "object": "subscription", "status": status, "customer": "cus_koe1", "cancel_at_period_end": cancelAtEnd,
					"current_period_start": now.Add(-time.Hour).Unix(), "current_period_end": now.Add(30 * 24 * time.Hour).Unix(),
					"metadata": map[string]any{}, "items": map[string]any{"object": "list", "data": []any{map[string]any{
						"id": "si_1", "object": "subscription_item", "price": map[string]any{"id": "price_starter", "object": "price"},
					}}},
				}
			}

			// Out of order: the update (newer) arrives before the creation.
			updated := apptest.StripeEvent("evt_sub_updated", "customer.subscription.updated", now.Add(10*time.Second), sub("active", true))
			created := apptest.StripeEvent("evt_sub_created", "customer.subscription.created", now, sub("incomplete", false))
			post(updated)
			post(created)
			s := state(t, c)
			require.Equal(t, "starter", s.Me.Plan.Code)
			require.Equal(t, "ACTIVE", s.Me.Subscription.Status, "the newer event wins")
			require.True(t, s.Me.Subscription.CancelAtPeriodEnd)
			var u struct {
				Usage struct{ IncludedCharacters int }
			}
			c.Must(`{ usage { includedCharacters } }`, nil, &u)
			require.Equal(t, 500000, u.Usage.IncludedCharacters, "the period follows the subscription, with the plan's characters")

			// The same event again: answered 200, no second effect.
			post(updated)
			require.Equal(t, 1, count(t, srv, "SELECT count(*) FROM domain_events WHERE user_id = ? AND kind = 'billing.plan_changed'", userID))

			// A credit pack paid later (async): credits once, on success.
			session := map[string]any{"id": "cs_pack1", "object": "checkout.session", "mode": "payment", "payment_status": "unpaid",
				"customer": "cus_koe1", "amount_total": 500, "currency": "usd", "metadata": map[string]any{"user_id": userID, "credit_pack": "credits-100k"}}
			post(apptest.StripeEvent("evt_cs_completed", "checkout.session.completed", now, session))
			require.Equal(t, 0, state(t, c).Me.Usage.CreditCharacters, "not paid yet")
			session["payment_status"] = "paid"
			paid := apptest.StripeEvent("evt_cs_paid", "checkout.session.async_payment_succeeded", now, session)
			post(paid)
			post(paid)
			require.Equal(t, 100000, state(t, c).Me.Usage.CreditCharacters)

			// A subscriber changes plans in the portal; a second Checkout
			// would bill twice.
			r := c.Do(checkout, map[string]any{"in": map[string]any{"planCode": "starter", "successUrl": "https://a.test/ok", "cancelUrl": "https://a.test/no"}})
			require.Len(t, r.Errors, 1)
			require.Equal(t, "CONFLICT", r.Errors[0].Code())

			// Invoices: revenue recorded once; a failed payment is an event.
			invoice := map[string]any{"id": "in_1", "object": "invoice", "customer": "cus_koe1", "amount_paid": 900, "amount_due": 900, "currency": "usd"}
			post(apptest.StripeEvent("evt_in_paid", "invoice.paid", now, invoice))
			post(apptest.StripeEvent("evt_in_paid_again", "invoice.paid", now, invoice))
			require.Equal(t, 1, count(t, srv, "SELECT count(*) FROM invoices WHERE user_id = ?", userID))
			invoice["id"] = "in_2"
			post(apptest.StripeEvent("evt_in_failed", "invoice.payment_failed", now, invoice))
			require.Equal(t, 1, count(t, srv, "SELECT count(*) FROM domain_events WHERE user_id = ? AND kind = 'billing.payment_failed'", userID))

			// Unknown types are acknowledged and ignored.
			post(apptest.StripeEvent("evt_unknown", "customer.tax_id.created", now, map[string]any{"id": "txi_1"}))

			// Bad signatures: 400, nothing stored.
			events := count(t, srv, "SELECT count(*) FROM stripe_events")
			deleted := apptest.StripeEvent("evt_sub_deleted", "customer.subscription.deleted", now.Add(time.Minute), sub("canceled", false))
			require.Equal(t, http.StatusBadRequest, srv.PostStripe(deleted, "whsec_wrong", time.Now()), "wrong secret")
			require.Equal(t, http.StatusBadRequest, srv.PostStripe(deleted, secret, time.Now().Add(-10*time.Minute)), "stale signature")
			signedElsewhere := apptest.StripeEvent("evt_sub_deleted", "customer.subscription.deleted", now.Add(time.Minute), sub("active", false))
			tampered := []byte(strings.Replace(string(signedElsewhere), `"active"`, `"canceled"`, 1))
			require.NotEqual(t, signedElsewhere, tampered)
			require.Equal(t, http.StatusBadRequest, postTampered(t, srv, signedElsewhere, tampered), "tampered body")
			require.Equal(t, events, count(t, srv, "SELECT count(*) FROM stripe_events"))
			require.Equal(t, "starter", state(t, c).Me.Plan.Code)

			// The real deletion puts the user back on the free plan.
			post(deleted)
			s = state(t, c)
			require.Equal(t, "free", s.Me.Plan.Code)
			require.Equal(t, "CANCELED", s.Me.Subscription.Status)
		})
	}
}

// postTampered signs one body and sends another.
func postTampered(t *testing.T, srv *apptest.Server, signed, sent []byte) int {
	t.Helper()
	return srv.PostStripeSigned(signed, sent, apptest.StripeWebhookSecret)
}

// TestKPIs: the operators' figures count what happened in the range, per
// day, on both databases.
func TestKPIs(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			srv := apptest.Boot(t, kind, nil)
			ctx := context.Background()
			exec := func(q string, args ...any) {
				_, err := srv.DB().NewRaw(q, args...).Exec(ctx)
				require.NoError(t, err, q)
			}
			day1 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
			day2 := day1.Add(24 * time.Hour)
			outside := day1.Add(-48 * time.Hour)
			a, _ := srv.NewUser(auth.RoleUser, "a@example.com")
			b, _ := srv.NewUser(auth.RoleUser, "b@example.com")
			exec("UPDATE users SET created_at = ? WHERE id = ?", day1, a)
			exec("UPDATE users SET created_at = ? WHERE id = ?", day2, b)
			gen := func(id, owner, status string, at time.Time) {
				exec(`INSERT INTO generations (id, owner_id, voice_id, text, characters, format, speed, pitch, status, created_at)
					VALUES (?, ?, 'espeak-ng:en-us', 'x', 1, 'WAV', 1, 0, ?, ?)`, id, owner, status, at)
			}
			gen("gen_06h1qwqndsv8x1hzxnmwhpkn01", a, "SUCCEEDED", day1)
			gen("gen_06h1qwqndsv8x1hzxnmwhpkn02", a, "SUCCEEDED", day1)
			gen("gen_06h1qwqndsv8x1hzxnmwhpkn03", b, "FAILED", day2)
			gen("gen_06h1qwqndsv8x1hzxnmwhpkn04", b, "SUCCEEDED", outside)
			exec("INSERT INTO usage_days (user_id, day, characters, generations) VALUES (?, '2026-03-10', 700, 2), (?, '2026-03-08', 999, 1)", a, b)
			exec(`INSERT INTO subscriptions (id, user_id, plan_code, status, current_period_start, current_period_end, cancel_at_period_end, event_created, updated_at)
				VALUES ('sub_a', ?, 'pro', 'active', ?, ?, FALSE, 1, ?), ('sub_b', ?, 'starter', 'canceled', ?, ?, FALSE, 1, ?)`,
				a, day1, day1.AddDate(0, 1, 0), day1, b, day1, day1.AddDate(0, 1, 0), day1)
			exec("INSERT INTO invoices (id, user_id, amount_cents, currency, paid_at) VALUES ('in_a', ?, 2900, 'usd', ?)", a, day2)

			var out struct {
				Kpis struct {
					MrrCents, ActiveSubscriptions, NewUsers, Generations, CharactersGenerated int
					SuccessRate                                                               float64
					Daily                                                                     []struct {
						Date                                            string
						NewUsers, Generations, Characters, RevenueCents int
					}
				}
			}
			admin := srv.Client(apptest.AdminKey)
			admin.Must(`query($from: Time!, $to: Time!) { kpis(from: $from, to: $to) { mrrCents activeSubscriptions newUsers generations
				charactersGenerated successRate daily { date newUsers generations characters revenueCents } } }`,
				map[string]any{"from": "2026-03-10T00:00:00Z", "to": "2026-03-12T00:00:00Z"}, &out)
			k := out.Kpis
			require.Equal(t, 2900, k.MrrCents, "the active pro subscription")
			require.Equal(t, 1, k.ActiveSubscriptions)
			require.Equal(t, 2, k.NewUsers)
			require.Equal(t, 3, k.Generations)
			require.Equal(t, 700, k.CharactersGenerated)
			require.InDelta(t, 2.0/3.0, k.SuccessRate, 1e-9)
			require.Len(t, k.Daily, 2)
			require.Equal(t, "2026-03-10", k.Daily[0].Date)
			require.Equal(t, 1, k.Daily[0].NewUsers)
			require.Equal(t, 2, k.Daily[0].Generations)
			require.Equal(t, 700, k.Daily[0].Characters)
			require.Equal(t, "2026-03-11", k.Daily[1].Date)
			require.Equal(t, 2900, k.Daily[1].RevenueCents)

			r := admin.Do(`{ kpis(from: "2026-03-12T00:00:00Z", to: "2026-03-10T00:00:00Z") { newUsers } }`, nil)
			require.Equal(t, "BAD_USER_INPUT", r.Errors[0].Code())
			require.Equal(t, "to", r.Errors[0].Field())
		})
	}
}
