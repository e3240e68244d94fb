package ocivalidate

import (
	"bufio"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Report is what one validation program printed, read as TAP (the Test
// Anything Protocol, version 13, which runtime-tools writes with
// github.com/mndrix/tap-go).
type Report struct {
	// Plan is the N of the "1..N" line, or -1 when the program printed none
	// (it died before the end: tap-go prints the plan last).
	Plan  int
	Tests []Result
	// Orphans are diagnostic blocks printed before any test line. The hook
	// programs of runtime-tools (prestart, poststop, …) print no test at
	// all ("1..0") and report a failure only as such a block. (Others print
	// a block before the test it explains: runtime-tools' util does so.)
	Orphans []string
}

// Result is one "ok N - description" or "not ok N - description" line, with
// the YAML block that follows it (runtime-tools puts the spec reference and
// the runtime's stderr there).
type Result struct {
	Number      int
	OK          bool
	Skip        bool // "# SKIP reason": ran nothing, proves nothing
	Todo        bool // "# TODO": a known failure, whatever it says
	Description string
	Diagnostic  string // the indented "---" … "..." block, if any
}

// Passed says whether the test ran and passed: a skip is not a pass, nor
// is a TODO test.
func (r Result) Passed() bool { return r.OK && !r.Skip && !r.Todo }

// ParseTAP reads a TAP stream. Lines that are not TAP (a program's stray
// stderr, "TAP version 13", comments) are ignored; a test line that does not
// parse is an error, so a broken stream is never read as an empty pass.
func ParseTAP(out string) (Report, error) {
	rep := Report{Plan: -1}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	inYAML := false
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if inYAML {
			if trimmed == "..." {
				inYAML = false
				continue
			}
			if len(rep.Tests) == 0 {
				rep.Orphans[len(rep.Orphans)-1] += line + "\n"
				continue
			}
			last := &rep.Tests[len(rep.Tests)-1]
			last.Diagnostic += line + "\n"
			continue
		}
		switch {
		case trimmed == "---" && strings.HasPrefix(line, " "):
			inYAML = true
			if len(rep.Tests) == 0 {
				rep.Orphans = append(rep.Orphans, "")
			}
		case strings.HasPrefix(line, "1.."):
			n, err := strconv.Atoi(strings.Fields(strings.TrimPrefix(line, "1.."))[0])
			if err != nil {
				return rep, fmt.Errorf("tap plan %q: %w", line, err)
			}
			rep.Plan = n
		case strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "not ok "):
			r, err := parseTestLine(line)
			if err != nil {
				return rep, err
			}
			rep.Tests = append(rep.Tests, r)
		}
	}
	return rep, sc.Err()
}

// parseTestLine reads "ok 3 - text", "not ok 4 - text",
// "ok 1 # SKIP reason" or "not ok 2 # TODO text" (directives are
// case-insensitive).
func parseTestLine(line string) (Result, error) {
	var r Result
	rest := line
	if strings.HasPrefix(rest, "not ok ") {
		rest = strings.TrimPrefix(rest, "not ok ")
	} else {
		r.OK = true
		rest = strings.TrimPrefix(rest, "ok ")
	}
	num, rest, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(num)
	if err != nil {
		return r, fmt.Errorf("tap test line %q: no test number: %w", line, err)
	}
	r.Number = n
	desc, directive, found := strings.Cut(rest, "# ")
	switch upper := strings.ToUpper(directive); {
	case found && strings.HasPrefix(upper, "SKIP"):
		r.Skip = true
		desc = strings.TrimSpace(desc + " " + strings.TrimSpace(directive[len("SKIP"):]))
	case found && strings.HasPrefix(upper, "TODO"):
		r.Todo = true
		desc = strings.TrimSpace(desc + " " + strings.TrimSpace(directive[len("TODO"):]))
	default:
		desc = rest
	}
	r.Description = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(desc), "- "))
	return r, nil
}

// complete says whether a program ran to its end with nothing failed: exit
// status 0, a plan, as many results as planned, none "not ok" but those
// numbered in except, no diagnostic outside a test. Skips are allowed: the
// default config leaves most optional checks unset. A program that prints
// no TAP at all passes by its exit status alone: the *_fail programs that
// expect create to fail (process_rlimits_fail) print nothing when it does
// and exit 1 when not.
func complete(rep Report, code int, except []int) error {
	switch {
	case code != 0:
		return fmt.Errorf("exit status %d", code)
	case len(rep.Orphans) > 0 && len(rep.Tests) == 0:
		return fmt.Errorf("diagnostic outside any test:\n%s", rep.Orphans[0])
	case rep.Plan < 0 && len(rep.Tests) == 0:
		return nil
	case rep.Plan < 0:
		return errors.New("no TAP plan (1..N): the program stopped early")
	case rep.Plan != len(rep.Tests):
		return fmt.Errorf("planned %d tests, ran %d", rep.Plan, len(rep.Tests))
	}
	for _, r := range rep.Tests {
		if !r.OK && !r.Todo && !slices.Contains(except, r.Number) {
			return fmt.Errorf("not ok %d - %s", r.Number, r.Description)
		}
	}
	return nil
}

// failing lists the numbers of the tests that did not pass.
func failing(rep Report) []int {
	var ns []int
	for _, r := range rep.Tests {
		if !r.OK && !r.Todo {
			ns = append(ns, r.Number)
		}
	}
	return ns
}
