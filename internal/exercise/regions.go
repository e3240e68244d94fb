package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// The markers around an exercise region in a step's source:
//
//	// exercise:begin 01-exitcode [keep=a,b] HINT
//	…the reference code…
//	// exercise:end
//
// The compiler ignores them. A stub replaces the lines between them by
// panic("exercise ID: HINT"); keep names the locals declared before the
// region that only the region used (each becomes `_ = a`, so the stub
// compiles). A region ends its block, so nothing after the panic becomes
// unreachable.
const (
	beginMarker = "// exercise:begin "
	endMarker   = "// exercise:end"
)

// Region is one marked region of a source file.
type Region struct {
	File      string // slash path relative to the module root
	ID        string // the exercise, e.g. "01-exitcode"
	Hint      string
	Keep      []string
	Begin     int // line of the begin marker, 1-based
	End       int // line of the end marker
	Reference string
}

// Stub is the Go statement a learner finds in place of the region.
func (r Region) Stub() string {
	return "panic(" + strconv.Quote("exercise "+r.ID+": "+r.Hint) + ")"
}

// parseRegions finds the regions of one file's source.
func parseRegions(file string, src []byte) ([]Region, error) {
	var out []Region
	var open *Region
	var body []string
	for i, line := range strings.Split(string(src), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, beginMarker):
			if open != nil {
				return nil, fmt.Errorf("%s:%d: exercise:begin inside the region of line %d", file, i+1, open.Begin)
			}
			r, err := parseBegin(strings.TrimPrefix(trimmed, beginMarker))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", file, i+1, err)
			}
			r.File, r.Begin = file, i+1
			open, body = &r, nil
		case trimmed == endMarker:
			if open == nil {
				return nil, fmt.Errorf("%s:%d: exercise:end without a begin", file, i+1)
			}
			open.End, open.Reference = i+1, strings.Join(body, "\n")
			out = append(out, *open)
			open = nil
		case open != nil:
			body = append(body, line)
		}
	}
	if open != nil {
		return nil, fmt.Errorf("%s:%d: exercise:begin without an end", file, open.Begin)
	}
	return out, nil
}

// parseBegin reads "ID [keep=a,b] HINT".
func parseBegin(s string) (Region, error) {
	id, rest, _ := strings.Cut(s, " ")
	var r Region
	if !validID(id) {
		return r, fmt.Errorf("exercise:begin: bad id %q (want NN-name)", id)
	}
	r.ID = id
	if keep, after, ok := strings.Cut(rest, " "); ok && strings.HasPrefix(keep, "keep=") {
		r.Keep = strings.Split(strings.TrimPrefix(keep, "keep="), ",")
		rest = after
	}
	r.Hint = strings.TrimSpace(rest)
	if r.Hint == "" {
		return r, fmt.Errorf("exercise:begin %s: no hint", id)
	}
	return r, nil
}

func validID(id string) bool {
	step, name, ok := strings.Cut(id, "-")
	return ok && len(step) == 2 && step >= "01" && step <= "99" && name != ""
}

// Step is the two-digit step of the exercise, e.g. "01".
func (r Region) Step() string { return r.ID[:2] }

// stubSource returns src with each region replaced by its stub, imports
// that only the regions used removed, and gofmt applied.
func stubSource(file string, src []byte, regions []Region) ([]byte, error) {
	lines := strings.Split(string(src), "\n")
	var out []string
	next := 0
	for _, r := range regions {
		out = append(out, lines[next:r.Begin]...) // up to and with the begin marker
		indent := lines[r.Begin-1][:len(lines[r.Begin-1])-len(strings.TrimLeft(lines[r.Begin-1], " \t"))]
		for _, k := range r.Keep {
			out = append(out, indent+"_ = "+k)
		}
		out = append(out, indent+r.Stub())
		next = r.End - 1 // the end marker stays
	}
	out = append(out, lines[next:]...)
	stubbed := []byte(strings.Join(out, "\n"))
	stubbed, err := pruneImports(file, src, stubbed)
	if err != nil {
		return nil, err
	}
	return format.Source(stubbed)
}

// pruneImports drops the imports that orig used and stubbed no longer
// does: a package only the reference code of a region needed.
func pruneImports(file string, orig, stubbed []byte) ([]byte, error) {
	fset := token.NewFileSet()
	of, err := parser.ParseFile(fset, file, orig, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	sf, err := parser.ParseFile(fset, file, stubbed, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("stub does not parse: %w", err)
	}
	before, after := qualifiers(of), qualifiers(sf)
	var drop []*ast.ImportSpec
	for _, imp := range sf.Imports {
		name := importName(imp)
		if name == "_" || name == "." {
			continue
		}
		if before[name] && !after[name] {
			drop = append(drop, imp)
		}
	}
	if len(drop) == 0 {
		return stubbed, nil
	}
	// Cut the dropped import lines out of the text: the comments stay
	// where they were, which editing the AST would not promise.
	cut := map[int]bool{}
	for _, imp := range drop {
		cut[fset.Position(imp.Pos()).Line] = true
	}
	lines := strings.Split(string(stubbed), "\n")
	var kept []string
	for i, l := range lines {
		if !cut[i+1] {
			kept = append(kept, l)
		}
	}
	return []byte(strings.Join(kept, "\n")), nil
}

// qualifiers is the set of X in every selector X.Sel of f: the package
// names it uses (and some variables, which is harmless here).
func qualifiers(f *ast.File) map[string]bool {
	used := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	return used
}

// importName is the name an import is used by: its explicit name, or the
// last element of its path without a "go-" prefix or a ".vN" or "/vN"
// version (go-digest is digest, yaml.v3 is yaml).
func importName(imp *ast.ImportSpec) string {
	if imp.Name != nil {
		return imp.Name.Name
	}
	p, _ := strconv.Unquote(imp.Path.Value)
	base := path.Base(p)
	if strings.HasPrefix(base, "v") && len(base) > 1 && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(p))
	}
	base, _, _ = strings.Cut(base, ".")
	return strings.TrimPrefix(base, "go-")
}

// findRegions reads every .go file under the step directories of root.
func findRegions(root string) ([]Region, error) {
	var all []Region
	dirs, err := filepath.Glob(filepath.Join(root, "step[0-9][0-9]-*"))
	if err != nil {
		return nil, err
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
				return err
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !bytes.Contains(src, []byte(beginMarker)) {
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			rs, err := parseRegions(filepath.ToSlash(rel), src)
			if err != nil {
				return err
			}
			all = append(all, rs...)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return all, nil
}
