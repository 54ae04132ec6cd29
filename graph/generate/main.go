// Command generate runs gqlgen on gqlgen.yml, then takes out of the generated
// code the concurrency machinery that costs more than it gives.
//
// gqlgen marshals every list of objects with a new goroutine per item
// (graphql.MarshalSliceConcurrently), so that resolvers that wait — on a
// dataloader, say — wait together; within an object it starts a goroutine
// for each resolver field but one; and it gives every object a group for the
// fields a client @defers, which only fields resolved concurrently use. The
// goroutines cost their start, their stack growth (2 KB to 16 KB under
// gqlgen's deep calls) and the GC's help: a fifth of the CPU of a
// voices(first: 50) request, a tenth of a generations(first: 20) one; the
// groups another 7 %. This command reads gqlgen's model of the schema, after
// it has been built, and
//   - turns off concurrency within the objects named in inline (at most one
//     of their fields ever waits);
//   - points the marshal function of a list of a plain type (nothing under
//     it is a resolver) at marshal.InOrder (graph/marshal), which takes
//     MarshalSliceConcurrently's arguments and marshals on the calling
//     goroutine, and every other list at marshal.Pooled, which marshals the
//     items at once on goroutines kept from earlier lists, stacks already
//     grown;
//   - has the marshal function of an object make its deferred group only
//     when a field is deferred (marshal.DeferredGroup):
//     graphql.NewDeferredGroup reads the path and makes a field set and a
//     map for each object.
//
// The generated folder holds gqlgen's output alone; what the edits call
// lives in graph/marshal, imported where an edit lands.
//
// go generate ./... runs it (see graph/resolvers/resolver.go).
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"log"
	"os"
	"path/filepath"
	"sort"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/tools/go/ast/astutil"
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
	p := &plainPlugin{}
	if err := api.Generate(cfg, api.AddPlugin(p)); err != nil {
		return err
	}
	return p.rewrite(cfg.Exec.Dir())
}

// plainPlugin is a gqlgen plugin that works out, from gqlgen's model of the
// schema, the edits to make to the generated code.
type plainPlugin struct {
	edits []edit
}

// edit replaces the first call to from in the generated function fn with a
// call to to.
type edit struct{ fn, from, to string }

func (*plainPlugin) Name() string { return "plain" }

// inline names the objects whose resolvers may run one after another on the
// object's goroutine, and why that costs nothing: gqlgen starts a goroutine
// for every resolver field of an object but one, so that fields that wait
// (on a dataloader, a query) wait together; an object with at most one field
// that ever waits has nothing to overlap. Items of a list still wait
// together (marshalPooled).
var inline = map[string]string{
	"Generation": "only owner may wait (the user loader); voice reads the voice catalog's copy in memory, audio and error are computed",
}

// GenerateCode runs before gqlgen writes the executable schema; it reads
// data, and turns off concurrency for the inline objects.
func (p *plainPlugin) GenerateCode(data *codegen.Data) error {
	found := 0
	for _, o := range data.Objects {
		if _, ok := inline[o.Name]; ok {
			o.DisableConcurrency = true
			found++
		}
	}
	if found != len(inline) {
		return fmt.Errorf("an object named in inline is not in the schema: %v", inline)
	}
	plain := plainTypes(data)
	for _, ref := range data.ReferencedTypes {
		// gqlgen marshals lists of scalars in a loop already, and input
		// objects are never marshalled.
		if !ref.IsSlice() || ref.Definition.Kind == ast.Scalar || ref.Definition.Kind == ast.InputObject {
			continue
		}
		to := "marshal.Pooled("
		if plain(ref.Definition) {
			to = "marshal.InOrder("
		}
		p.edits = append(p.edits, edit{ref.MarshalFunc(), "graphql.MarshalSliceConcurrently(", to})
	}
	for _, o := range data.Objects {
		if !o.Stream {
			p.edits = append(p.edits, edit{"_" + o.Name, "graphql.NewDeferredGroup(ctx)", "marshal.DeferredGroup(ctx, fields)"})
		}
	}
	return nil
}

// plainTypes reports which types marshal without any goroutine: scalars,
// enums, and the composite types (objects, interfaces, unions) none of whose
// fields is a resolver or resolved concurrently and whose fields' types are
// plain too. It finds the largest such set: every composite type starts plain
// and loses it until nothing changes, so types that refer to each other stay
// plain together.
func plainTypes(data *codegen.Data) func(*ast.Definition) bool {
	plainComposite := map[string]bool{}
	for _, o := range data.Objects {
		plainComposite[o.Name] = true
	}
	for name := range data.Interfaces {
		plainComposite[name] = true
	}
	plain := func(def *ast.Definition) bool {
		switch def.Kind {
		case ast.Object, ast.Interface, ast.Union:
			return plainComposite[def.Name]
		}
		return true
	}
	for changed := true; changed; {
		changed = false
		for _, o := range data.Objects {
			if !plainComposite[o.Name] {
				continue
			}
			for _, f := range o.Fields {
				// Mutation's resolvers run one after another, but they are
				// resolvers: they wait.
				if f.IsConcurrent() || f.IsResolver || !plain(f.TypeReference.Definition) {
					plainComposite[o.Name], changed = false, true
					break
				}
			}
		}
		for name, i := range data.Interfaces {
			if !plainComposite[name] {
				continue
			}
			for _, impl := range i.Implementors {
				if !plainComposite[impl.Name] {
					plainComposite[name], changed = false, true
					break
				}
			}
		}
	}
	return plain
}

// rewrite makes the edits in dir's generated files. It fails if an edit's
// call is not found where gqlgen writes it, so a gqlgen upgrade that changes
// its output cannot go unnoticed.
func (p *plainPlugin) rewrite(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.generated.go"))
	if err != nil {
		return err
	}
	done := make([]bool, len(p.edits))
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		out := src
		for i, e := range p.edits {
			var ok bool
			if out, ok = e.apply(out); ok {
				done[i] = true
			}
		}
		if !bytes.Equal(out, src) {
			if out, err = importMarshal(file, out); err != nil {
				return err
			}
			if err := os.WriteFile(file, out, 0o644); err != nil {
				return err
			}
		}
	}
	var missing []string
	for i, e := range p.edits {
		if !done[i] {
			missing = append(missing, e.from+" in "+e.fn)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("not found: %v: did gqlgen change what it writes?", missing)
	}
	return nil
}

// marshalPackage is what the edits call.
const marshalPackage = "github.com/koe-voice/koe/graph/marshal"

// importMarshal adds marshalPackage to the imports of an edited file.
func importMarshal(name string, src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	astutil.AddImport(fset, f, marshalPackage)
	var out bytes.Buffer
	if err := format.Node(&out, fset, f); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// apply makes e in src, reporting whether it found the call.
func (e edit) apply(src []byte) ([]byte, bool) {
	start := bytes.Index(src, []byte("func (ec *executionContext) "+e.fn+"("))
	if start < 0 {
		return src, false
	}
	body := src[start:]
	if end := bytes.Index(body[1:], []byte("\nfunc ")); end >= 0 {
		body = body[:end+1]
	}
	at := bytes.Index(body, []byte(e.from))
	if at < 0 {
		return src, false
	}
	at += start
	out := make([]byte, 0, len(src)-len(e.from)+len(e.to))
	out = append(out, src[:at]...)
	out = append(out, e.to...)
	return append(out, src[at+len(e.from):]...), true
}
