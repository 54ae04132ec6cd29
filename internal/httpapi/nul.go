package httpapi

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koe-voice/koe/internal/apperror"
)

// refuseNUL refuses, before anything runs, an operation that carries a NUL
// character (U+0000) in any string: a variable, or an argument written in the
// document (as the escape \u0000). PostgreSQL cannot store NUL in text, SQLite
// drivers refuse it in statements, and engines stop reading at it, so each
// resolver would otherwise meet it as an internal error; here it is
// BAD_USER_INPUT naming the variable or argument, once for every field.
type refuseNUL struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = refuseNUL{}

func (refuseNUL) ExtensionName() string                   { return "RefuseNUL" }
func (refuseNUL) Validate(graphql.ExecutableSchema) error { return nil }
func (refuseNUL) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	for _, def := range op.Operation.VariableDefinitions {
		if path, ok := nulInVariable(ast.Path{ast.PathName(def.Variable)}, op.Variables[def.Variable]); ok {
			return nulError(path)
		}
	}
	if path, ok := nulInSelections(op.Operation.SelectionSet); ok {
		return nulError(path)
	}
	// Fragments are checked where they are written, not where they are
	// spread: the same arguments, read once.
	for _, f := range op.Doc.Fragments {
		if path, ok := nulInSelections(f.SelectionSet); ok {
			return nulError(path)
		}
	}
	return nil
}

func nulError(path ast.Path) *gqlerror.Error {
	return gqlerror.WrapIfUnwrapped(apperror.Invalid(path.String(), "must not contain NUL characters (U+0000)"))
}

// nulInVariable finds a NUL in a variable's value as the request decoded it.
func nulInVariable(path ast.Path, v any) (ast.Path, bool) {
	switch v := v.(type) {
	case string:
		return path, strings.IndexByte(v, 0) >= 0
	case []any:
		for i, e := range v {
			if p, ok := nulInVariable(append(path, ast.PathIndex(i)), e); ok {
				return p, true
			}
		}
	case map[string]any:
		for k, e := range v {
			if p, ok := nulInVariable(append(path, ast.PathName(k)), e); ok {
				return p, true
			}
		}
	}
	return nil, false
}

// nulInSelections finds a NUL in the literal arguments of fields and
// directives, at any depth.
func nulInSelections(set ast.SelectionSet) (ast.Path, bool) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if p, ok := nulInArguments(s.Arguments, s.Directives); ok {
				return p, true
			}
			if p, ok := nulInSelections(s.SelectionSet); ok {
				return p, true
			}
		case *ast.InlineFragment:
			if p, ok := nulInArguments(nil, s.Directives); ok {
				return p, true
			}
			if p, ok := nulInSelections(s.SelectionSet); ok {
				return p, true
			}
		case *ast.FragmentSpread:
			if p, ok := nulInArguments(nil, s.Directives); ok {
				return p, true
			}
		}
	}
	return nil, false
}

func nulInArguments(args ast.ArgumentList, directives ast.DirectiveList) (ast.Path, bool) {
	for _, d := range directives {
		args = append(args[:len(args):len(args)], d.Arguments...)
	}
	for _, a := range args {
		if p, ok := nulInValue(ast.Path{ast.PathName(a.Name)}, a.Value); ok {
			return p, true
		}
	}
	return nil, false
}

// nulInValue finds a NUL in a value written in the document; variables in it
// are checked as variables.
func nulInValue(path ast.Path, v *ast.Value) (ast.Path, bool) {
	if v == nil {
		return nil, false
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		return path, strings.IndexByte(v.Raw, 0) >= 0
	case ast.ListValue:
		for i, c := range v.Children {
			if p, ok := nulInValue(append(path, ast.PathIndex(i)), c.Value); ok {
				return p, true
			}
		}
	case ast.ObjectValue:
		for _, c := range v.Children {
			if p, ok := nulInValue(append(path, ast.PathName(c.Name)), c.Value); ok {
				return p, true
			}
		}
	}
	return nil, false
}
