package httpapi

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/koe-voice/koe/internal/apperror"
)

// Shape limits of one operation, checked before anything executes.
const (
	// maxDepth admits every query the schema needs (introspection nests
	// ofType about a dozen deep) and refuses pathological nesting.
	maxDepth = 15
	// maxFields bounds the fields of an operation after fragments are
	// expanded, aliases counted one each.
	maxFields = 500
)

// shapeLimit refuses operations nested deeper than maxDepth or selecting
// more than maxFields fields, with COMPLEXITY_LIMIT_EXCEEDED, and mutations
// that select one field more than once, with BAD_USER_INPUT naming it.
type shapeLimit struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = shapeLimit{}

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }
func (shapeLimit) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	w := shapeWalker{fragments: op.Doc.Fragments}
	w.walk(op.Operation.SelectionSet, 1)
	switch {
	case w.depth > maxDepth:
		return shapeError("the operation is nested %d deep; the limit is %d", w.depth, maxDepth)
	case w.fields > maxFields:
		return shapeError("the operation selects more than %d fields (aliases and fragments included)", maxFields)
	}
	if op.Operation.Operation == ast.Mutation {
		return onceEach(op.Doc.Fragments, op.Operation.SelectionSet)
	}
	return nil
}

// onceEach refuses a mutation that selects one of its fields more than once,
// under aliases or through fragments: each selection would run the mutation
// again, so one request (one unit of the rate limit) could make 245 API keys.
// Clients that mean several changes send several requests. No mutation field
// is exempt: none needs to run twice in one document, and a rule without
// exceptions cannot be missed by the next mutation added.
func onceEach(fragments ast.FragmentDefinitionList, root ast.SelectionSet) *gqlerror.Error {
	counts := map[string]int{}
	var order []string
	var count func(ast.SelectionSet)
	count = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if counts[s.Name] == 0 {
					order = append(order, s.Name)
				}
				counts[s.Name]++
			case *ast.InlineFragment:
				count(s.SelectionSet)
			case *ast.FragmentSpread:
				// Validation has refused cycles, and shapeLimit has bounded
				// the fields fragments expand to; a fragment spread twice
				// counts twice.
				if f := fragments.ForName(s.Name); f != nil {
					count(f.SelectionSet)
				}
			}
		}
	}
	count(root)
	for _, name := range order {
		if n := counts[name]; n > 1 {
			return gqlerror.WrapIfUnwrapped(apperror.Invalid(name, "is selected %d times; a mutation runs each field once", n))
		}
	}
	return nil
}

func shapeError(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, string(apperror.ComplexityLimitExceeded))
	return err
}

type shapeWalker struct {
	fragments     ast.FragmentDefinitionList
	depth, fields int
}

// walk counts fields and depth, stopping as soon as a limit is passed so a
// hostile document costs no more than the limits.
func (w *shapeWalker) walk(set ast.SelectionSet, depth int) {
	if depth > maxDepth+1 || w.fields > maxFields {
		return
	}
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			w.depth = max(w.depth, depth)
			w.walk(s.SelectionSet, depth+1)
		case *ast.InlineFragment:
			w.walk(s.SelectionSet, depth)
		case *ast.FragmentSpread:
			if f := w.fragments.ForName(s.Name); f != nil {
				w.walk(f.SelectionSet, depth)
			}
		}
	}
}
