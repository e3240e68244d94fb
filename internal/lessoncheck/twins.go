package lessoncheck

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The language switch each file of a pair starts with: the English file links
// its Korean twin, the Korean file links back. name is the English file's base
// name without ".md" ("README", "GLOSSARY").
func englishSwitch(name string) string { return "English | [한국어](" + name + ".ko.md)" }
func koreanSwitch(name string) string  { return "[English](" + name + ".md) | 한국어" }

// KoreanTwin is the name of a Markdown file's Korean twin: README.md's is
// README.ko.md beside it.
func KoreanTwin(path string) string {
	return strings.TrimSuffix(path, ".md") + ".ko.md"
}

// Lessons returns the lesson READMEs of the course under root, relative and
// slash-separated: the root README.md and the README.md of every top-level
// directory (each step, final, and any lesson added later), sorted. Hidden
// directories, bin, testdata and workspace (make exercise's copies) are not
// lessons.
func Lessons(root string) ([]string, error) {
	var files []string
	if _, err := os.Stat(filepath.Join(root, "README.md")); err == nil {
		files = append(files, "README.md")
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
			name == "bin" || name == "testdata" || name == "workspace" {
			continue
		}
		if st, err := os.Stat(filepath.Join(root, name, "README.md")); err == nil && !st.IsDir() {
			files = append(files, name+"/README.md")
		}
	}
	sort.Strings(files)
	return files, nil
}

// MissingTwins returns the files of files (relative to root) that have no
// Korean twin beside them, as the twins' names.
func MissingTwins(root string, files []string) []string {
	var missing []string
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(root, KoreanTwin(f))); err != nil {
			missing = append(missing, KoreanTwin(f))
		}
	}
	return missing
}

// A heading is a line starting with # outside fenced blocks.
type heading struct {
	line   int
	level  int
	text   string
	fences int // fenced blocks before it: where it stands among them
}

// A fence is one fenced block: its info string ("console", "mermaid", ""),
// the line of its opening fence, and its lines, fences included.
type fence struct {
	line int
	info string
	text string
}

// outline returns the headings and the fenced blocks of a Markdown document.
// A fence opens with a line whose trimmed text starts with ``` and closes at
// the next line whose trimmed text is ```, as in MermaidBlocks and Anchors.
func outline(markdown string) ([]heading, []fence) {
	var (
		headings []heading
		fences   []fence
		cur      *fence
		body     []string
	)
	for i, line := range strings.Split(markdown, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			cur = &fence{line: i + 1, info: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
			body = []string{line}
		case cur != nil:
			body = append(body, line)
			if trimmed == "```" {
				cur.text = strings.Join(body, "\n")
				fences = append(fences, *cur)
				cur = nil
			}
		case strings.HasPrefix(line, "#"):
			level := len(line) - len(strings.TrimLeft(line, "#"))
			headings = append(headings, heading{line: i + 1, level: level, text: strings.TrimSpace(line[level:]), fences: len(fences)})
		}
	}
	if cur != nil { // an unclosed fence runs to the end of the file
		cur.text = strings.Join(body, "\n")
		fences = append(fences, *cur)
	}
	return headings, fences
}

