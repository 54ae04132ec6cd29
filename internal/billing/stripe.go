package billing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"
	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/metrics"
	"github.com/koe-voice/koe/internal/store"
)

// Credits is what billing needs of the usage ledger: adding purchased
// characters in the transaction that records the payment.
type Credits interface {
	AddCredits(ctx context.Context, db bun.IDB, userID string, characters int64) error
}

// Subscription is a user's Stripe subscription as Koe last heard of it.
type Subscription struct {
	bun.BaseModel `bun:"table:subscriptions"`

	ID                 string    `bun:"id,pk"`
	UserID             string    `bun:"user_id,notnull"`
	PlanCode           string    `bun:"plan_code,notnull"`
	Status             string    `bun:"status,notnull"`
	CurrentPeriodStart time.Time `bun:"current_period_start,notnull"`
	CurrentPeriodEnd   time.Time `bun:"current_period_end,notnull"`
	CancelAtPeriodEnd  bool      `bun:"cancel_at_period_end,notnull"`
	// EventCreated orders updates: an event older than the last applied one
	// changes nothing, so webhooks may arrive in any order.
	EventCreated int64     `bun:"event_created,notnull"`
	UpdatedAt    time.Time `bun:"updated_at,notnull"`
}

// entitled are the subscription states that keep the subscribed plan.
var entitled = []string{string(stripe.SubscriptionStatusActive), string(stripe.SubscriptionStatusTrialing), string(stripe.SubscriptionStatusPastDue)}

// StripeConfig is what Stripe needs.
type StripeConfig struct {
	SecretKey     string // STRIPE_SECRET_KEY
	WebhookSecret string // STRIPE_WEBHOOK_SECRET
	// APIBase is STRIPE_API_BASE, for stripe-mock in tests; empty: Stripe.
	APIBase string
}

// Stripe sells plans and credit packs through Stripe Checkout and applies
// what Stripe's webhooks report. Stripe is the source of truth for money;
// Koe records each event once, in the transaction of its effect.
type Stripe struct {
	api     *client.API
	secret  string
	db      *store.DB
	plans   *Plans
	credits Credits
	log     *slog.Logger
	now     func() time.Time

	onPlanChange func(ctx context.Context, userID string)
}

// OnPlanChange sets what happens after a webhook that may have changed a
// user's plan is committed: the app has every replica read the user again.
func (s *Stripe) OnPlanChange(f func(ctx context.Context, userID string)) {
	if s != nil {
		s.onPlanChange = f
	}
}

// NewStripe returns the Stripe integration; nil when no secret key is
// configured, in which case checkout and portal answer
// BILLING_NOT_CONFIGURED and the free plan keeps working.
func NewStripe(c StripeConfig, db *store.DB, plans *Plans, credits Credits, log *slog.Logger) *Stripe {
	if c.SecretKey == "" {
		return nil
	}
	var backends *stripe.Backends
	if c.APIBase != "" {
		base := c.APIBase
		backends = &stripe.Backends{
			API:     stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{URL: &base, LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}),
			Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, &stripe.BackendConfig{URL: &base}),
			Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, &stripe.BackendConfig{URL: &base}),
		}
	}
	s := &Stripe{
		api: client.New(c.SecretKey, backends), secret: c.WebhookSecret, db: db, plans: plans, credits: credits, log: log,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	if plans != nil {
		plans.stripe = s // setting a plan's price applies the events that waited for it
	}
	return s
}

var errNotConfigured = apperror.New(apperror.BillingNotConfigured, "payments are not configured on this server; the free plan works without them")

// CheckoutInput is what a person buys: exactly one of PlanCode and
// CreditPackCode.
type CheckoutInput struct {
	PlanCode       *string
	CreditPackCode *string
	SuccessURL     string
	CancelURL      string
}

func validURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return apperror.Invalid(field, "must be an absolute http(s) URL")
	}
	return nil
}

