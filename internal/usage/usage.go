// Package usage is the character ledger: each generation reserves its
// characters when it is created, settles them when it succeeds and releases
// them when it fails or is canceled — each step idempotent and in the same
// transaction as the state change it belongs to — so the quota holds under
// any concurrency and the numbers people see are exact.
package usage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/events"
	"github.com/koe-voice/koe/internal/store"
)

// Reservation states.
const (
	stateReserved = "reserved"
	stateSettled  = "settled"
	stateReleased = "released"
)

// Period is one user's billing period and what happened in it.
type Period struct {
	bun.BaseModel `bun:"table:usage_periods"`

	UserID               string    `bun:"user_id,pk"`
	Start                time.Time `bun:"period_start,pk"`
	End                  time.Time `bun:"period_end,notnull"`
	IncludedCharacters   int64     `bun:"included_characters,notnull"`
	OverageAllowed       bool      `bun:"overage_allowed,notnull"`
	UsedCharacters       int64     `bun:"used_characters,notnull"`
	ReservedCharacters   int64     `bun:"reserved_characters,notnull"`
	CreditCharactersUsed int64     `bun:"credit_characters_used,notnull"`
	OverageCharacters    int64     `bun:"overage_characters,notnull"`
}

type reservation struct {
	bun.BaseModel `bun:"table:usage_reservations"`

	GenerationID string     `bun:"generation_id,pk"`
	UserID       string     `bun:"user_id,notnull"`
	PeriodStart  time.Time  `bun:"period_start,notnull"`
	Characters   int64      `bun:"characters,notnull"`
	State        string     `bun:"state,notnull"`
	CreatedAt    time.Time  `bun:"created_at,notnull"`
	FinishedAt   *time.Time `bun:"finished_at"`
}

// Day is the usage of one day.
type Day struct {
	bun.BaseModel `bun:"table:usage_days"`

	UserID      string `bun:"user_id,pk"`
	Date        string `bun:"day,pk"`
	Characters  int64  `bun:"characters,notnull"`
	Generations int    `bun:"generations,notnull"`
}

// Usage is what a person sees of their current period.
type Usage struct {
	Period
	// CreditCharacters are purchased credits left.
	CreditCharacters int64
	// Remaining is what may still be reserved; nil when overage is allowed.
	Remaining *int64
	Daily     []Day
}

