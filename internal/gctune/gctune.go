// Package gctune keeps Go's garbage collector from running needlessly often
// while the heap is small.
//
// With Go's default GOGC=100 the heap may grow by as much as is live before
// the next collection. An API process holds little between requests (20 MB
// or so), so under load it collects every few milliseconds, and the GC's
// background work and the help it demands of allocating goroutines were a
// fifth of the CPU of a GraphQL read. Run lets the heap grow by at least
// Headroom instead, while still growing it by no less than what is live once
// that is larger: memory stays bounded by live + max(live, Headroom).
package gctune

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Headroom is how much the heap may grow between collections, at least. 128
// MB takes most of the collections out of a GraphQL read (GOGC ~600 at 20 MB
// live); 64 MB left a page of generations 10 % slower, and 256 MB spread
// 10,000 websockets' memory over more spans (21 KB a socket after a
// collection instead of 19).
const Headroom = 128 << 20

// The GOGC values Run sets stay between Go's default and maxPercent: a heap
// of a few MB does not get to grow by a hundred times itself.
const (
	minPercent = 100
	maxPercent = 1000
)

// every is how often Run looks at the live heap.
const every = time.Second

// Run sets GOGC from the live heap every second until ctx ends, then puts
// back what was set before. It does nothing when the GOGC environment
// variable is set: the operator has chosen.
func Run(ctx context.Context) {
	if os.Getenv("GOGC") != "" {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	set := debug.SetGCPercent(minPercent)
	defer debug.SetGCPercent(set)
	last := minPercent
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		metrics.Read(sample)
		if p := Percent(sample[0].Value.Uint64(), Headroom); p != last {
			debug.SetGCPercent(p)
			last = p
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Percent is the GOGC that lets a heap with live bytes grow by headroom
// before the next collection, within [100, 1000].
func Percent(live, headroom uint64) int {
	if live == 0 {
		return maxPercent
	}
	return int(min(max(headroom*100/live, minPercent), maxPercent))
}