// CheckoutSession starts Stripe Checkout: subscription mode for a plan,
// payment mode for a credit pack.
func (s *Stripe) CheckoutSession(ctx context.Context, userID string, in CheckoutInput) (*stripe.CheckoutSession, error) {
	if s == nil {
		return nil, errNotConfigured
	}
	if (in.PlanCode == nil) == (in.CreditPackCode == nil) {
		return nil, apperror.Invalid("input.planCode", "give exactly one of planCode and creditPackCode")
	}
	if err := validURL("input.successUrl", in.SuccessURL); err != nil {
		return nil, err
	}
	if err := validURL("input.cancelUrl", in.CancelURL); err != nil {
		return nil, err
	}
	params := &stripe.CheckoutSessionParams{
		ClientReferenceID: stripe.String(userID),
		SuccessURL:        stripe.String(in.SuccessURL),
		CancelURL:         stripe.String(in.CancelURL),
		Metadata:          map[string]string{"user_id": userID},
	}
	var price *string
	if in.PlanCode != nil {
		pl, err := s.plans.Cached(ctx, *in.PlanCode)
		if err != nil {
			return nil, err
		}
		if pl == nil || pl.StripePriceID == nil {
			return nil, apperror.Invalid("input.planCode", "%q is not a plan sold here", *in.PlanCode)
		}
		sub, err := s.plans.SubscriptionOf(ctx, userID)
		if err != nil {
			return nil, err
		}
		if sub != nil && slices.Contains(entitled, sub.Status) {
			// A second Checkout would make a second subscription, billed twice.
			return nil, apperror.New(apperror.Conflict, "you already have a subscription; change plans in the billing portal (createBillingPortalSession)")
		}
		params.Mode = stripe.String(string(stripe.CheckoutSessionModeSubscription))
		params.SubscriptionData = &stripe.CheckoutSessionSubscriptionDataParams{Metadata: map[string]string{"user_id": userID}}
		price = pl.StripePriceID
	} else {
		pack, err := s.plans.CreditPack(ctx, *in.CreditPackCode)
		if err != nil {
			return nil, err
		}
		if pack == nil || pack.StripePriceID == nil {
			return nil, apperror.Invalid("input.creditPackCode", "%q is not a credit pack sold here", *in.CreditPackCode)
		}
		params.Mode = stripe.String(string(stripe.CheckoutSessionModePayment))
		params.Metadata["credit_pack"] = pack.Code
		price = pack.StripePriceID
	}
	params.LineItems = []*stripe.CheckoutSessionLineItemParams{{Price: price, Quantity: stripe.Int64(1)}}
	customer, err := s.customer(ctx, userID)
	if err != nil {
		return nil, err
	}
	params.Customer = stripe.String(customer)
	sess, err := s.api.CheckoutSessions.New(params)
	if err != nil {
		return nil, fmt.Errorf("stripe checkout: %w", err)
	}
	return sess, nil
}

// PortalSession opens Stripe's billing portal for the user.
func (s *Stripe) PortalSession(ctx context.Context, userID, returnURL string) (*stripe.BillingPortalSession, error) {
	if s == nil {
		return nil, errNotConfigured
	}
	if err := validURL("returnUrl", returnURL); err != nil {
		return nil, err
	}
	customer, err := s.customer(ctx, userID)
	if err != nil {
		return nil, err
	}
	sess, err := s.api.BillingPortalSessions.New(&stripe.BillingPortalSessionParams{Customer: stripe.String(customer), ReturnURL: stripe.String(returnURL)})
	if err != nil {
		return nil, fmt.Errorf("stripe portal: %w", err)
	}
	return sess, nil
}

