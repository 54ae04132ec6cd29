// Package graph_test checks graph/schema.graphqls against the public API
// contract in docs/api.graphql (a copy of the contract every client relies on).
package graph_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

func load(t *testing.T, path string) *ast.Schema {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	s, gqlErr := gqlparser.LoadSchema(&ast.Source{Name: path, Input: string(b)})
	require.Nil(t, gqlErr, "%s", path)
	return s
}

// TestSchemaContainsTheContract: every type, field, argument, enum value,
// interface and directive of the contract is in the schema unchanged, and
// every field of the schema has a doc string.
func TestSchemaContainsTheContract(t *testing.T) {
	t.Parallel()
	contract, schema := load(t, "../docs/api.graphql"), load(t, "schema.graphqls")
	for name, want := range contract.Types {
		if want.BuiltIn {
			continue
		}
		got := schema.Types[name]
		require.NotNil(t, got, "type %s", name)
		require.Equal(t, want.Kind, got.Kind, "kind of %s", name)
		require.Subset(t, got.Interfaces, want.Interfaces, "interfaces of %s", name)
		for _, v := range want.EnumValues {
			require.NotNil(t, got.EnumValues.ForName(v.Name), "enum value %s.%s", name, v.Name)
		}
		for _, wf := range want.Fields {
			gf := got.Fields.ForName(wf.Name)
			require.NotNil(t, gf, "field %s.%s", name, wf.Name)
			require.Equal(t, wf.Type.String(), gf.Type.String(), "type of %s.%s", name, wf.Name)
			require.Equal(t, defaultOf(wf.DefaultValue), defaultOf(gf.DefaultValue), "default of %s.%s", name, wf.Name)
			for _, wa := range wf.Arguments {
				ga := gf.Arguments.ForName(wa.Name)
				require.NotNil(t, ga, "argument %s.%s(%s)", name, wf.Name, wa.Name)
				require.Equal(t, wa.Type.String(), ga.Type.String(), "type of %s.%s(%s)", name, wf.Name, wa.Name)
				require.Equal(t, defaultOf(wa.DefaultValue), defaultOf(ga.DefaultValue), "default of %s.%s(%s)", name, wf.Name, wa.Name)
			}
			for _, ga := range gf.Arguments {
				if wf.Arguments.ForName(ga.Name) == nil {
					require.True(t, ga.DefaultValue != nil || !ga.Type.NonNull, "added argument %s.%s(%s) must be optional", name, wf.Name, ga.Name)
				}
			}
			for _, wd := range wf.Directives {
				gd := gf.Directives.ForName(wd.Name)
				require.NotNil(t, gd, "directive @%s on %s.%s", wd.Name, name, wf.Name)
				require.Equal(t, wd.Arguments.ForName("role") == nil, gd.Arguments.ForName("role") == nil)
				if r := wd.Arguments.ForName("role"); r != nil {
					require.Equal(t, r.Value.Raw, gd.Arguments.ForName("role").Value.Raw, "role of %s.%s", name, wf.Name)
				}
			}
		}
	}
	for name := range contract.Directives {
		require.NotNil(t, schema.Directives[name], "directive @%s", name)
	}
	for name, typ := range schema.Types {
		if typ.BuiltIn {
			continue
		}
		require.NotEmpty(t, typ.Description, "type %s has a doc string", name)
		for _, f := range typ.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue // introspection fields the parser adds
			}
			require.NotEmpty(t, f.Description, "field %s.%s has a doc string", name, f.Name)
		}
		for _, v := range typ.EnumValues {
			require.NotEmpty(t, v.Description, "enum value %s.%s has a doc string", name, v.Name)
		}
	}
}

func defaultOf(v *ast.Value) string {
	if v == nil {
		return ""
	}
	return v.String()
}

// public are the root fields anyone may call without signing in.
var public = map[string]bool{
	"Query.node": true, "Query.voices": true, "Query.voiceLanguages": true, "Query.voice": true, "Query.plans": true, "Query.creditPacks": true,
}

// TestRootFieldsAreGuarded: every root field needs @auth or @hasRole unless
// it is deliberately public, so a new field cannot ship unguarded by
// forgetting the directive.
func TestRootFieldsAreGuarded(t *testing.T) {
	t.Parallel()
	schema := load(t, "schema.graphqls")
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			name := root.Name + "." + f.Name
			guarded := f.Directives.ForName("auth") != nil || f.Directives.ForName("hasRole") != nil
			require.True(t, guarded || public[name], "%s has neither @auth nor @hasRole; add one, or list it in `public` if anyone may call it", name)
			require.False(t, guarded && public[name], "%s is listed as public but has a directive", name)
		}
	}
}
