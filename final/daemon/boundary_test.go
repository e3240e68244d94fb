package daemon

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlyTheEngine keeps the daemon a front end, as the CLI is
// (cli/boundary_test.go): it translates HTTP to engine calls and must not
// reach a container's files, locks, cgroups or processes itself. Only
// listen.go, the daemon's own socket, may touch files.
func TestOnlyTheEngine(t *testing.T) {
	forbiddenImports := map[string]string{
		"golang.org/x/sys/unix":             "system calls",
		"os/exec":                           "processes",
		"minidocker/final/jsonlog":          "the log files (engine.Logs)",
		"minidocker/internal/flock":         "locks",
		"minidocker/step04-cgroups/cgroups": "cgroups",
		"minidocker/step05-pull/store":      "the image store (engine.Images, RemoveImage)",
		// step05-pull/registry is allowed: its Progress is engine.PullProgress's event type.
		"minidocker/step06-networking/network":    "the bridge and its books",
		"minidocker/step02-namespaces/namespaces": "the init",
	}
	// package.Name calls that act on the host; process is allowed for its
	// exit code constants only.
	forbiddenCalls := map[string]func(name string) bool{
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
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || name == "listen.go" {
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
			if why, ok := forbiddenImports[path]; ok {
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
			path, imported := pkgs[id.Name]
			if !imported {
				return true
			}
			if bad, ok := forbiddenCalls[filepath.Base(path)]; ok && bad(sel.Sel.Name) {
				t.Errorf("%s: %s.%s: only the engine touches files, PIDs and locks", fset.Position(sel.Pos()), id.Name, sel.Sel.Name)
			}
			return true
		})
	}
	if checked < 4 {
		t.Fatalf("checked %d files: the test would prove nothing", checked)
	}
}
