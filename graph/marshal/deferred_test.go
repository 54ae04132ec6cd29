package marshal

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

func TestDeferredGroup(t *testing.T) {
	t.Parallel()
	ctx := graphql.WithFieldContext(context.Background(), &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "me"}}})
	plain := []graphql.CollectedField{{Field: &ast.Field{Name: "id"}}, {Field: &ast.Field{Name: "plan"}}}
	require.Equal(t, graphql.DeferredGroup{}, DeferredGroup(ctx, plain), "nothing to defer: nothing made")

	deferred := append(plain, graphql.CollectedField{Field: &ast.Field{Name: "usage"}, Deferrables: []*graphql.Deferrable{{Label: "later"}}})
	g := DeferredGroup(ctx, deferred)
	require.Equal(t, ast.Path{ast.PathName("me")}, g.Path, "a deferred field gets gqlgen's group, at the object's path")
	require.NotNil(t, g.FieldSet)
	require.NotNil(t, g.Defers)
}
