package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mutation is one learner bug: in File, Find (which must occur exactly
// once) becomes Replace, and the tests of Package matching Run must fail.
type Mutation struct {
	N       int    // 1-based position in the list
	Title   string // the learner's bug in one line
	File    string // relative to the repository's root
	Package string // a go test package pattern, e.g. ./step01-process/process
	Run     string // a go test -run pattern
	Find    string
	Replace string
	Line    int // where the entry starts in the list, for messages
}

func (m Mutation) String() string { return fmt.Sprintf("#%d %s", m.N, m.Title) }

// Parse reads a mutation list. An entry is
//
//	## a one-line description of the learner's bug
//	file: path/from/the/repo/root.go
//	test: ./package -run Pattern
//	find:
//	<the exact lines to find>
//	replace:
//	<the lines that replace them>
//
// The find and replace texts are whole lines, taken as they are (tabs
// included); blank lines at their ends are dropped, so that entries can
// be separated by a blank line. Lines before the first ## and lines
// starting with "#" followed by a space (not "##") outside a text are
// comments.
func Parse(r io.Reader) ([]Mutation, error) {
	var (
		list []Mutation
		cur  *Mutation
		text *[]string // the find or replace text being read
		find []string
		repl []string
		line int
	)
	finish := func() error {
		if cur == nil {
			return nil
		}
		cur.Find = strings.Join(trimBlank(find), "\n")
		cur.Replace = strings.Join(trimBlank(repl), "\n")
		switch {
		case cur.File == "":
			return fmt.Errorf("line %d: %s: no file:", cur.Line, cur.Title)
		case cur.Package == "":
			return fmt.Errorf("line %d: %s: no test:", cur.Line, cur.Title)
		case cur.Find == "":
			return fmt.Errorf("line %d: %s: no find: text", cur.Line, cur.Title)
		case cur.Find == cur.Replace:
			return fmt.Errorf("line %d: %s: replace: is the same as find:", cur.Line, cur.Title)
		}
		list = append(list, *cur)
		return nil
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line++
		l := sc.Text()
		if title, ok := strings.CutPrefix(l, "## "); ok {
			if err := finish(); err != nil {
				return nil, err
			}
			cur = &Mutation{N: len(list) + 1, Title: strings.TrimSpace(title), Line: line}
			text, find, repl = nil, nil, nil
			continue
		}
		if cur == nil {
			continue // the preamble
		}
		if text != nil {
			switch l {
			case "find:":
				return nil, fmt.Errorf("line %d: %s: a second find:", line, cur.Title)
			case "replace:":
				if text == &repl {
					return nil, fmt.Errorf("line %d: %s: a second replace:", line, cur.Title)
				}
				text = &repl
			default:
				*text = append(*text, l)
			}
			continue
		}
		key, value, _ := strings.Cut(l, ":")
		value = strings.TrimSpace(value)
		switch key {
		case "file":
			cur.File = filepath.ToSlash(value)
		case "test":
			pkg, run, _ := strings.Cut(value, " -run ")
			cur.Package, cur.Run = strings.TrimSpace(pkg), strings.TrimSpace(run)
		case "find":
			text = &find
		case "replace":
			return nil, fmt.Errorf("line %d: %s: replace: before find:", line, cur.Title)
		default:
			if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "# ") {
				return nil, fmt.Errorf("line %d: %s: unexpected %q (want file:, test:, find: or replace:)", line, cur.Title, l)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return list, nil
}

func trimBlank(lines []string) []string {
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Apply makes m in the tree under root and returns the file's old content,
// for Restore. The find text must occur exactly once: a list entry whose
// code has moved on fails here instead of silently testing nothing.
func Apply(root string, m Mutation) (old []byte, err error) {
	path := filepath.Join(root, filepath.FromSlash(m.File))
	old, err = os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", m, err)
	}
	n := strings.Count(string(old), m.Find)
	if n != 1 {
		return nil, fmt.Errorf("%v: the find text occurs %d times in %s, want exactly once (line %d of the list)", m, n, m.File, m.Line)
	}
	mutated := strings.Replace(string(old), m.Find, m.Replace, 1)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(mutated), fi.Mode().Perm()); err != nil {
		return nil, fmt.Errorf("%v: %w", m, err)
	}
	return old, nil
}

// Restore puts back the content Apply returned.
func Restore(root string, m Mutation, old []byte) error {
	return os.WriteFile(filepath.Join(root, filepath.FromSlash(m.File)), old, 0o644)
}

// Select picks the entries to run: all, or the one numbered only, or those
// whose title, file or test matches match.
func Select(list []Mutation, only int, match string) ([]Mutation, error) {
	if only != 0 {
		if only < 1 || only > len(list) {
			return nil, fmt.Errorf("-only %d: the list has entries 1 to %d", only, len(list))
		}
		return list[only-1 : only], nil
	}
	if match == "" {
		return list, nil
	}
	var out []Mutation
	for _, m := range list {
		if strings.Contains(m.Title+"\x00"+m.File+"\x00"+m.Package+"\x00"+m.Run, match) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-match %s: no entry's title, file or test contains it", strconv.Quote(match))
	}
	return out, nil
}