// customer returns the user's Stripe customer, creating it once. The
// creation carries an idempotency key, so a retry after a crash between
// Stripe's answer and our write does not make a second customer. Recording
// it applies the events that waited for it. Stripe gets the address only
// when it is verified: Stripe mails receipts to it.
func (s *Stripe) customer(ctx context.Context, userID string) (string, error) {
	var row struct {
		Email    *string `bun:"email"`
		Verified bool    `bun:"email_verified"`
		Customer *string `bun:"stripe_customer_id"`
	}
	if err := s.db.NewSelect().Table("users").Column("email", "email_verified", "stripe_customer_id").Where("id = ?", userID).Scan(ctx, &row); err != nil {
		return "", fmt.Errorf("stripe customer: %w", err)
	}
	if row.Customer != nil {
		return *row.Customer, nil
	}
	params := &stripe.CustomerParams{Metadata: map[string]string{"user_id": userID}}
	if row.Verified {
		params.Email = row.Email
	}
	params.SetIdempotencyKey("koe-customer-" + userID)
	c, err := s.api.Customers.New(params)
	if err != nil {
		return "", fmt.Errorf("stripe customer: %w", err)
	}
	var stored string
	var changed []string
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if changed, err = s.mapCustomer(ctx, tx, userID, c.ID); err != nil {
			return err
		}
		return tx.NewSelect().Table("users").Column("stripe_customer_id").Where("id = ?", userID).Scan(ctx, &stored)
	})
	if err != nil {
		return "", fmt.Errorf("stripe customer: %w", err)
	}
	s.announce(ctx, changed)
	return stored, nil
}

// ErrBadSignature is returned for webhook requests Stripe did not sign
// with our secret, or signed too long ago or too far in the future.
var ErrBadSignature = apperror.New(apperror.BadUserInput, "the Stripe-Signature header does not verify this body")

// maxFutureSkew is how far ahead of our clock a webhook's signature time may
// be. stripe-go refuses signatures older than five minutes but not ones
// from the future, which would stay replayable for as long as they are
// ahead; five minutes covers clock drift.
const maxFutureSkew = 5 * time.Minute

// errFromTheFuture refuses a genuine signature whose time is too far ahead.
var errFromTheFuture = errors.New("the signature's timestamp is more than 5 minutes in the future")

// signedAt is the time of a Stripe-Signature header (its t= element).
func signedAt(header string) (time.Time, bool) {
	for _, part := range strings.Split(header, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == "t" {
			n, err := strconv.ParseInt(v, 10, 64)
			return time.Unix(n, 0), err == nil
		}
	}
	return time.Time{}, false
}

// HandleWebhook verifies an event on the raw body and applies it once: the
// event id is recorded under a unique key in the transaction of its effect,
// so a redelivered event answers success with no second effect. Unknown
// types are recorded and ignored; an event for a customer or a price Koe
// does not know yet is kept and applied when the mapping appears.
//
// The endpoint must be configured in Stripe with API version 2023-10-16, the
// version stripe-go v76 speaks; events of another version are refused (400)
// so a dashboard change cannot silently change the payloads we parse.
func (s *Stripe) HandleWebhook(ctx context.Context, body []byte, signature string) error {
	if s == nil {
		return errNotConfigured
	}
	event, err := webhook.ConstructEventWithOptions(body, signature, s.secret, webhook.ConstructEventOptions{})
	if t, ok := signedAt(signature); err == nil && (!ok || t.After(s.now().Add(maxFutureSkew))) {
		err = errFromTheFuture
	}
	if err != nil {
		s.log.WarnContext(ctx, "stripe webhook refused", "err", err)
		return ErrBadSignature
	}
	outcome := "applied"
	var changed []string
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewRaw("INSERT INTO stripe_events (id, type, created, received_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
			event.ID, string(event.Type), event.Created, s.now()).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			outcome = "duplicate"
			return nil
		}
		r, err := s.apply(ctx, tx, event)
		switch {
		case err != nil:
			return err
		case !r.handled:
			outcome = "ignored"
		case r.waits != nil:
			outcome = "pending"
			return s.keep(ctx, tx, event, r.waits)
		}
		changed = r.changed
		return nil
	})
	if err == nil {
		metrics.StripeWebhooks.WithLabelValues(outcome).Inc()
		s.announce(ctx, changed)
	}
	return err
}

// announce tells the app whose plans may have changed, after the
// transaction that changed them committed.
func (s *Stripe) announce(ctx context.Context, users []string) {
	if s == nil || s.onPlanChange == nil {
		return
	}
	for _, u := range users {
		s.onPlanChange(ctx, u)
	}
}

