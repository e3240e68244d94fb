package testkit

import (
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// HostCalls are package.Name calls that act on the host (files, PIDs, the
// state store): a front end (final's CLI, its daemon) leaves them to the
// engine. process is allowed for its exit code constants only.
var HostCalls = map[string]func(name string) bool{
	"os": func(n string) bool {
		switch n {
		case "Open", "OpenFile", "Create", "Stat", "Lstat", "ReadFile", "WriteFile", "ReadDir",
			"Remove", "RemoveAll", "Mkdir", "MkdirAll", "Rename", "FindProcess", "StartProcess":
			return true
		}
		return false
	},
	"syscall": func(n string) bool { return n == "Kill" || n == "Tgkill" },
	"state":   func(n string) bool { return n == "Open" },
	"process": func(n string) bool { return !strings.HasPrefix(n, "Exit") },
}

// FrontEnd checks the non-test Go files of the current directory (but
// those skip names): none imports a package of forbidden (path → what it
// would reach), none calls what calls forbids. It fails when fewer than
// atLeast files were read: the check would prove nothing.
func FrontEnd(t *testing.T, forbidden map[string]string, calls map[string]func(string) bool, skip func(file string) bool, atLeast int) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := gotoken.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || (skip != nil && skip(name)) {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		pkgs := map[string]string{} // local name → path
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if why, ok := forbidden[path]; ok {
				t.Errorf("%s imports %s: %s belong to the engine", fset.Position(imp.Pos()), path, why)
			}
			local := filepath.Base(path)
			if imp.Name != nil {
				local = imp.Name.Name
			}
			pkgs[local] = path
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			if path, imported := pkgs[id.Name]; imported {
				if bad, ok := calls[filepath.Base(path)]; ok && bad(sel.Sel.Name) {
					t.Errorf("%s: %s.%s: only the engine touches files, PIDs and locks", fset.Position(sel.Pos()), id.Name, sel.Sel.Name)
				}
			}
			return true
		})
	}
	if checked < atLeast {
		t.Fatalf("checked %d files: the test would prove nothing", checked)
	}
}
