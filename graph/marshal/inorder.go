package marshal

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// InOrder marshals a list's items one after another on the calling
// goroutine. It takes graphql.MarshalSliceConcurrently's arguments and keeps
// what it promises: each item's field context has its index, and a panicking
// item is null with the panic reported as an error, unless omitPanicHandler.
// There is no worker limit to honour with a single worker.
func InOrder(
	ctx context.Context,
	length int,
	_ int64,
	omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler,
) graphql.Array {
	ret := make(graphql.Array, length)
	for i := range length {
		ctx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &i})
		if omitPanicHandler {
			ret[i] = marshalElement(ctx, i)
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(ctx, graphql.Recover(ctx, r))
					ret[i] = graphql.Null
				}
			}()
			ret[i] = marshalElement(ctx, i)
		}()
	}
	return ret
}
