// Package billing holds what Koe sells: plans (and, as billing lands, credit
// packs, subscriptions and Stripe). Plans are data, seeded at first start.
package billing

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/store"
)

// Plan is a subscription plan.
type Plan struct {
	bun.BaseModel `bun:"table:plans"`

	ID                         string    `bun:"id,pk"`
	Code                       string    `bun:"code,notnull"`
	Name                       string    `bun:"name,notnull"`
	MonthlyPriceCents          int       `bun:"monthly_price_cents,notnull"`
	Currency                   string    `bun:"currency,notnull"`
	IncludedCharacters         int       `bun:"included_characters,notnull"`
	OveragePricePer1000Cents   *int      `bun:"overage_price_per1000_cents"`
	MaxConcurrentGenerations   int       `bun:"max_concurrent_generations,notnull"`
	MaxCharactersPerGeneration int       `bun:"max_characters_per_generation,notnull"`
	RequestsPerMinute          int       `bun:"requests_per_minute,notnull"`
	MaxWebsockets              int       `bun:"max_websockets,notnull"`
	MaxSubscriptions           int       `bun:"max_subscriptions,notnull"`
	StripePriceID              *string   `bun:"stripe_price_id"`
	Features                   []string  `bun:"features,notnull"`
	CreatedAt                  time.Time `bun:"created_at,notnull"`
	UpdatedAt                  time.Time `bun:"updated_at,notnull"`
}

// Plans reads plans.
type Plans struct {
	db *store.DB

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
