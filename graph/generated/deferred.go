package generated

// This file is Koe's, not gqlgen's: graph/generate points the marshal
// functions of objects here.

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// deferredGroup is graphql.NewDeferredGroup for an object whose collected
// fields are fields, made only when one of them is deferred. Nothing is added
// to a group otherwise, and making one reads the path and makes a field set
// and a map: for every object of every response.
func deferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for _, f := range fields {
		if f.IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}
