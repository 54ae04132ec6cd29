package marshal

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// Pooled marshals a list's items at once, as
// graphql.MarshalSliceConcurrently does, so that their resolvers wait
// together (on a dataloader's batch, say), but on goroutines that marshalled
// items before. A new goroutine starts with a 2 KB stack and copies it as
// gqlgen's deep calls grow it to 16 KB: for a page of 20 generations that was
// a tenth of the CPU. One item is marshalled on the calling goroutine, which
// would otherwise only wait. It keeps MarshalSliceConcurrently's promises:
// each item's field context has its index, and a panicking item is null with
// the panic reported as an error, unless omitPanicHandler. A worker limit is
// left to gqlgen's own.
func Pooled(
	ctx context.Context,
	length int,
	workerLimit int64,
	omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	if length < 2 || workerLimit > 0 {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	ret := make(graphql.Array, length)
	item := func(i int) {
		ctx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if !omitPanicHandler {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(ctx, graphql.Recover(ctx, r))
					ret[i] = graphql.Null
				}
			}()
		}
		ret[i] = marshalElement(ctx, i)
	}
	var wg sync.WaitGroup
	wg.Add(length - 1)
	for i := 1; i < length; i++ {
		listWorkers.run(func() {
			defer wg.Done()
			item(i)
		})
	}
	item(0)
	wg.Wait()
	return ret
}

// listWorkers are the goroutines Pooled hands items to.
var listWorkers = workerPool{maxIdle: 512}

// workerPool runs functions on goroutines that wait for the next one when
// done, up to maxIdle of them; when none is idle, it starts another, so a
// function never waits for a worker (items that wait on each other's
// dataloader batch cannot deadlock). An idle worker's stack is shrunk by the
// GC like any goroutine's.
type workerPool struct {
	maxIdle int
	mu      sync.Mutex
	idle    []chan func()
}

// run calls f on an idle worker, or on a new one.
func (p *workerPool) run(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w <- f
		return
	}
	p.mu.Unlock()
	go p.work(f)
}

// work calls f and then whatever run hands it, until there are maxIdle
// idle workers already.
func (p *workerPool) work(f func()) {
	next := make(chan func(), 1)
	for {
		f()
		p.mu.Lock()
		if len(p.idle) >= p.maxIdle {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, next)
		p.mu.Unlock()
		f = <-next
	}
}