// applied is what applying an event did.
type applied struct {
	// handled is false for types Koe does not act on.
	handled bool
	// changed are the users whose plan it may have changed.
	changed []string
	// waits is set when the event names a customer or price Koe does not
	// know yet: it changed nothing and waits for that mapping.
	waits *mapping
}

// mapping is a Stripe id Koe has not mapped yet: a customer to a user, or a
// price to a plan.
type mapping struct {
	column, id string // column of stripe_pending_events: customer_id or price_id
}

func waitCustomer(id string) *mapping { return &mapping{column: "customer_id", id: id} }
func waitPrice(id string) *mapping    { return &mapping{column: "price_id", id: id} }

// apply applies an event.
func (s *Stripe) apply(ctx context.Context, tx bun.Tx, event stripe.Event) (applied, error) {
	switch event.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed":
		var sess stripe.CheckoutSession
		if err := json.Unmarshal(event.Data.Raw, &sess); err != nil {
			return applied{handled: true}, fmt.Errorf("%s: %w", event.Type, err)
		}
		changed, err := s.checkoutEvent(ctx, tx, string(event.Type), &sess)
		return applied{handled: true, changed: changed}, err
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
		var sub stripe.Subscription
		if err := json.Unmarshal(event.Data.Raw, &sub); err != nil {
			return applied{handled: true}, fmt.Errorf("%s: %w", event.Type, err)
		}
		return s.subscriptionEvent(ctx, tx, event, &sub)
	case "invoice.paid", "invoice.payment_failed":
		var inv stripe.Invoice
		if err := json.Unmarshal(event.Data.Raw, &inv); err != nil {
			return applied{handled: true}, fmt.Errorf("%s: %w", event.Type, err)
		}
		waits, err := s.invoiceEvent(ctx, tx, string(event.Type), &inv)
		return applied{handled: true, waits: waits}, err
	}
	return applied{}, nil
}

// pendingEvent is an event waiting for a mapping (see mapping).
type pendingEvent struct {
	bun.BaseModel `bun:"table:stripe_pending_events"`

	ID         string    `bun:"id,pk"`
	Type       string    `bun:"type,notnull"`
	Created    int64     `bun:"created,notnull"`
	CustomerID *string   `bun:"customer_id"`
	PriceID    *string   `bun:"price_id"`
	Data       string    `bun:"data,notnull"`
	ReceivedAt time.Time `bun:"received_at,notnull"`
}

// keep stores an event until what it waits for is mapped.
func (s *Stripe) keep(ctx context.Context, tx bun.Tx, event stripe.Event, waits *mapping) error {
	s.log.InfoContext(ctx, "stripe event waits for a mapping", "event", event.ID, "waits_for", waits.column, "id", waits.id)
	row := &pendingEvent{ID: event.ID, Type: string(event.Type), Created: event.Created, Data: string(event.Data.Raw), ReceivedAt: s.now()}
	if waits.column == "customer_id" {
		row.CustomerID = &waits.id
	} else {
		row.PriceID = &waits.id
	}
	_, err := tx.NewInsert().Model(row).On("CONFLICT (id) DO UPDATE").
		Set("customer_id = EXCLUDED.customer_id").Set("price_id = EXCLUDED.price_id").Exec(ctx)
	return err
}

