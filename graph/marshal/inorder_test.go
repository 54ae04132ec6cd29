package marshal

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestMarshalInOrder(t *testing.T) {
	t.Parallel()
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "voices"}}})

	var order []int
	ret := InOrder(ctx, 4, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		order = append(order, *graphql.GetFieldContext(ctx).Index)
		if i == 2 {
			panic("boom")
		}
		return graphql.MarshalInt(i * 10)
	})
	require.Equal(t, []int{0, 1, 2, 3}, order, "one item after another, each knowing its index")
	requireOnePanic(t, ctx, ret, "[0,10,null,30]", ast.Path{ast.PathName("voices"), ast.PathIndex(2)})

	require.Empty(t, InOrder(ctx, 0, 0, false, nil))
	require.Panics(t, func() {
		InOrder(ctx, 1, 0, true, func(context.Context, int) graphql.Marshaler { panic("boom") })
	}, "omitPanicHandler leaves panics to the caller, as gqlgen's own does")
}

// requireOnePanic checks that a marshalled list reads want, the panicking
// item null and the others kept in order, and that the one error reported
// names the item at path.
func requireOnePanic(t *testing.T, ctx context.Context, ret graphql.Array, want string, path ast.Path) {
	t.Helper()
	var out strings.Builder
	ret.MarshalGQL(&out)
	require.Equal(t, want, out.String(), "a panicking item is null, the others are kept in order")
	errs := graphql.GetErrors(ctx)
	require.Len(t, errs, 1)
	require.Equal(t, path, errs[0].Path, "the error names the item")
}
