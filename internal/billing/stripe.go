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
	return &Stripe{
		api: client.New(c.SecretKey, backends), secret: c.WebhookSecret, db: db, plans: plans, credits: credits, log: log,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
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
// Stripe's answer and our write does not make a second customer.
func (s *Stripe) customer(ctx context.Context, userID string) (string, error) {
	var row struct {
		Email    *string `bun:"email"`
		Customer *string `bun:"stripe_customer_id"`
	}
	if err := s.db.NewSelect().Table("users").Column("email", "stripe_customer_id").Where("id = ?", userID).Scan(ctx, &row); err != nil {
		return "", fmt.Errorf("stripe customer: %w", err)
	}
	if row.Customer != nil {
		return *row.Customer, nil
	}
	params := &stripe.CustomerParams{Metadata: map[string]string{"user_id": userID}}
	params.Email = row.Email
	params.SetIdempotencyKey("koe-customer-" + userID)
	c, err := s.api.Customers.New(params)
	if err != nil {
		return "", fmt.Errorf("stripe customer: %w", err)
	}
	if _, err := s.db.NewUpdate().Table("users").Set("stripe_customer_id = ?", c.ID).
		Where("id = ? AND stripe_customer_id IS NULL", userID).Exec(ctx); err != nil {
		return "", fmt.Errorf("stripe customer: %w", err)
	}
	var stored string
	if err := s.db.NewSelect().Table("users").Column("stripe_customer_id").Where("id = ?", userID).Scan(ctx, &stored); err != nil {
		return "", fmt.Errorf("stripe customer: %w", err)
	}
	return stored, nil
}

// ErrBadSignature is returned for webhook requests Stripe did not sign
// with our secret, or signed too long ago.
var ErrBadSignature = apperror.New(apperror.BadUserInput, "the Stripe-Signature header does not verify this body")

// HandleWebhook verifies an event on the raw body and applies it once: the
// event id is recorded under a unique key in the transaction of its effect,
// so a redelivered event answers success with no second effect. Unknown
// types are recorded and ignored.
//
// The endpoint must be configured in Stripe with API version 2023-10-16, the
// version stripe-go v76 speaks; events of another version are refused (400)
// so a dashboard change cannot silently change the payloads we parse.
func (s *Stripe) HandleWebhook(ctx context.Context, body []byte, signature string) error {
	if s == nil {
		return errNotConfigured
	}
	event, err := webhook.ConstructEventWithOptions(body, signature, s.secret, webhook.ConstructEventOptions{})
	if err != nil {
		s.log.WarnContext(ctx, "stripe webhook refused", "err", err)
		return ErrBadSignature
	}
	outcome, entitled := "applied", ""
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
		handled, user, err := s.apply(ctx, tx, event)
		if !handled {
			outcome = "ignored"
		}
		entitled = user
		return err
	})
	if err == nil {
		metrics.StripeWebhooks.WithLabelValues(outcome).Inc()
		if entitled != "" && s.onPlanChange != nil {
			s.onPlanChange(ctx, entitled)
		}
	}
	return err
}

// apply applies an event; handled is false for types Koe does not act on,
// entitled the user whose plan it may have changed.
func (s *Stripe) apply(ctx context.Context, tx bun.Tx, event stripe.Event) (handled bool, entitled string, err error) {
	switch event.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed":
		var sess stripe.CheckoutSession
		if err := json.Unmarshal(event.Data.Raw, &sess); err != nil {
			return true, "", fmt.Errorf("%s: %w", event.Type, err)
		}
		return true, "", s.checkoutEvent(ctx, tx, string(event.Type), &sess)
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
		var sub stripe.Subscription
		if err := json.Unmarshal(event.Data.Raw, &sub); err != nil {
			return true, "", fmt.Errorf("%s: %w", event.Type, err)
		}
		entitled, err := s.subscriptionEvent(ctx, tx, event, &sub)
		return true, entitled, err
	case "invoice.paid", "invoice.payment_failed":
		var inv stripe.Invoice
		if err := json.Unmarshal(event.Data.Raw, &inv); err != nil {
			return true, "", fmt.Errorf("%s: %w", event.Type, err)
		}
		return true, "", s.invoiceEvent(ctx, tx, string(event.Type), &inv)
	}
	return false, "", nil
}