// CheckTwins compares an English Markdown file with its Korean twin and
// returns what drifted, each naming the files and lines:
//
//   - the English file's first line is "English | [한국어](X.ko.md)" and the
//     Korean file's "[English](X.md) | 한국어";
//   - the same headings (lines starting with # outside fenced blocks), as
//     many, at the same levels, in the same order, each after as many fenced
//     blocks; the first difference is reported with both lines;
//   - every fenced block that is not ```mermaid byte for byte the same, in
//     order (commands, transcripts, code and config are never translated);
//     the first difference is reported with both blocks' lines;
//   - as many ```mermaid blocks (their labels may be translated);
//   - no link of the Korean file, after its switch line, to an English
//     README.md or GLOSSARY.md: it links the Korean twins.
//
// enName and koName are the files' names as the errors show them.
func CheckTwins(enName, en, koName, ko string) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	name := strings.TrimSuffix(filepath.Base(enName), ".md")
	enFirst, _, _ := strings.Cut(en, "\n")
	koFirst, _, _ := strings.Cut(ko, "\n")
	if want := englishSwitch(name); strings.TrimRight(enFirst, "\r ") != want {
		fail("%s:1: the first line is %q, want the language switch %q", enName, enFirst, want)
	}
	if want := koreanSwitch(name); strings.TrimRight(koFirst, "\r ") != want {
		fail("%s:1: the first line is %q, want the language switch %q", koName, koFirst, want)
	}

	enHeads, enFences := outline(en)
	koHeads, koFences := outline(ko)
	// The first heading whose level differs, or that stands after another
	// number of fenced blocks, or the first one past the end of the shorter
	// list: a section added, dropped or moved is there.
	i := 0
	for i < len(enHeads) && i < len(koHeads) && enHeads[i].level == koHeads[i].level && enHeads[i].fences == koHeads[i].fences {
		i++
	}
	where := func(name string, hs []heading) string {
		if i < len(hs) {
			return fmt.Sprintf("%s:%d %q (level %d, after %d fenced blocks)", name, hs[i].line, hs[i].text, hs[i].level, hs[i].fences)
		}
		return name + ": (no more headings)"
	}
	switch {
	case len(enHeads) != len(koHeads):
		fail("%s has %d headings, %s has %d (a section added or dropped); the first to differ is heading %d: %s vs %s",
			enName, len(enHeads), koName, len(koHeads), i+1, where(enName, enHeads), where(koName, koHeads))
	case i < len(enHeads):
		fail("heading %d: %s vs %s differ in level or place (a section or a block moved?)", i+1, where(enName, enHeads), where(koName, koHeads))
	}

	code := func(fs []fence) (blocks []fence, mermaid int) {
		for _, f := range fs {
			if f.info == "mermaid" {
				mermaid++
			} else {
				blocks = append(blocks, f)
			}
		}
		return blocks, mermaid
	}
	enCode, enMermaid := code(enFences)
	koCode, koMermaid := code(koFences)
	for i := 0; i < len(enCode) || i < len(koCode); i++ {
		if i >= len(enCode) {
			fail("%s:%d: fenced block %d has no counterpart in %s (%d blocks there, %d here)",
				koName, koCode[i].line, i+1, enName, len(enCode), len(koCode))
			break
		}
		if i >= len(koCode) {
			fail("%s:%d: fenced block %d has no counterpart in %s (%d blocks there, %d here)",
				enName, enCode[i].line, i+1, koName, len(koCode), len(enCode))
			break
		}
		if e, k := enCode[i], koCode[i]; e.text != k.text {
			el, kl := firstDifference(e.text, k.text)
			fail("fenced block %d differs: %s:%d (block at line %d) %q vs %s:%d (block at line %d) %q; commands and output stay byte for byte as in English",
				i+1, enName, e.line+el, e.line, lineOf(e.text, el), koName, k.line+kl, k.line, lineOf(k.text, kl))
			break
		}
	}
	if enMermaid != koMermaid {
		fail("%s has %d mermaid blocks, %s has %d", enName, enMermaid, koName, koMermaid)
	}

	for _, l := range Links(ko) {
		if l.Line == 1 || strings.Contains(l.Path, "://") {
			continue
		}
		if base := filepath.Base(l.Path); base == "README.md" || base == "GLOSSARY.md" {
			fail("%s:%d: link to %s: the Korean text links %s", koName, l.Line, l.Path, KoreanTwin(l.Path))
		}
	}
	return errs
}

// firstDifference returns the index of the first line where a and b differ,
// the same in both (the blocks are compared in order).
func firstDifference(a, b string) (int, int) {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	return i, i
}

// lineOf returns line i of text, or "(end of block)".
func lineOf(text string, i int) string {
	lines := strings.Split(text, "\n")
	if i < len(lines) {
		return lines[i]
	}
	return "(end of block)"
}
