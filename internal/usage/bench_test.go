package usage

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/koe-voice/koe/internal/gid"
	"github.com/koe-voice/koe/internal/store/storetest"
)

// BenchmarkReserve measures quota reservations a second on PostgreSQL with
// 64 concurrent submitters: all on one user (every reservation updates the
// same period row: the hot-row case) and spread over 1,000 users. Each
// reservation is a whole transaction as createGeneration runs it (period
// upsert, conditional update, reservation row), committed.
func BenchmarkReserve(b *testing.B) {
	for _, users := range []int{1, 1000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			db := storetest.Open(b, storetest.Postgres)
			ctx := context.Background()
			_, err := db.NewRaw(`INSERT INTO plans (id, code, name, monthly_price_cents, currency, included_characters, overage_price_per1000_cents,
				max_concurrent_generations, max_characters_per_generation, created_at, updated_at)
				VALUES (?, 'bench', 'Bench', 0, 'usd', 1000000000, NULL, 100, 100000, ?, ?)`, gid.New(gid.Plan), time.Now(), time.Now()).Exec(ctx)
			if err != nil {
				b.Fatal(err)
			}
			ids := make([]string, users)
			for i := range ids {
				ids[i] = gid.New(gid.User)
				if _, err := db.NewRaw("INSERT INTO users (id, role, plan_code, created_at) VALUES (?, 'USER', 'bench', ?)", ids[i], time.Now()).Exec(ctx); err != nil {
					b.Fatal(err)
				}
			}
			svc := NewService(db)
			db.DB.SetMaxOpenConns(64)
			var next atomic.Int64
			b.SetParallelism(32) // 32 × GOMAXPROCS(2) = 64 submitters
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := next.Add(1)
					user := ids[int(n)%users]
					err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
						return svc.Reserve(ctx, tx, user, fmt.Sprintf("gen_bench_%d", n), 100)
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reservations/s")
		})
	}
}
