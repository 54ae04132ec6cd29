package apperror

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// verbs are the formatting verbs of a format, in order.
var verbs = regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)

// TestEveryInvalidMessageSpeaksJapanese reads Koe's source for calls of
// apperror.Invalid: each gives its format as a literal, and that format has a
// Japanese translation with the same verbs in the same order, so a Japanese
// user never meets an English message or a garbled one.
func TestEveryInvalidMessageSpeaksJapanese(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	calls := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "web" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "Invalid" {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "apperror" {
				return true
			}
			calls++
			at := fset.Position(call.Pos())
			require.GreaterOrEqual(t, len(call.Args), 2, "%s: Invalid(field, format, ...)", at)
			lit, ok := call.Args[1].(*ast.BasicLit)
			require.True(t, ok && lit.Kind == token.STRING, "%s: the format must be a string literal, to be translated", at)
			format, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			ja, ok := japanese[format]
			require.True(t, ok, "%s: %q has no Japanese translation in japanese.go", at, format)
			require.Equal(t, verbs.FindAllString(format, -1), verbs.FindAllString(ja, -1),
				"%s: the translation of %q must take the same arguments in the same order", at, format)
			return true
		})
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, calls, 40, "the walk found Koe's calls")
}

func TestMessageIn(t *testing.T) {
	t.Parallel()
	e := Invalid("input.text", "is %d characters long; your plan allows %d per generation", 6000, 5000)
	require.Equal(t, "is 6000 characters long; your plan allows 5000 per generation", e.MessageIn("en"))
	require.Equal(t, "6000 文字あります。ご利用のプランでは 1 回の生成につき 5000 文字までです", e.MessageIn("ja"))
	require.Equal(t, "already done", New(Conflict, "already done").MessageIn("ja"), "other codes keep their message")
}
