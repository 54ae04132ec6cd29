package usage

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/apperror"
	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/store/storetest"
)

type bundle struct {
	svc  *Service
	now  *time.Time
	user string
}

// setup gives a fresh database with one user on a plan of 1,000 included
// characters (with overage when overage is true), and a clock to move.
func setup(t *testing.T, kind storetest.Kind, overage bool) bundle {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, kind)
	code := fmt.Sprintf("p%d", time.Now().UnixNano())
	var price any
	if overage {
		price = 10
	}
	_, err := db.NewRaw(`INSERT INTO plans (id, code, name, monthly_price_cents, currency, included_characters, overage_price_per1000_cents,
		max_concurrent_generations, max_characters_per_generation, created_at, updated_at)
		VALUES (?, ?, 'Test', 0, 'usd', 1000, ?, 10, 10000, ?, ?)`, gid.New(gid.Plan), code, price, time.Now(), time.Now()).Exec(ctx)
	require.NoError(t, err)
	u := &auth.User{ID: gid.New(gid.User), Role: auth.RoleUser, PlanCode: code, CreatedAt: time.Now()}
	_, err = db.NewInsert().Model(u).Exec(ctx)
	require.NoError(t, err)
	now := time.Date(2026, 1, 31, 23, 0, 0, 0, time.UTC)
	svc := NewService(db)
	svc.now = func() time.Time { return now }
	return bundle{svc: svc, now: &now, user: u.ID}
}

// step is one ledger operation of a table test.
type step struct {
	op   string // "reserve", "settle", "release", "credits"
	gen  string
	n    int
	want apperror.Code // for reserve: "" or QUOTA_EXCEEDED
}

func (b bundle) run(t *testing.T, steps []step) {
	t.Helper()
	ctx := context.Background()
	for i, s := range steps {
		err := b.svc.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			switch s.op {
			case "reserve":
				return b.svc.Reserve(ctx, tx, b.user, s.gen, s.n)
			case "settle":
				return b.svc.Settle(ctx, tx, s.gen)
			case "release":
				return b.svc.Release(ctx, tx, s.gen)
			case "credits":
				return b.svc.AddCredits(ctx, tx, b.user, int64(s.n))
			}
			return fmt.Errorf("unknown op %q", s.op)
		})
		if s.want != "" {
			require.Equal(t, s.want, apperror.CodeOf(err), "step %d %+v", i, s)
		} else {
			require.NoError(t, err, "step %d %+v", i, s)
		}
	}
}

func TestLedger(t *testing.T) {
	t.Parallel()
	type want struct{ used, reserved, credits, creditUsed, overage, remaining int64 }
	tests := []struct {
		name    string
		overage bool
		steps   []step
		want    want
	}{
		{"included characters first", false, []step{
			{op: "reserve", gen: "a", n: 600}, {op: "settle", gen: "a"},
		}, want{used: 600, remaining: 400}},
		{"a hard cap refuses what does not fit, and nothing is held", false, []step{
			{op: "reserve", gen: "a", n: 600}, {op: "reserve", gen: "b", n: 401, want: apperror.QuotaExceeded},
			{op: "reserve", gen: "c", n: 400},
		}, want{reserved: 1000, remaining: 0}},
		{"release gives characters back, once", false, []step{
			{op: "reserve", gen: "a", n: 800}, {op: "release", gen: "a"}, {op: "release", gen: "a"},
			{op: "reserve", gen: "b", n: 1000},
		}, want{reserved: 1000}},
		{"settling twice counts once; releasing after settling changes nothing", false, []step{
			{op: "reserve", gen: "a", n: 300}, {op: "settle", gen: "a"}, {op: "settle", gen: "a"}, {op: "release", gen: "a"},
		}, want{used: 300, remaining: 700}},
		{"credits after the included characters, before overage", false, []step{
			{op: "credits", n: 500}, {op: "reserve", gen: "a", n: 1200}, {op: "settle", gen: "a"},
		}, want{used: 1200, credits: 300, creditUsed: 200, remaining: 300}},
		{"credits raise the cap", false, []step{
			{op: "reserve", gen: "a", n: 1000}, {op: "reserve", gen: "b", n: 200, want: apperror.QuotaExceeded},
			{op: "credits", n: 200}, {op: "reserve", gen: "b", n: 200},
		}, want{reserved: 1200, credits: 200}},
		{"overage after credits when the plan allows it", true, []step{
			{op: "credits", n: 100}, {op: "reserve", gen: "a", n: 1500}, {op: "settle", gen: "a"},
		}, want{used: 1500, credits: 0, creditUsed: 100, overage: 400, remaining: -1}},
	}
	for _, kind := range storetest.Kinds {
		for _, tt := range tests {
			t.Run(string(kind)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, kind, tt.overage)
				b.run(t, tt.steps)
				u, err := b.svc.Of(context.Background(), b.user)
				require.NoError(t, err)
				got := want{used: u.UsedCharacters, reserved: u.ReservedCharacters, credits: u.CreditCharacters,
					creditUsed: u.CreditCharactersUsed, overage: u.OverageCharacters, remaining: -1}
				if u.Remaining != nil {
					got.remaining = *u.Remaining
				}
				require.Equal(t, tt.want, got)
			})
		}
	}
}