// applyPending applies, in tx and in the order Stripe made them, the events
// that waited for m, which tx has just mapped. An event that now waits for
// something else (its price, after its customer) is kept for that. It
// returns the users whose plans may have changed, to announce after tx.
func (s *Stripe) applyPending(ctx context.Context, tx bun.Tx, m *mapping) ([]string, error) {
	var rows []*pendingEvent
	q := tx.NewSelect().Model(&rows).Where("? = ?", bun.Ident(m.column), m.id).Order("created", "id")
	if s.db.Postgres() {
		q = q.For("UPDATE") // a second mapping at once waits, then finds them gone
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("pending stripe events: %w", err)
	}
	var changed []string
	for _, row := range rows {
		if _, err := tx.NewDelete().Model(row).WherePK().Exec(ctx); err != nil {
			return nil, err
		}
		event := stripe.Event{ID: row.ID, Type: stripe.EventType(row.Type), Created: row.Created, Data: &stripe.EventData{Raw: json.RawMessage(row.Data)}}
		r, err := s.apply(ctx, tx, event)
		if err != nil {
			return nil, fmt.Errorf("pending stripe event %s: %w", row.ID, err)
		}
		if r.waits != nil {
			if err := s.keep(ctx, tx, event, r.waits); err != nil {
				return nil, err
			}
		}
		changed = append(changed, r.changed...)
	}
	return changed, nil
}

// userOf finds the Koe user of a Stripe object: by the user id Koe put in
// its metadata, else by its customer. waits is set when it has no user id
// of ours and a customer Koe has not mapped to a user yet.
func (s *Stripe) userOf(ctx context.Context, tx bun.Tx, metadata map[string]string, customer *stripe.Customer) (userID string, waits *mapping, err error) {
	q := tx.NewSelect().Table("users").Column("id")
	switch {
	case metadata["user_id"] != "":
		q = q.Where("id = ?", metadata["user_id"])
	case customer != nil && customer.ID != "":
		q = q.Where("stripe_customer_id = ?", customer.ID)
	default:
		return "", nil, nil
	}
	if err := q.Scan(ctx, &userID); err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			return "", nil, err
		}
		if metadata["user_id"] == "" {
			return "", waitCustomer(customer.ID), nil
		}
	}
	return userID, nil, nil
}

// mapCustomer records a user's Stripe customer, unless they have one, and
// applies the events that waited for it; it returns the users whose plans
// those changed.
func (s *Stripe) mapCustomer(ctx context.Context, tx bun.Tx, userID, customerID string) ([]string, error) {
	res, err := tx.NewUpdate().Table("users").Set("stripe_customer_id = ?", customerID).
		Where("id = ? AND stripe_customer_id IS NULL", userID).Exec(ctx)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil
	}
	return s.applyPending(ctx, tx, waitCustomer(customerID))
}

// checkoutEvent records a credit pack purchase and, once paid, adds its
// characters — once, whichever of completed and async_payment_succeeded
// says so. Subscriptions are applied by their own events; the session maps
// its customer to the user, which applies the events that waited for that.
func (s *Stripe) checkoutEvent(ctx context.Context, tx bun.Tx, typ string, sess *stripe.CheckoutSession) ([]string, error) {
	// Not kept when its user is unknown: Koe's own sessions carry the user
	// id, and the customer is what they map.
	userID, _, err := s.userOf(ctx, tx, sess.Metadata, sess.Customer)
	if err != nil || userID == "" {
		return nil, err
	}
	var changed []string
	if sess.Customer != nil && sess.Customer.ID != "" {
		if changed, err = s.mapCustomer(ctx, tx, userID, sess.Customer.ID); err != nil {
			return nil, err
		}
	}
	return changed, s.creditPurchase(ctx, tx, typ, userID, sess)
}