// userOf finds the Koe user of a Stripe object: by the user id Koe put in
// its metadata, else by its customer.
func (s *Stripe) userOf(ctx context.Context, tx bun.Tx, metadata map[string]string, customer *stripe.Customer) (string, error) {
	var id string
	q := tx.NewSelect().Table("users").Column("id")
	switch {
	case metadata["user_id"] != "":
		q = q.Where("id = ?", metadata["user_id"])
	case customer != nil && customer.ID != "":
		q = q.Where("stripe_customer_id = ?", customer.ID)
	default:
		return "", nil
	}
	if err := q.Scan(ctx, &id); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	return id, nil
}

// checkoutEvent records a credit pack purchase and, once paid, adds its
// characters — once, whichever of completed and async_payment_succeeded
// says so. Subscriptions are applied by their own events.
func (s *Stripe) checkoutEvent(ctx context.Context, tx bun.Tx, typ string, sess *stripe.CheckoutSession) error {
	userID, err := s.userOf(ctx, tx, sess.Metadata, sess.Customer)
	if err != nil || userID == "" {
		return err
	}
	if sess.Customer != nil && sess.Customer.ID != "" {
		if _, err := tx.NewUpdate().Table("users").Set("stripe_customer_id = ?", sess.Customer.ID).
			Where("id = ? AND stripe_customer_id IS NULL", userID).Exec(ctx); err != nil {
			return err
		}
	}
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

// subscriptionEvent stores the subscription as the event shows it, unless a
// newer event was applied already, then puts the user on the plan their
// subscriptions entitle them to; it returns that user.
func (s *Stripe) subscriptionEvent(ctx context.Context, tx bun.Tx, event stripe.Event, sub *stripe.Subscription) (string, error) {
	userID, err := s.userOf(ctx, tx, sub.Metadata, sub.Customer)
	if err != nil || userID == "" {
		return "", err
	}
	planCode := ""
	if sub.Items != nil && len(sub.Items.Data) > 0 && sub.Items.Data[0].Price != nil {
		if err := tx.NewSelect().Table("plans").Column("code").Where("stripe_price_id = ?", sub.Items.Data[0].Price.ID).
			Scan(ctx, &planCode); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
	}
	if planCode == "" {
		s.log.WarnContext(ctx, "stripe subscription for a price no plan sells", "subscription", sub.ID)
		return "", nil
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
	if _, err := tx.NewInsert().Model(row).On("CONFLICT (id) DO UPDATE").
		Set("plan_code = EXCLUDED.plan_code").Set("status = EXCLUDED.status").
		Set("current_period_start = EXCLUDED.current_period_start").Set("current_period_end = EXCLUDED.current_period_end").
		Set("cancel_at_period_end = EXCLUDED.cancel_at_period_end").Set("event_created = EXCLUDED.event_created").
		Set("updated_at = EXCLUDED.updated_at").
		Where("subscription.event_created <= EXCLUDED.event_created").Exec(ctx); err != nil {
		return "", err
	}
	return userID, s.entitle(ctx, tx, userID, event.ID)
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

// invoiceEvent records paid invoices (revenue) and failed payments.
func (s *Stripe) invoiceEvent(ctx context.Context, tx bun.Tx, typ string, inv *stripe.Invoice) error {
	userID, err := s.userOf(ctx, tx, inv.Metadata, inv.Customer)
	if err != nil || userID == "" {
		return err
	}
	if typ == "invoice.payment_failed" {
		return events.Record(ctx, tx, events.KindPaymentFailed+":"+inv.ID, events.KindPaymentFailed, userID,
			map[string]any{"invoice": inv.ID, "amountDueCents": inv.AmountDue, "currency": string(inv.Currency)})
	}
	_, err = tx.NewRaw("INSERT INTO invoices (id, user_id, amount_cents, currency, paid_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
		inv.ID, userID, inv.AmountPaid, string(inv.Currency), s.now()).Exec(ctx)
	return err
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
