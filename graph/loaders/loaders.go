// Package loaders batches the lookups of GraphQL field resolvers: asking for
// fifty generations with their owner costs one query, not one per row.
// Loaders live for one response — a query, or one event of a subscription —
// so a subscription never answers from a stale cache. (Voices need none: the
// catalog answers from memory.)
package loaders

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/billing"
)

// wait is how long a loader collects keys before it queries. gqlgen resolves
// the fields of list items concurrently, so the keys of one list arrive
// within microseconds of each other.
const wait = 2 * time.Millisecond

// Sources are the batch lookups behind the loaders.
type Sources struct {
	Users func(ctx context.Context, ids []string) (map[string]*auth.User, error)
	Plans func(ctx context.Context, codes []string) (map[string]*billing.Plan, error)
}

// Loaders are the loaders of one response. Each is made on first use: most
// responses, and nearly every subscription event, need none of them.
type Loaders struct {
	src    Sources
	caller *auth.User
	user   lazy[*auth.User]
	plan   lazy[*billing.Plan]
}

// New returns loaders over src for one response. caller, when not nil, is
// the caller's user as read for this response: asking for it costs no query
// (people mostly list their own things, each showing its owner).
func New(src Sources, caller *auth.User) *Loaders {
	return &Loaders{src: src, caller: caller}
}

// User loads users by id.
func (l *Loaders) User() *dataloader.Loader[string, *auth.User] {
	return l.user.get("user", l.src.Users, func(ctx context.Context, loader *dataloader.Loader[string, *auth.User]) {
		if l.caller != nil {
			loader.Prime(ctx, l.caller.ID, l.caller)
		}
	})
}

// Plan loads plans by code.
func (l *Loaders) Plan() *dataloader.Loader[string, *billing.Plan] {
	return l.plan.get("plan", l.src.Plans, nil)
}

// lazy is a loader made the first time it is asked for; gqlgen resolves
// fields concurrently, so the first ask may come from several at once.
type lazy[V any] struct {
	once   sync.Once
	loader *dataloader.Loader[string, V]
}

// get returns the loader, making it and calling prime on it the first time.
func (z *lazy[V]) get(kind string, fetch func(context.Context, []string) (map[string]V, error),
	prime func(context.Context, *dataloader.Loader[string, V])) *dataloader.Loader[string, V] {
	z.once.Do(func() {
		z.loader = newLoader(kind, fetch)
		if prime != nil {
			prime(context.Background(), z.loader)
		}
	})
	return z.loader
}

func newLoader[V any](kind string, fetch func(context.Context, []string) (map[string]V, error)) *dataloader.Loader[string, V] {
	batch := func(ctx context.Context, keys []string) []*dataloader.Result[V] {
		found, err := fetch(ctx, keys)
		results := make([]*dataloader.Result[V], len(keys))
		for i, k := range keys {
			switch v, ok := found[k]; {
			case err != nil:
				results[i] = &dataloader.Result[V]{Error: err}
			case !ok:
				results[i] = &dataloader.Result[V]{Error: fmt.Errorf("%s %s not found", kind, k)}
			default:
				results[i] = &dataloader.Result[V]{Data: v}
			}
		}
		return results
	}
	return dataloader.NewBatchedLoader(batch, dataloader.WithWait[string, V](wait), dataloader.WithBatchCapacity[string, V](500))
}

type loadersKey struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *Loaders) context.Context {
	return context.WithValue(ctx, loadersKey{}, l)
}

// For returns the loaders of ctx; it panics if the middleware did not put
// them there, which is a wiring bug.
func For(ctx context.Context) *Loaders {
	return ctx.Value(loadersKey{}).(*Loaders)
}
