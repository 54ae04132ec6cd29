// Package loaders batches the lookups of GraphQL field resolvers: asking for
// fifty generations with their voice and owner costs one query per kind, not
// one per row. Loaders live for one response — a query, or one event of a
// subscription — so a subscription never answers from a stale cache.
package loaders

import (
	"context"
	"fmt"
	"time"

	"github.com/graph-gophers/dataloader/v7"

	"github.com/koe-voice/koe/internal/auth"
	"github.com/koe-voice/koe/internal/billing"
	"github.com/koe-voice/koe/internal/voice"
)

// wait is how long a loader collects keys before it queries. gqlgen resolves
// the fields of list items concurrently, so the keys of one list arrive
// within microseconds of each other.
const wait = 2 * time.Millisecond

// Sources are the batch lookups behind the loaders.
type Sources struct {
	Voices func(ctx context.Context, ids []string) (map[string]*voice.Voice, error)
	Users  func(ctx context.Context, ids []string) (map[string]*auth.User, error)
	Plans  func(ctx context.Context, codes []string) (map[string]*billing.Plan, error)
}

// Loaders are the loaders of one response.
type Loaders struct {
	Voice *dataloader.Loader[string, *voice.Voice]
	User  *dataloader.Loader[string, *auth.User]
	Plan  *dataloader.Loader[string, *billing.Plan]
}

// New returns fresh loaders over src.
func New(src Sources) *Loaders {
	return &Loaders{
		Voice: newLoader("voice", src.Voices),
		User:  newLoader("user", src.Users),
		Plan:  newLoader("plan", src.Plans),
	}
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
