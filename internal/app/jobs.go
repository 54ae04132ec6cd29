package app

import (
	"context"
	"sync"
	"time"
)

// jobCountsTTL is how long /metrics reuses the job counts: scrapes (every
// replica's, every few seconds) then cost one GROUP BY over river_job per
// process per interval, however many come.
const jobCountsTTL = 5 * time.Second

// cachedCounts keeps the last counts read and when.
type cachedCounts struct {
	mu     sync.Mutex
	at     time.Time
	counts map[string]float64
}

// read returns a reader of counts through the cache: scrapes within
// jobCountsTTL of the last read share its answer, and scrapes arriving
// together wait for one read.
func (c *cachedCounts) read(counts func() map[string]float64) func() map[string]float64 {
	return func() map[string]float64 {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.counts == nil || time.Since(c.at) >= jobCountsTTL {
			// A failed read (nil) is not kept: the next scrape tries again.
			if fresh := counts(); fresh != nil {
				c.counts, c.at = fresh, time.Now()
			}
		}
		return c.counts
	}
}

// jobCounts is the number of River jobs in each state, for /metrics; nil
// when they could not be read.
func (a *App) jobCounts() map[string]float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var rows []struct {
		State string `bun:"state"`
		N     int    `bun:"n"`
	}
	if err := a.db.NewSelect().Table("river_job").ColumnExpr("state, COUNT(*) AS n").GroupExpr("state").Scan(ctx, &rows); err != nil {
		a.log.Warn("metrics: job counts", "err", err)
		return nil
	}
	out := make(map[string]float64, len(rows))
	for _, r := range rows {
		out[r.State] = float64(r.N)
	}
	return out
}