// Service keeps the ledger.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// NewService returns the ledger on db.
func NewService(db *store.DB) *Service {
	return &Service{db: db, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// PeriodOf is the billing period holding t: the calendar month in UTC.
// (Subscriptions will bring their own periods.)
func PeriodOf(t time.Time) (start, end time.Time) {
	t = t.UTC()
	start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return start, start.AddDate(0, 1, 0)
}

// currentPeriod is the user's billing period now: their subscription's
// current period while they have one, else the calendar month.
func (s *Service) currentPeriod(ctx context.Context, db bun.IDB, userID string) (start, end time.Time, err error) {
	now := s.now()
	err = db.NewSelect().Table("subscriptions").Column("current_period_start", "current_period_end").
		Where("user_id = ? AND status IN ('active', 'trialing', 'past_due')", userID).
		Where("current_period_start <= ? AND current_period_end > ?", now, now).
		Order("current_period_start DESC").Limit(1).Scan(ctx, &start, &end)
	if errors.Is(err, sql.ErrNoRows) {
		start, end = PeriodOf(now)
		return start, end, nil
	}
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("usage period: %w", err)
	}
	return start.UTC(), end.UTC(), nil
}

// ensurePeriod makes the user's current period exist, with their plan's
// included characters, and returns its start.
func (s *Service) ensurePeriod(ctx context.Context, db bun.IDB, userID string) (time.Time, error) {
	start, end, err := s.currentPeriod(ctx, db, userID)
	if err != nil {
		return time.Time{}, err
	}
	_, err = db.NewRaw(`INSERT INTO usage_periods (user_id, period_start, period_end, included_characters, overage_allowed)
		SELECT u.id, ?, ?, p.included_characters, p.overage_price_per1000_cents IS NOT NULL
		FROM users AS u JOIN plans AS p ON p.code = u.plan_code WHERE u.id = ?
		ON CONFLICT (user_id, period_start) DO NOTHING`, start, end, userID).Exec(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("usage period: %w", err)
	}
	return start, nil
}

// Reserve holds n characters of the user's current period for a generation,
// in tx: QUOTA_EXCEEDED when used + reserved + n would pass the plan's
// included characters plus purchased credits and the plan allows no
// overage. The check and the hold are one conditional update, so no
// concurrency can overspend. Operators are recorded but never refused.
func (s *Service) Reserve(ctx context.Context, tx bun.Tx, userID, generationID string, n int) error {
	start, err := s.ensurePeriod(ctx, tx, userID)
	if err != nil {
		return err
	}
	res, err := tx.NewRaw(`UPDATE usage_periods SET reserved_characters = reserved_characters + ?
		WHERE user_id = ? AND period_start = ? AND (overage_allowed
			OR (SELECT role FROM users WHERE id = ?) = 'ADMIN'
			OR used_characters + reserved_characters + ? <= included_characters + credit_characters_used
				+ COALESCE((SELECT characters FROM credit_balances WHERE user_id = ?), 0))`,
		n, userID, start, userID, n, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	if rows, _ := res.RowsAffected(); rows == 0 {
		u, err := s.usage(ctx, tx, userID)
		if err != nil {
			return err
		}
		left := int64(0)
		if u.Remaining != nil {
			left = *u.Remaining
		}
		return apperror.New(apperror.QuotaExceeded, "this needs %d characters and %d are left this period (until %s); buy credits or upgrade your plan",
			n, left, u.End.Format("2006-01-02"))
	}
	_, err = tx.NewInsert().Model(&reservation{
		GenerationID: generationID, UserID: userID, PeriodStart: start, Characters: int64(n), State: stateReserved, CreatedAt: s.now(),
	}).Exec(ctx)
	if err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	return nil
}

// finish moves a reservation from reserved to state, once: a second call
// finds nothing to do and returns nil.
func (s *Service) finish(ctx context.Context, tx bun.Tx, generationID, state string) (*reservation, error) {
	var r reservation
	err := tx.NewUpdate().Model(&r).Set("state = ?", state).Set("finished_at = ?", s.now()).
		Where("generation_id = ? AND state = ?", generationID, stateReserved).
		Returning("user_id, period_start, characters").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	return &r, nil
}

// Settle turns a generation's reservation into use, in tx: the characters
// come from the period's included characters first, then purchased credits,
// then overage. Settling twice changes nothing.
func (s *Service) Settle(ctx context.Context, tx bun.Tx, generationID string) error {
	r, err := s.finish(ctx, tx, generationID, stateSettled)
	if err != nil || r == nil {
		return err
	}
	n := r.Characters
	// The period row is locked by this update until commit, so settlements
	// of one user take turns.
	var p Period
	err = tx.NewUpdate().Model(&p).
		Set("reserved_characters = reserved_characters - ?", n).Set("used_characters = used_characters + ?", n).
		Where("user_id = ? AND period_start = ?", r.UserID, r.PeriodStart).
		Returning("included_characters, used_characters").Scan(ctx)
	if err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	fromIncluded := min(n, max(0, p.IncludedCharacters-(p.UsedCharacters-n)))
	rest := n - fromIncluded
	var fromCredits int64
	if rest > 0 {
		var balance int64
		q := tx.NewSelect().Table("credit_balances").Column("characters").Where("user_id = ?", r.UserID)
		if s.db.Postgres() {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx, &balance); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("settle: %w", err)
		}
		fromCredits = min(rest, balance)
		if fromCredits > 0 {
			if _, err := tx.NewUpdate().Table("credit_balances").Set("characters = characters - ?", fromCredits).
				Where("user_id = ?", r.UserID).Exec(ctx); err != nil {
				return fmt.Errorf("settle: %w", err)
			}
		}
	}
	if fromCredits > 0 || rest > fromCredits {
		if _, err := tx.NewUpdate().Table("usage_periods").
			Set("credit_characters_used = credit_characters_used + ?", fromCredits).
			Set("overage_characters = overage_characters + ?", rest-fromCredits).
			Where("user_id = ? AND period_start = ?", r.UserID, r.PeriodStart).Exec(ctx); err != nil {
			return fmt.Errorf("settle: %w", err)
		}
	}
	if err := s.thresholds(ctx, tx, r, n); err != nil {
		return err
	}
	if _, err := tx.NewRaw(`INSERT INTO usage_days (user_id, day, characters, generations) VALUES (?, ?, ?, 1)
		ON CONFLICT (user_id, day) DO UPDATE SET characters = usage_days.characters + EXCLUDED.characters,
			generations = usage_days.generations + 1`, r.UserID, s.now().Format(time.DateOnly), n).Exec(ctx); err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	return nil
}

// Thresholds are the shares of the quota at which people are told.
var Thresholds = []int64{80, 100}

// thresholds records a usage.threshold event, once per period and
// threshold, when settling n characters crossed 80% or 100% of the quota
// (included characters plus credits; included characters alone on plans
// with overage).
func (s *Service) thresholds(ctx context.Context, tx bun.Tx, r *reservation, n int64) error {
	var p Period
	if err := tx.NewSelect().Model(&p).Where("user_id = ? AND period_start = ?", r.UserID, r.PeriodStart).Scan(ctx); err != nil {
		return fmt.Errorf("usage thresholds: %w", err)
	}
	capacity := p.IncludedCharacters
	if !p.OverageAllowed {
		var balance int64
		err := tx.NewSelect().Table("credit_balances").Column("characters").Where("user_id = ?", r.UserID).Scan(ctx, &balance)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("usage thresholds: %w", err)
		}
		capacity += p.CreditCharactersUsed + balance
	}
	if capacity <= 0 {
		return nil
	}
	before := p.UsedCharacters - n
	for _, t := range Thresholds {
		if before*100 < t*capacity && p.UsedCharacters*100 >= t*capacity {
			id := fmt.Sprintf("%s:%s:%s:%d", events.KindUsageThreshold, r.UserID, r.PeriodStart.UTC().Format(time.RFC3339), t)
			if err := events.Record(ctx, tx, id, events.KindUsageThreshold, r.UserID, map[string]any{
				"percent": t, "used": p.UsedCharacters, "quota": capacity, "periodEnd": p.End.UTC().Format(time.RFC3339),
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Release gives a generation's reserved characters back, in tx. Releasing
// twice, or after settling, changes nothing.
func (s *Service) Release(ctx context.Context, tx bun.Tx, generationID string) error {
	r, err := s.finish(ctx, tx, generationID, stateReleased)
	if err != nil || r == nil {
		return err
	}
	if _, err := tx.NewUpdate().Table("usage_periods").Set("reserved_characters = reserved_characters - ?", r.Characters).
		Where("user_id = ? AND period_start = ?", r.UserID, r.PeriodStart).Exec(ctx); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	return nil
}

// AddCredits adds purchased characters to the user's balance, in db (a
// transaction with the purchase that pays for them).
func (s *Service) AddCredits(ctx context.Context, db bun.IDB, userID string, characters int64) error {
	_, err := db.NewRaw(`INSERT INTO credit_balances (user_id, characters) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET characters = credit_balances.characters + EXCLUDED.characters`, userID, characters).Exec(ctx)
	if err != nil {
		return fmt.Errorf("add credits: %w", err)
	}
	return nil
}

// Of returns the user's usage of the current period, with its days.
func (s *Service) Of(ctx context.Context, userID string) (*Usage, error) {
	if _, err := s.ensurePeriod(ctx, s.db, userID); err != nil {
		return nil, err
	}
	u, err := s.usage(ctx, s.db, userID)
	if err != nil {
		return nil, err
	}
	err = s.db.NewSelect().Model(&u.Daily).Where("user_id = ? AND day >= ? AND day < ?", userID,
		u.Start.Format(time.DateOnly), u.End.Format(time.DateOnly)).Order("day").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("usage days: %w", err)
	}
	return u, nil
}

func (s *Service) usage(ctx context.Context, db bun.IDB, userID string) (*Usage, error) {
	start, _, err := s.currentPeriod(ctx, db, userID)
	if err != nil {
		return nil, err
	}
	u := &Usage{}
	if err := db.NewSelect().Model(&u.Period).Where("user_id = ? AND period_start = ?", userID, start).Scan(ctx); err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	err = db.NewSelect().Table("credit_balances").Column("characters").Where("user_id = ?", userID).Scan(ctx, &u.CreditCharacters)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("usage: %w", err)
	}
	if !u.OverageAllowed {
		left := max(0, u.IncludedCharacters+u.CreditCharactersUsed+u.CreditCharacters-u.UsedCharacters-u.ReservedCharacters)
		u.Remaining = &left
	}
	return u, nil
}