// creditPurchase is checkoutEvent's part for credit packs.
func (s *Stripe) creditPurchase(ctx context.Context, tx bun.Tx, typ, userID string, sess *stripe.CheckoutSession) error {
	code := sess.Metadata["credit_pack"]
	if sess.Mode != stripe.CheckoutSessionModePayment || code == "" {
		return nil
	}
	pack, err := creditPack(ctx, tx, code) // in tx: on SQLite the tx holds the only connection
	if err != nil || pack == nil {
		return err
	}
	if _, err := tx.NewRaw(`INSERT INTO credit_purchases (checkout_session_id, user_id, credit_pack_code, characters, amount_cents, currency, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT (checkout_session_id) DO NOTHING`,
		sess.ID, userID, pack.Code, pack.Characters, sess.AmountTotal, string(sess.Currency), s.now()).Exec(ctx); err != nil {
		return err
	}
	paid := typ == "checkout.session.async_payment_succeeded" ||
		(typ == "checkout.session.completed" && sess.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid)
	if typ == "checkout.session.async_payment_failed" {
		if _, err := tx.NewRaw("UPDATE credit_purchases SET state = 'failed' WHERE checkout_session_id = ? AND state = 'pending'", sess.ID).Exec(ctx); err != nil {
			return err
		}
		return events.Record(ctx, tx, events.KindPaymentFailed+":"+sess.ID, events.KindPaymentFailed, userID,
			map[string]any{"creditPack": pack.Code, "checkoutSession": sess.ID})
	}
	if !paid {
		return nil
	}
	res, err := tx.NewRaw("UPDATE credit_purchases SET state = 'paid', paid_at = ? WHERE checkout_session_id = ? AND state = 'pending'", s.now(), sess.ID).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // paid before
	}
	return s.credits.AddCredits(ctx, tx, userID, int64(pack.Characters))
}

// Subscription statuses Stripe never leaves: a subscription reported in one
// of them is over, whatever arrives after.
var final = []string{string(stripe.SubscriptionStatusCanceled), string(stripe.SubscriptionStatusIncompleteExpired)}

// subscriptionEvent stores the subscription as the event shows it, unless
// what is stored is newer, then puts the user on the plan their
// subscriptions entitle them to.
//
// Stripe may deliver events in any order, and its `created` has whole
// seconds: customer.subscription.created and …updated often share one. So
// an event replaces what is stored when
//   - the stored status is not final (canceled, incomplete_expired: Stripe
//     never leaves them, so nothing arriving later revives a subscription), and
//   - its status is final (whenever Stripe made it), or it was made in a
//     later second, or in the same second and its status is not earlier in
//     a subscription's life: incomplete comes first (only `created` shows
//     it), then trialing, active, past_due, unpaid and paused, which a
//     subscription moves among in either direction (active ⇄ past_due,
//     unpaid → active), so within one second the one that arrives last
//     stands, as before.
//
// Fetching the subscription from Stripe on every event (Stripe's own
// advice) would need no ordering, but adds a call to Stripe to each webhook
// and cannot be tested against stripe-mock, which answers a fixed fixture.
func (s *Stripe) subscriptionEvent(ctx context.Context, tx bun.Tx, event stripe.Event, sub *stripe.Subscription) (applied, error) {
	r := applied{handled: true}
	userID, waits, err := s.userOf(ctx, tx, sub.Metadata, sub.Customer)
	if err != nil || userID == "" {
		r.waits = waits
		return r, err
	}
	planCode, price := "", ""
	if sub.Items != nil && len(sub.Items.Data) > 0 && sub.Items.Data[0].Price != nil {
		price = sub.Items.Data[0].Price.ID
		if err := tx.NewSelect().Table("plans").Column("code").Where("stripe_price_id = ?", price).
			Scan(ctx, &planCode); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return r, err
		}
	}
	if planCode == "" {
		if price != "" {
			r.waits = waitPrice(price)
		}
		return r, nil
	}
	status := string(sub.Status)
	if event.Type == "customer.subscription.deleted" {
		status = string(stripe.SubscriptionStatusCanceled)
	}
	row := &Subscription{
		ID: sub.ID, UserID: userID, PlanCode: planCode, Status: status,
		CurrentPeriodStart: time.Unix(sub.CurrentPeriodStart, 0).UTC(), CurrentPeriodEnd: time.Unix(sub.CurrentPeriodEnd, 0).UTC(),
		CancelAtPeriodEnd: sub.CancelAtPeriodEnd, EventCreated: event.Created, UpdatedAt: s.now(),
	}
	q := tx.NewInsert().Model(row).On("CONFLICT (id) DO UPDATE").
		Set("plan_code = EXCLUDED.plan_code").Set("status = EXCLUDED.status").
		Set("current_period_start = EXCLUDED.current_period_start").Set("current_period_end = EXCLUDED.current_period_end").
		Set("cancel_at_period_end = EXCLUDED.cancel_at_period_end").Set("event_created = EXCLUDED.event_created").
		Set("updated_at = EXCLUDED.updated_at").
		Where("subscription.status NOT IN (?)", bun.In(final))
	switch {
	case slices.Contains(final, status):
	case status == string(stripe.SubscriptionStatusIncomplete):
		q = q.Where("(subscription.event_created < EXCLUDED.event_created OR (subscription.event_created = EXCLUDED.event_created AND subscription.status = ?))", status)
	default:
		q = q.Where("subscription.event_created <= EXCLUDED.event_created")
	}
	if _, err := q.Exec(ctx); err != nil {
		return r, err
	}
	r.changed = []string{userID}
	return r, s.entitle(ctx, tx, userID, event.ID)
}

