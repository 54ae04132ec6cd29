// Package billing holds what Koe sells: plans (and, as billing lands, credit
// packs, subscriptions and Stripe). Plans are data, seeded at first start.
package billing

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/store"
)

// Plan is a subscription plan.
type Plan struct {
	bun.BaseModel `bun:"table:plans"`

	ID                         string `bun:"id,pk"`
	Code                       string `bun:"code,notnull"`
	Name                       string `bun:"name,notnull"`
	MonthlyPriceCents          int    `bun:"monthly_price_cents,notnull"`
	Currency                   string `bun:"currency,notnull"`
	IncludedCharacters         int    `bun:"included_characters,notnull"`
	OveragePricePer1000Cents   *int   `bun:"overage_price_per1000_cents"`
	MaxConcurrentGenerations   int    `bun:"max_concurrent_generations,notnull"`
	MaxCharactersPerGeneration int    `bun:"max_characters_per_generation,notnull"`
	RequestsPerMinute          int    `bun:"requests_per_minute,notnull"`
	MaxWebsockets              int    `bun:"max_websockets,notnull"`
	MaxSubscriptions           int    `bun:"max_subscriptions,notnull"`
	// MaxAudioSecondsPerGeneration is the longest audio one generation may
	// make; a generation that runs past it fails with OUTPUT_TOO_LONG.
	MaxAudioSecondsPerGeneration int       `bun:"max_audio_seconds_per_generation,notnull"`
	StripePriceID                *string   `bun:"stripe_price_id"`
	Features                     []string  `bun:"features,notnull"`
	CreatedAt                    time.Time `bun:"created_at,notnull"`
	UpdatedAt                    time.Time `bun:"updated_at,notnull"`
}

// Plans reads plans.
type Plans struct {
	db *store.DB
	// stripe applies the webhook events that waited for a plan's price; nil
	// without Stripe.
	stripe *Stripe

	mu       sync.Mutex
	cached   map[string]*Plan
	cachedAt time.Time
}

// NewPlans returns the plan catalog on db.
func NewPlans(db *store.DB) *Plans { return &Plans{db: db} }

// planCacheTTL is how stale Cached may be: plans change rarely, and limits
// are checked on every request.
const planCacheTTL = 30 * time.Second

// Cached returns a plan by code from a copy of the catalog at most
// planCacheTTL old, for checks on every request; nil for an unknown code.
func (p *Plans) Cached(ctx context.Context, code string) (*Plan, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cached == nil || time.Since(p.cachedAt) > planCacheTTL {
		plans, err := p.List(ctx)
		if err != nil {
			return nil, err
		}
		p.cached = make(map[string]*Plan, len(plans))
		for _, pl := range plans {
			p.cached[pl.Code] = pl
		}
		p.cachedAt = time.Now()
	}
	return p.cached[code], nil
}

// List returns every plan, cheapest first.
func (p *Plans) List(ctx context.Context) ([]*Plan, error) {
	var plans []*Plan
	if err := p.db.NewSelect().Model(&plans).Order("monthly_price_cents", "code").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	return plans, nil
}

// ByCode returns the plans with the given codes; unknown codes are absent.
func (p *Plans) ByCode(ctx context.Context, codes []string) (map[string]*Plan, error) {
	var plans []*Plan
	if err := p.db.NewSelect().Model(&plans).Where("code IN (?)", bun.In(codes)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load plans: %w", err)
	}
	out := make(map[string]*Plan, len(plans))
	for _, pl := range plans {
		out[pl.Code] = pl
	}
	return out, nil
}

// ByID returns one plan, or nil when there is none.
func (p *Plans) ByID(ctx context.Context, id string) (*Plan, error) {
	var plans []*Plan
	if err := p.db.NewSelect().Model(&plans).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load plan: %w", err)
	}
	if len(plans) == 0 {
		return nil, nil
	}
	return plans[0], nil
}

// CreditPack is characters bought once.
type CreditPack struct {
	bun.BaseModel `bun:"table:credit_packs"`

	ID            string    `bun:"id,pk"`
	Code          string    `bun:"code,notnull"`
	Name          string    `bun:"name,notnull"`
	Characters    int       `bun:"characters,notnull"`
	PriceCents    int       `bun:"price_cents,notnull"`
	Currency      string    `bun:"currency,notnull"`
	StripePriceID *string   `bun:"stripe_price_id"`
	CreatedAt     time.Time `bun:"created_at,notnull"`
	UpdatedAt     time.Time `bun:"updated_at,notnull"`
}

