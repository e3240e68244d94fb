package lessoncheck

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// UndocumentedPackages walks the module under root and returns the
// directories (relative, slash-separated) of the packages not named main
// that have no package comment in any of their non-test files, whatever
// the files' build tags.
func UndocumentedPackages(root string) ([]string, error) {
	type pkg struct{ name, doc bool }
	pkgs := map[string]*pkg{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		p := pkgs[filepath.ToSlash(dir)]
		if p == nil {
			p = &pkg{}
			pkgs[filepath.ToSlash(dir)] = p
		}
		p.name = true
		if f.Doc != nil && strings.HasPrefix(f.Doc.Text(), "Package "+f.Name.Name+" ") {
			p.doc = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var missing []string
	for dir, p := range pkgs {
		if !p.doc {
			missing = append(missing, dir)
		}
	}
	sort.Strings(missing)
	return missing, nil
}
