// Package marshal holds what graph/generate points gqlgen's generated
// marshal functions at instead of gqlgen's own concurrency machinery:
// InOrder for lists with nothing under them that waits, Pooled for lists
// whose items may wait (on a dataloader), on goroutines kept from earlier
// lists, and DeferredGroup, made only when a field is deferred. Why, and
// what it saves, is in graph/generate's doc.
package marshal

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// DeferredGroup is graphql.NewDeferredGroup for an object whose collected
// fields are fields, made only when one of them is deferred. Nothing is added
// to a group otherwise, and making one reads the path and makes a field set
// and a map: for every object of every response.
func DeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for _, f := range fields {
		if f.IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}