// CreditPacks returns the packs on sale, smallest first.
func (p *Plans) CreditPacks(ctx context.Context) ([]*CreditPack, error) {
	var packs []*CreditPack
	if err := p.db.NewSelect().Model(&packs).Order("characters", "code").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list credit packs: %w", err)
	}
	return packs, nil
}

// PlanInput is a plan as an operator defines it.
type PlanInput struct {
	Code                       string
	Name                       string
	MonthlyPriceCents          int
	Currency                   string
	IncludedCharacters         int
	OveragePricePer1000Cents   *int
	MaxConcurrentGenerations   int
	MaxCharactersPerGeneration int
	// RequestsPerMinute, MaxWebsockets, MaxSubscriptions and
	// MaxAudioSecondsPerGeneration: nil keeps the plan's value (60, 5, 20
	// and 7,200 for a new plan).
	RequestsPerMinute            *int
	MaxWebsockets                *int
	MaxSubscriptions             *int
	MaxAudioSecondsPerGeneration *int
	// StripePriceID: nil keeps the plan's price, "" removes it.
	StripePriceID *string
	Features      []string
}

var planCodePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

func (in PlanInput) validate() error {
	switch {
	case !planCodePattern.MatchString(in.Code):
		return apperror.Invalid("input.code", "must be 1 to 40 lower-case letters, digits or dashes")
	case strings.TrimSpace(in.Name) == "" || len(in.Name) > 100:
		return apperror.Invalid("input.name", "must be 1 to 100 characters")
	case in.MonthlyPriceCents < 0:
		return apperror.Invalid("input.monthlyPriceCents", "must not be negative")
	case len(in.Currency) != 3:
		return apperror.Invalid("input.currency", "must be an ISO 4217 code such as usd")
	case in.IncludedCharacters < 0:
		return apperror.Invalid("input.includedCharacters", "must not be negative")
	case in.OveragePricePer1000Cents != nil && *in.OveragePricePer1000Cents < 0:
		return apperror.Invalid("input.overagePricePer1000Cents", "must not be negative")
	case in.MaxConcurrentGenerations < 1 || in.MaxConcurrentGenerations > 1000:
		return apperror.Invalid("input.maxConcurrentGenerations", "must be between 1 and 1000")
	case in.MaxCharactersPerGeneration < 1:
		return apperror.Invalid("input.maxCharactersPerGeneration", "must be at least 1")
	case outside(in.RequestsPerMinute, 1, 1_000_000):
		return apperror.Invalid("input.requestsPerMinute", "must be between 1 and 1000000")
	case outside(in.MaxWebsockets, 1, 1000):
		return apperror.Invalid("input.maxWebsockets", "must be between 1 and 1000")
	case outside(in.MaxSubscriptions, 1, 10_000):
		return apperror.Invalid("input.maxSubscriptions", "must be between 1 and 10000")
	case outside(in.MaxAudioSecondsPerGeneration, 1, MaxAudioSeconds):
		return apperror.Invalid("input.maxAudioSecondsPerGeneration", "must be between 1 and %d", MaxAudioSeconds)
	}
	return nil
}

// MaxAudioSeconds is the most a plan may allow one generation (24 hours): a
// WAV file cannot hold much more (4 GiB is about 27 hours at 22,050 Hz), and
// a job that long would outlive any sensible KOE_JOB_TIMEOUT.
const MaxAudioSeconds = 86_400

// outside reports whether an optional number is given and not in [lo, hi].
func outside(n *int, lo, hi int) bool { return n != nil && (*n < lo || *n > hi) }