// entitle puts the user on the plan of their newest entitled subscription,
// or the free plan, and records a plan change caused by event causeID.
func (s *Stripe) entitle(ctx context.Context, tx bun.Tx, userID, causeID string) error {
	plan := "free"
	err := tx.NewSelect().Table("subscriptions").Column("plan_code").
		Where("user_id = ? AND status IN (?)", userID, bun.In(entitled)).
		Order("current_period_start DESC").Limit(1).Scan(ctx, &plan)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var before string
	if err := tx.NewSelect().Table("users").Column("plan_code").Where("id = ?", userID).Scan(ctx, &before); err != nil {
		return err
	}
	if before == plan {
		return nil
	}
	if _, err := tx.NewUpdate().Table("users").Set("plan_code = ?", plan).Where("id = ?", userID).Exec(ctx); err != nil {
		return err
	}
	return events.Record(ctx, tx, events.KindPlanChanged+":"+causeID, events.KindPlanChanged, userID,
		map[string]any{"from": before, "to": plan})
}

// invoiceEvent records paid invoices (revenue) and failed payments; an
// invoice of a customer Koe does not know yet waits for them.
func (s *Stripe) invoiceEvent(ctx context.Context, tx bun.Tx, typ string, inv *stripe.Invoice) (*mapping, error) {
	userID, waits, err := s.userOf(ctx, tx, inv.Metadata, inv.Customer)
	if err != nil || userID == "" {
		return waits, err
	}
	if typ == "invoice.payment_failed" {
		return nil, events.Record(ctx, tx, events.KindPaymentFailed+":"+inv.ID, events.KindPaymentFailed, userID,
			map[string]any{"invoice": inv.ID, "amountDueCents": inv.AmountDue, "currency": string(inv.Currency)})
	}
	_, err = tx.NewRaw("INSERT INTO invoices (id, user_id, amount_cents, currency, paid_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
		inv.ID, userID, inv.AmountPaid, string(inv.Currency), s.now()).Exec(ctx)
	return nil, err
}

// SubscriptionOf returns the user's current subscription (the newest
// entitled one, else the newest of any state), or nil.
func (p *Plans) SubscriptionOf(ctx context.Context, userID string) (*Subscription, error) {
	var subs []*Subscription
	err := p.db.NewSelect().Model(&subs).Where("user_id = ?", userID).
		OrderExpr("CASE WHEN status IN (?) THEN 0 ELSE 1 END", bun.In(entitled)).Order("current_period_start DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("subscription: %w", err)
	}
	if len(subs) == 0 {
		return nil, nil
	}
	return subs[0], nil
}

// CreditPack returns a pack by code, or nil.
func (p *Plans) CreditPack(ctx context.Context, code string) (*CreditPack, error) {
	return creditPack(ctx, p.db, code)
}

func creditPack(ctx context.Context, db bun.IDB, code string) (*CreditPack, error) {
	var packs []*CreditPack
	if err := db.NewSelect().Model(&packs).Where("code = ?", code).Scan(ctx); err != nil {
		return nil, fmt.Errorf("credit pack: %w", err)
	}
	if len(packs) == 0 {
		return nil, nil
	}
	return packs[0], nil
}
