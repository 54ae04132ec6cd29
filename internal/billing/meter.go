package billing

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/stripe/stripe-go/v76"
	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/store"
)

// MeterEvent is one report of overage characters to a Stripe Billing Meter.
type MeterEvent struct {
	// Identifier is stable per (user, period, batch): Stripe keeps one event
	// per identifier, so sending it again after a crash never bills twice.
	Identifier string
	Customer   string
	Characters int64
	At         time.Time
}

// MeterSender sends meter events to Stripe.
type MeterSender interface {
	Send(ctx context.Context, e MeterEvent) error
}

// StripeMeter sends meter events with stripe-go's billing/meterevent.
type StripeMeter struct {
	stripe    *Stripe
	eventName string
}

// NewStripeMeter returns the sender for the meter whose event is eventName;
// nil when Stripe is not configured.
func NewStripeMeter(s *Stripe, eventName string) *StripeMeter {
	if s == nil {
		return nil
	}
	return &StripeMeter{stripe: s, eventName: eventName}
}

// Send reports one batch.
func (m *StripeMeter) Send(ctx context.Context, e MeterEvent) error {
	params := &stripe.BillingMeterEventParams{
		EventName:  stripe.String(m.eventName),
		Identifier: stripe.String(e.Identifier),
		Timestamp:  stripe.Int64(e.At.Unix()),
		Payload:    map[string]string{"stripe_customer_id": e.Customer, "value": strconv.FormatInt(e.Characters, 10)},
	}
	params.Context = ctx
	if _, err := m.stripe.api.BillingMeterEvents.New(params); err != nil {
		return fmt.Errorf("meter event %s: %w", e.Identifier, err)
	}
	return nil
}

// meterReport is a batch of overage, recorded before it is sent.
type meterReport struct {
	bun.BaseModel `bun:"table:meter_reports"`

	Identifier       string     `bun:"identifier,pk"`
	UserID           string     `bun:"user_id,notnull"`
	StripeCustomerID string     `bun:"stripe_customer_id,notnull"`
	PeriodStart      time.Time  `bun:"period_start,notnull"`
	Characters       int64      `bun:"characters,notnull"`
	CreatedAt        time.Time  `bun:"created_at,notnull"`
	SentAt           *time.Time `bun:"sent_at"`
}

// Meter reports overage characters to Stripe in batches: each batch is
// first recorded (with the overage it covers, in one transaction), then
// sent, then marked sent. A batch recorded but not marked — a crash, a
// Stripe outage — is sent again with the same identifier on the next run.
type Meter struct {
	db     *store.DB
	sender MeterSender
	now    func() time.Time
}

// NewMeter returns the overage reporter.
func NewMeter(db *store.DB, sender MeterSender) *Meter {
	return &Meter{db: db, sender: sender, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Report records new overage as batches and sends every batch not yet sent.
func (m *Meter) Report(ctx context.Context) error {
	var periods []struct {
		UserID      string    `bun:"user_id"`
		PeriodStart time.Time `bun:"period_start"`
		Unreported  int64     `bun:"unreported"`
		Customer    string    `bun:"stripe_customer_id"`
	}
	err := m.db.NewSelect().TableExpr("usage_periods AS p").Join("JOIN users AS u ON u.id = p.user_id").
		ColumnExpr("p.user_id, p.period_start, p.overage_characters - p.overage_reported AS unreported, u.stripe_customer_id").
		Where("p.overage_characters > p.overage_reported AND u.stripe_customer_id IS NOT NULL").Scan(ctx, &periods)
	if err != nil {
		return fmt.Errorf("meter: %w", err)
	}
	for _, p := range periods {
		err := m.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			// Claim the overage first: a concurrent run finds nothing left.
			res, err := tx.NewUpdate().Table("usage_periods").Set("overage_reported = overage_reported + ?", p.Unreported).
				Where("user_id = ? AND period_start = ? AND overage_characters - overage_reported >= ?", p.UserID, p.PeriodStart, p.Unreported).Exec(ctx)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			batches, err := tx.NewSelect().Model((*meterReport)(nil)).Where("user_id = ? AND period_start = ?", p.UserID, p.PeriodStart).Count(ctx)
			if err != nil {
				return err
			}
			_, err = tx.NewInsert().Model(&meterReport{
				Identifier: fmt.Sprintf("koe-%s-%d-%d", p.UserID, p.PeriodStart.Unix(), batches+1),
				UserID:     p.UserID, StripeCustomerID: p.Customer, PeriodStart: p.PeriodStart,
				Characters: p.Unreported, CreatedAt: m.now(),
			}).Exec(ctx)
			return err
		})
		if err != nil {
			return fmt.Errorf("meter: record: %w", err)
		}
	}
	var pending []*meterReport
	if err := m.db.NewSelect().Model(&pending).Where("sent_at IS NULL").Order("created_at").Scan(ctx); err != nil {
		return fmt.Errorf("meter: %w", err)
	}
	for _, r := range pending {
		if err := m.sender.Send(ctx, MeterEvent{Identifier: r.Identifier, Customer: r.StripeCustomerID, Characters: r.Characters, At: r.CreatedAt}); err != nil {
			return err
		}
		if _, err := m.db.NewUpdate().Table("meter_reports").Set("sent_at = ?", m.now()).Where("identifier = ?", r.Identifier).Exec(ctx); err != nil {
			return fmt.Errorf("meter: mark sent: %w", err)
		}
	}
	return nil
}

// MeterArgs is the periodic River job that reports overage.
type MeterArgs struct{}

// Kind names the job for River.
func (MeterArgs) Kind() string { return "billing_meter_report" }

// MeterWorker runs Meter.Report; River's periodic jobs run it on one
// replica at a time, and retries it with backoff when Stripe is down.
type MeterWorker struct {
	river.WorkerDefaults[MeterArgs]
	meter *Meter
}

// NewMeterWorker returns the worker.
func NewMeterWorker(m *Meter) *MeterWorker { return &MeterWorker{meter: m} }

// Work reports overage.
func (w *MeterWorker) Work(ctx context.Context, _ *river.Job[MeterArgs]) error {
	return w.meter.Report(ctx)
}
