package lessoncheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the module's root: the tests run in internal/lessoncheck.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}

// lessons returns every Markdown file of the repository, relative to root.
func lessons(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, _ := filepath.Rel(root, path)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("found only %d Markdown files under %s: %v", len(files), root, files)
	}
	return files
}

// TestPackagesDocumented: every library package starts with "// Package x".
func TestPackagesDocumented(t *testing.T) {
	missing, err := UndocumentedPackages(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range missing {
		t.Errorf("%s: no package comment (a doc.go starting \"// Package <name> ...\")", dir)
	}
}

// TestUndocumentedPackagesFinds: the walk does see a package without a
// comment, and ignores main packages and test files.
func TestUndocumentedPackagesFinds(t *testing.T) {
	dir := t.TempDir()
	write := func(path, src string) {
		t.Helper()
		p := filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module x\n")
	write("main.go", "package main\n")
	write("good/doc.go", "// Package good is documented.\npackage good\n")
	write("good/good_linux.go", "package good\n")
	write("bad/bad.go", "package bad\n")
	write("bad/bad_test.go", "// Package bad is documented only in a test.\npackage bad\n")
	write("wrong/w.go", "// This says nothing.\npackage wrong\n")
	got, err := UndocumentedPackages(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "bad wrong" {
		t.Errorf("got %v, want [bad wrong]", got)
	}
}
