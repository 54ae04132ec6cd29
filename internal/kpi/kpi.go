// Package kpi computes the operators' figures — revenue, subscriptions, new
// users, generations, characters, success rate, per day — from Koe's own
// tables, each an indexed range query.
package kpi

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/store"
)

// MaxDays is the longest range one request may ask for.
const MaxDays = 400

// Day holds the figures of one UTC day.
type Day struct {
	Date         string
	NewUsers     int
	Generations  int
	Characters   int
	RevenueCents int
}

// Figures are the operators' numbers for a range [From, To).
type Figures struct {
	MRRCents            int
	ActiveSubscriptions int
	NewUsers            int
	Generations         int
	CharactersGenerated int
	// SuccessRate is succeeded / (succeeded + failed) of the range's
	// generations; 0 when none finished.
	SuccessRate float64
	Daily       []Day
}

// Service computes figures.
type Service struct{ db *store.DB }

// NewService returns the figures of db.
func NewService(db *store.DB) *Service { return &Service{db: db} }

// day is the SQL expression of a timestamp column's UTC date, YYYY-MM-DD.
func (s *Service) day(column string) string {
	if s.db.Postgres() {
		return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	return "substr(" + column + ", 1, 10)" // stored as UTC text
}

type dayCount struct {
	Day string `bun:"day"`
	N   int    `bun:"n"`
}

// Of returns the figures for [from, to). BAD_USER_INPUT when the range is
// empty or longer than MaxDays.
func (s *Service) Of(ctx context.Context, from, to time.Time) (*Figures, error) {
	from, to = from.UTC(), to.UTC()
	if !to.After(from) {
		return nil, apperror.Invalid("to", "must be after from")
	}
	if to.Sub(from) > MaxDays*24*time.Hour {
		return nil, apperror.Invalid("to", "the range may span at most %d days", MaxDays)
	}
	f := &Figures{}
	entitled := bun.In([]string{"active", "trialing", "past_due"})
	err := s.db.NewSelect().TableExpr("subscriptions AS s").Join("JOIN plans AS p ON p.code = s.plan_code").
		ColumnExpr("COALESCE(SUM(CASE WHEN s.status IN ('active', 'past_due') THEN p.monthly_price_cents ELSE 0 END), 0)").
		ColumnExpr("COUNT(*)").Where("s.status IN (?)", entitled).Scan(ctx, &f.MRRCents, &f.ActiveSubscriptions)
	if err != nil {
		return nil, fmt.Errorf("kpis: subscriptions: %w", err)
	}
	var succeeded, failed int
	err = s.db.NewSelect().Table("generations").ColumnExpr("COUNT(*)").
		ColumnExpr("COALESCE(SUM(CASE WHEN status = 'SUCCEEDED' THEN 1 ELSE 0 END), 0)").
		ColumnExpr("COALESCE(SUM(CASE WHEN status = 'FAILED' THEN 1 ELSE 0 END), 0)").
		Where("created_at >= ? AND created_at < ?", from, to).Scan(ctx, &f.Generations, &succeeded, &failed)
	if err != nil {
		return nil, fmt.Errorf("kpis: generations: %w", err)
	}
	if succeeded+failed > 0 {
		f.SuccessRate = float64(succeeded) / float64(succeeded+failed)
	}

	days := map[string]*Day{}
	for d := from.Truncate(24 * time.Hour); d.Before(to); d = d.Add(24 * time.Hour) {
		day := &Day{Date: d.Format(time.DateOnly)}
		days[day.Date] = day
		f.Daily = append(f.Daily, *day)
	}
	perDay := func(what string, q *bun.SelectQuery, add func(*Day, int)) error {
		var rows []dayCount
		if err := q.Scan(ctx, &rows); err != nil {
			return fmt.Errorf("kpis: %s: %w", what, err)
		}
		for _, r := range rows {
			if d, ok := days[r.Day]; ok {
				add(d, r.N)
			}
		}
		return nil
	}
	byDay := func(table, column, value string) *bun.SelectQuery {
		return s.db.NewSelect().Table(table).ColumnExpr(s.day(column)+" AS day").ColumnExpr(value+" AS n").
			Where(column+" >= ? AND "+column+" < ?", from, to).GroupExpr("day")
	}
	if err := perDay("new users", byDay("users", "created_at", "COUNT(*)"), func(d *Day, n int) { d.NewUsers = n; f.NewUsers += n }); err != nil {
		return nil, err
	}
	if err := perDay("generations", byDay("generations", "created_at", "COUNT(*)"), func(d *Day, n int) { d.Generations = n }); err != nil {
		return nil, err
	}
	if err := perDay("invoices", byDay("invoices", "paid_at", "SUM(amount_cents)"), func(d *Day, n int) { d.RevenueCents += n }); err != nil {
		return nil, err
	}
	if err := perDay("credit purchases", byDay("credit_purchases", "paid_at", "SUM(amount_cents)"), func(d *Day, n int) { d.RevenueCents += n }); err != nil {
		return nil, err
	}
	characters := s.db.NewSelect().Table("usage_days").ColumnExpr("day").ColumnExpr("SUM(characters) AS n").
		Where("day >= ? AND day <= ?", f.Daily[0].Date, f.Daily[len(f.Daily)-1].Date).GroupExpr("day")
	if err := perDay("characters", characters, func(d *Day, n int) { d.Characters = n; f.CharactersGenerated += n }); err != nil {
		return nil, err
	}
	for i := range f.Daily {
		f.Daily[i] = *days[f.Daily[i].Date]
	}
	return f, nil
}