// Upsert creates the plan with in.Code or changes it. Optional fields left
// out (limits, the Stripe price) keep their values, or the defaults for a new
// plan. The cache of Cached sees it within its TTL.
func (p *Plans) Upsert(ctx context.Context, in PlanInput) (*Plan, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	features := in.Features
	if features == nil {
		features = []string{}
	}
	pl := &Plan{
		ID: gid.New(gid.Plan), Code: in.Code, Name: strings.TrimSpace(in.Name), MonthlyPriceCents: in.MonthlyPriceCents,
		Currency: strings.ToLower(in.Currency), IncludedCharacters: in.IncludedCharacters, OveragePricePer1000Cents: in.OveragePricePer1000Cents,
		MaxConcurrentGenerations: in.MaxConcurrentGenerations, MaxCharactersPerGeneration: in.MaxCharactersPerGeneration,
		RequestsPerMinute: 60, MaxWebsockets: 5, MaxSubscriptions: 20, MaxAudioSecondsPerGeneration: 7200,
		Features: features, CreatedAt: now, UpdatedAt: now,
	}
	q := p.db.NewInsert().Model(pl).On("CONFLICT (code) DO UPDATE").
		Set("name = EXCLUDED.name").Set("monthly_price_cents = EXCLUDED.monthly_price_cents").Set("currency = EXCLUDED.currency").
		Set("included_characters = EXCLUDED.included_characters").Set("overage_price_per1000_cents = EXCLUDED.overage_price_per1000_cents").
		Set("max_concurrent_generations = EXCLUDED.max_concurrent_generations").
		Set("max_characters_per_generation = EXCLUDED.max_characters_per_generation").
		Set("features = EXCLUDED.features").Set("updated_at = EXCLUDED.updated_at")
	for _, o := range []struct {
		column string
		value  *int
		field  *int
	}{
		{"requests_per_minute", in.RequestsPerMinute, &pl.RequestsPerMinute},
		{"max_websockets", in.MaxWebsockets, &pl.MaxWebsockets},
		{"max_subscriptions", in.MaxSubscriptions, &pl.MaxSubscriptions},
		{"max_audio_seconds_per_generation", in.MaxAudioSecondsPerGeneration, &pl.MaxAudioSecondsPerGeneration},
	} {
		if o.value != nil {
			*o.field = *o.value
			q = q.Set(o.column + " = EXCLUDED." + o.column)
		}
	}
	if in.StripePriceID != nil {
		if *in.StripePriceID != "" {
			pl.StripePriceID = in.StripePriceID
		}
		q = q.Set("stripe_price_id = EXCLUDED.stripe_price_id")
	}
	var changed []string
	err := p.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := q.Conn(tx).Exec(ctx); err != nil {
			return err
		}
		if p.stripe == nil || pl.StripePriceID == nil {
			return nil
		}
		// Subscriptions to this price that Stripe reported before it was
		// mapped count from now on.
		var err error
		changed, err = p.stripe.applyPending(ctx, tx, waitPrice(*pl.StripePriceID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("upsert plan: %w", err)
	}
	p.stripe.announce(ctx, changed)
	p.mu.Lock()
	p.cached = nil
	p.mu.Unlock()
	saved := new(Plan)
	if err := p.db.NewSelect().Model(saved).Where("code = ?", in.Code).Scan(ctx); err != nil {
		return nil, fmt.Errorf("upsert plan: %w", err)
	}
	return saved, nil
}

// CreditPackInput is a credit pack as an operator defines it.
type CreditPackInput struct {
	Code          string
	Name          string
	Characters    int
	PriceCents    int
	Currency      string
	StripePriceID *string
}

// UpsertCreditPack creates the pack with in.Code or changes it.
func (p *Plans) UpsertCreditPack(ctx context.Context, in CreditPackInput) (*CreditPack, error) {
	switch {
	case !planCodePattern.MatchString(in.Code):
		return nil, apperror.Invalid("input.code", "must be 1 to 40 lower-case letters, digits or dashes")
	case strings.TrimSpace(in.Name) == "" || len(in.Name) > 100:
		return nil, apperror.Invalid("input.name", "must be 1 to 100 characters")
	case in.Characters < 1:
		return nil, apperror.Invalid("input.characters", "must be at least 1")
	case in.PriceCents < 0:
		return nil, apperror.Invalid("input.priceCents", "must not be negative")
	case len(in.Currency) != 3:
		return nil, apperror.Invalid("input.currency", "must be an ISO 4217 code such as usd")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	pack := &CreditPack{
		ID: gid.New(gid.CreditPack), Code: in.Code, Name: strings.TrimSpace(in.Name), Characters: in.Characters, PriceCents: in.PriceCents,
		Currency: strings.ToLower(in.Currency), StripePriceID: in.StripePriceID, CreatedAt: now, UpdatedAt: now,
	}
	_, err := p.db.NewInsert().Model(pack).On("CONFLICT (code) DO UPDATE").
		Set("name = EXCLUDED.name").Set("characters = EXCLUDED.characters").Set("price_cents = EXCLUDED.price_cents").
		Set("currency = EXCLUDED.currency").Set("stripe_price_id = EXCLUDED.stripe_price_id").Set("updated_at = EXCLUDED.updated_at").Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("upsert credit pack: %w", err)
	}
	return creditPack(ctx, p.db, in.Code)
}