// TestPeriodRollover: a generation reserved on the last evening of January
// and finished in February counts in January; February starts from zero
// with the plan's characters, and January is kept as it ended.
func TestPeriodRollover(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, false)
			b.run(t, []step{{op: "reserve", gen: "late", n: 900}})
			*b.now = time.Date(2026, 2, 1, 0, 30, 0, 0, time.UTC)
			b.run(t, []step{{op: "settle", gen: "late"}, {op: "reserve", gen: "feb", n: 1000}, {op: "settle", gen: "feb"}})

			feb, err := b.svc.Of(context.Background(), b.user)
			require.NoError(t, err)
			require.Equal(t, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), feb.Start.UTC())
			require.Equal(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), feb.End.UTC())
			require.EqualValues(t, 1000, feb.UsedCharacters, "only February's generation")
			require.EqualValues(t, 0, *feb.Remaining)

			var jan Period
			require.NoError(t, b.svc.db.NewSelect().Model(&jan).Where("user_id = ? AND period_start = ?", b.user,
				time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).Scan(context.Background()))
			require.EqualValues(t, 900, jan.UsedCharacters)
			require.EqualValues(t, 0, jan.ReservedCharacters)

			// Both settlements happened on February 1st.
			require.Len(t, feb.Daily, 1)
			require.Equal(t, "2026-02-01", feb.Daily[0].Date)
			require.EqualValues(t, 1900, feb.Daily[0].Characters)
			require.Equal(t, 2, feb.Daily[0].Generations)
		})
	}
}

// TestThresholdEvents: crossing 80% and 100% of the quota records one event
// each, however the crossing happens and however often a step is retried.
func TestThresholdEvents(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind, false)
			count := func() (n int) {
				require.NoError(t, b.svc.db.NewRaw("SELECT count(*) FROM domain_events WHERE user_id = ? AND kind = 'usage.threshold'", b.user).
					Scan(context.Background(), &n))
				return n
			}
			b.run(t, []step{{op: "reserve", gen: "a", n: 700}, {op: "settle", gen: "a"}})
			require.Equal(t, 0, count(), "70%")
			b.run(t, []step{{op: "reserve", gen: "b", n: 150}, {op: "settle", gen: "b"}, {op: "settle", gen: "b"}})
			require.Equal(t, 1, count(), "85%: the 80% event, once")
			b.run(t, []step{{op: "reserve", gen: "c", n: 150}, {op: "settle", gen: "c"}})
			require.Equal(t, 2, count(), "100%")
		})
	}
}
