package lessoncheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeDiagramsParse: every ```mermaid block of every Markdown file
// parses, and each lesson has the diagrams the course promises.
func TestReadmeDiagramsParse(t *testing.T) {
	root := repoRoot(t)
	for _, f := range lessons(t, root) {
		src, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range MermaidBlocks(string(src)) {
			if err := CheckMermaid(b.Text); err != nil {
				t.Errorf("%s: the diagram at line %d: %v", f, b.Line, err)
			}
		}
	}
	// The diagrams each lesson must have, by their header.
	want := map[string][]string{
		"step01-process/README.md":       {"flowchart"},
		"step02-namespaces/README.md":    {"flowchart"},
		"step03-rootfs-layers/README.md": {"flowchart"},
		"step04-cgroups/README.md":       {"flowchart"},
		"step05-pull/README.md":          {"sequenceDiagram"},
		"step06-networking/README.md":    {"flowchart"},
		"final/README.md":                {"stateDiagram-v2"},
	}
	for f, kinds := range want {
		src, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		blocks := MermaidBlocks(string(src))
		for _, kind := range kinds {
			found := false
			for _, b := range blocks {
				if strings.HasPrefix(strings.TrimSpace(b.Text), kind) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s has no %s diagram", f, kind)
			}
		}
	}
}

// TestGlossaryLinks: every link into GLOSSARY.md, from any Markdown file,
// names an entry that exists; and every entry is linked from some lesson.
func TestGlossaryLinks(t *testing.T) {
	root := repoRoot(t)
	glossary, err := os.ReadFile(filepath.Join(root, "GLOSSARY.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := Anchors(string(glossary))
	used := map[string]bool{}
	links := 0
	for _, f := range lessons(t, root) {
		src, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range Links(string(src)) {
			target := l.Path
			if target == "" {
				target = f // a link within the same file
			} else {
				target = filepath.Join(filepath.Dir(f), target)
			}
			if filepath.ToSlash(filepath.Clean(target)) != "GLOSSARY.md" {
				continue
			}
			links++
			if l.Path != "" {
				if _, err := os.Stat(filepath.Join(root, filepath.Dir(f), l.Path)); err != nil {
					t.Errorf("%s:%d: %s: %v", f, l.Line, l.Path, err)
				}
			}
			if l.Fragment == "" {
				continue
			}
			if !anchors[l.Fragment] {
				t.Errorf("%s:%d: GLOSSARY.md has no entry #%s", f, l.Line, l.Fragment)
			}
			if f != "GLOSSARY.md" {
				used[l.Fragment] = true
			}
		}
	}
	if links < 20 {
		t.Errorf("only %d links into GLOSSARY.md: the lessons should link the terms where they first appear", links)
	}
	for _, entry := range glossaryEntries(string(glossary)) {
		if !used[entry] {
			t.Errorf("GLOSSARY.md#%s is linked from no lesson", entry)
		}
	}
}

// glossaryEntries returns the anchors of the glossary's ### entries.
func glossaryEntries(md string) []string {
	var entries []string
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "### ") {
			entries = append(entries, Slug(strings.TrimPrefix(line, "### ")))
		}
	}
	return entries
}

// TestRelativeLinks: every relative link of every Markdown file leads to a
// file that exists, and a #fragment into a Markdown file to one of its
// headings, so that moving a section (step03's restructuring) cannot leave a
// lesson pointing nowhere.
func TestRelativeLinks(t *testing.T) {
	root := repoRoot(t)
	anchors := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		anchors[path] = Anchors(string(src))
		return anchors[path]
	}
	for _, f := range lessons(t, root) {
		src, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range Links(string(src)) {
			if strings.Contains(l.Path, "://") || strings.HasPrefix(l.Path, "mailto:") {
				continue
			}
			target := filepath.Join(root, f)
			if l.Path != "" {
				target = filepath.Join(root, filepath.Dir(f), l.Path)
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("%s:%d: link to %s: %v", f, l.Line, l.Path, err)
				continue
			}
			if l.Fragment != "" && strings.HasSuffix(target, ".md") && !anchorsOf(target)[l.Fragment] {
				t.Errorf("%s:%d: %s has no heading #%s", f, l.Line, l.Path, l.Fragment)
			}
		}
	}
}
