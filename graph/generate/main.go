// Command generate runs gqlgen on gqlgen.yml, then has lists that need no
// goroutines marshalled in order.
//
// gqlgen marshals every list of objects with a goroutine per item
// (graphql.MarshalSliceConcurrently), so that resolvers that wait — on a
// dataloader, say — wait together. For a list whose items, and everything
// under them, are plain fields read from Go values, nothing waits: the
// goroutines only cost their start, their stack growth and the GC's help, which
// was a fifth of the CPU of a voices(first: 50) request. This command finds
// those lists after gqlgen has built its model of the schema and points their
// marshal functions at marshalInOrder (graph/generated/inorder.go), which takes
// the same arguments and marshals on the calling goroutine.
//
//	go run ./graph/generate   (what go generate ./... runs)
package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	if err := generate(); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func generate() error {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		return err
	}
	// gqlgen logs its progress; its own command shows it only with -v.
	log.SetOutput(io.Discard)
	p := &inOrder{}
	if err := api.Generate(cfg, api.AddPlugin(p)); err != nil {
		return err
	}
	return p.rewrite(cfg.Exec.Dir())
}

// inOrder is a gqlgen plugin that remembers, from gqlgen's model of the
// schema, the marshal functions of lists whose items need no goroutine.
type inOrder struct {
	funcs map[string]bool
}

func (*inOrder) Name() string { return "inorder" }

// GenerateCode runs before gqlgen writes the executable schema; it only
// reads data.
func (p *inOrder) GenerateCode(data *codegen.Data) error {
	plain := plainTypes(data)
	p.funcs = map[string]bool{}
	for _, ref := range data.ReferencedTypes {
		// gqlgen marshals lists of scalars in a loop already, and input
		// objects are never marshalled.
		if ref.IsSlice() && ref.Definition.Kind != ast.Scalar && ref.Definition.Kind != ast.InputObject && plain(ref.Definition) {
			p.funcs[ref.MarshalFunc()] = true
		}
	}
	return nil
}

// plainTypes reports which types marshal without any goroutine: scalars,
// enums, and the composite types (objects, interfaces, unions) none of whose
// fields is resolved concurrently and whose fields' types are plain too. It
// finds the largest such set: every composite type starts plain and loses it
// until nothing changes, so types that refer to each other stay plain
// together.
func plainTypes(data *codegen.Data) func(*ast.Definition) bool {
	composite := map[string]bool{}
	for _, o := range data.Objects {
		composite[o.Name] = true
	}
	for name := range data.Interfaces {
		composite[name] = true
	}
	plain := func(def *ast.Definition) bool {
		switch def.Kind {
		case ast.Object, ast.Interface, ast.Union:
			return composite[def.Name]
		}
		return true
	}
	for changed := true; changed; {
		changed = false
		for _, o := range data.Objects {
			if !composite[o.Name] {
				continue
			}
			for _, f := range o.Fields {
				if f.IsConcurrent() || !plain(f.TypeReference.Definition) {
					composite[o.Name], changed = false, true
					break
				}
			}
		}
		for name, i := range data.Interfaces {
			if !composite[name] {
				continue
			}
			for _, impl := range i.Implementors {
				if !composite[impl.Name] {
					composite[name], changed = false, true
					break
				}
			}
		}
	}
	return plain
}

// rewrite points the chosen marshal functions in dir's generated files at
// marshalInOrder. It fails if one of them is not found where gqlgen writes
// it, so a gqlgen upgrade that changes its output cannot go unnoticed.
func (p *inOrder) rewrite(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.generated.go"))
	if err != nil {
		return err
	}
	found := map[string]bool{}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		out, changed := src, false
		for name := range p.funcs {
			var ok bool
			if out, ok = redirect(out, name); ok {
				found[name], changed = true, true
			}
		}
		if changed {
			if err := os.WriteFile(file, out, 0o644); err != nil {
				return err
			}
		}
	}
	var missing []string
	for name := range p.funcs {
		if !found[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("no graphql.MarshalSliceConcurrently call in %v: did gqlgen change what it writes?", missing)
	}
	return nil
}

var (
	concurrently = []byte("graphql.MarshalSliceConcurrently(")
	inOrderCall  = []byte("marshalInOrder(")
)

// redirect replaces the MarshalSliceConcurrently call inside the function
// name of src, reporting whether it found one.
func redirect(src []byte, name string) ([]byte, bool) {
	start := bytes.Index(src, []byte("func (ec *executionContext) "+name+"("))
	if start < 0 {
		return src, false
	}
	body := src[start:]
	if end := bytes.Index(body[1:], []byte("\nfunc ")); end >= 0 {
		body = body[:end+1]
	}
	at := bytes.Index(body, concurrently)
	if at < 0 {
		return src, false
	}
	at += start
	out := make([]byte, 0, len(src))
	out = append(out, src[:at]...)
	out = append(out, inOrderCall...)
	return append(out, src[at+len(concurrently):]...), true
}
