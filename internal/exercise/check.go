package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Status is the verdict on one exercise.
type Status string

const (
	Pass    Status = "PASS"
	Todo    Status = "TODO"    // still the stub's panic
	Blocked Status = "BLOCKED" // another exercise's stub panics first
	Fail    Status = "FAIL"
	Skip    Status = "SKIP" // the tests skipped (not root)
)

// notBuilt is the Why of every exercise when the step does not build.
const notBuilt = "does not build (see go vet above)"

// Verdict is one exercise's result and why.
type Verdict struct {
	Exercise Exercise
	Status   Status
	Why      string // the first failing assertion, in the test's words
	// Graded is the verdict of the tests alone, before looking for the
	// stub in the source.
	Graded Status
}

// checkOptions say how to check.
type checkOptions struct {
	QuickOnly bool          // only the tests marked Quick
	Only      string        // only this exercise, when not empty
	Timeout   time.Duration // per go test run
}

// testResult is what go test -json said about one test or subtest.
type testResult struct {
	action string // pass, fail, skip; "" if it never ran
	output []string
	seq    int // the order in which the tests started
}

// check runs the tests of step's exercises in the module at dir and
// returns a verdict per exercise. Progress and the compiler's complaints
// go to w.
func check(ctx context.Context, dir, step string, opts checkOptions, w io.Writer) ([]Verdict, error) {
	exs := stepExercises(step)
	if opts.Only != "" {
		exs = slices.DeleteFunc(exs, func(e Exercise) bool { return e.ID != opts.Only })
	}
	if len(exs) == 0 {
		return nil, fmt.Errorf("step %s has no exercises", step)
	}
	// Build (and vet) first: a compile error says more than a failed test.
	vet := exec.CommandContext(ctx, goTool(), "vet", "./"+Steps[step]+"/...")
	vet.Dir = dir
	if out, err := vet.CombinedOutput(); err != nil {
		fmt.Fprintf(w, "go vet ./%s/... fails: the code does not build yet:\n%s", Steps[step], indent(string(out)))
		var vs []Verdict
		for _, e := range exs {
			vs = append(vs, Verdict{Exercise: e, Status: Fail, Graded: Fail, Why: notBuilt})
		}
		return vs, nil
	}

	// One go test per package, with every test some exercise needs.
	var pkgs []string
	names := map[string][]string{}
	for _, e := range exs {
		for _, ts := range e.Tests {
			if opts.QuickOnly && !ts.Quick {
				continue
			}
			if _, ok := names[ts.Pkg]; !ok {
				pkgs = append(pkgs, ts.Pkg)
			}
			for _, n := range ts.Names {
				if !slices.Contains(names[ts.Pkg], n) {
					names[ts.Pkg] = append(names[ts.Pkg], n)
				}
			}
		}
	}
	results := map[string]map[string]*testResult{}
	died := map[string]string{} // package -> why its test binary died
	for _, pkg := range pkgs {
		fmt.Fprintf(w, "go test %s -run '%s'\n", pkg, runPattern(names[pkg]))
		res, why, err := runTests(ctx, dir, pkg, names[pkg], opts.Timeout)
		if err != nil {
			return nil, err
		}
		results[pkg], died[pkg] = res, why
	}

	// Which stubs are still in the source: a stub's panic in a demo
	// binary or a container's init is not always in the test's output.
	stubbed := map[string][]string{} // exercise -> FILE:LINE of each stub
	regions, err := findRegions(dir)
	if err != nil {
		return nil, err
	}
	for _, r := range regions {
		if strings.Contains(r.Reference, "panic(\"exercise "+r.ID+": ") {
			stubbed[r.ID] = append(stubbed[r.ID], fmt.Sprintf("%s:%d", r.File, r.Begin+1))
		}
	}

	var vs []Verdict
	for _, e := range exs {
		v := Verdict{Exercise: e, Status: Pass}
		for _, ts := range e.Tests {
			if opts.QuickOnly && !ts.Quick {
				continue
			}
			for _, name := range ts.Names {
				st, why := judge(e.ID, name, results[ts.Pkg], died[ts.Pkg])
				if worse(st, v.Status) {
					v.Status, v.Why = st, why
				}
			}
		}
		v.Graded = v.Status
		switch {
		case stubbed[e.ID] != nil:
			// Whatever the tests said, the exercise is not written yet.
			v.Status = Todo
			v.Why = "the stub's panic is still at " + strings.Join(stubbed[e.ID], ", ")
		case v.Status == Fail:
			var others []string
			for _, o := range exs {
				if stubbed[o.ID] != nil {
					others = append(others, o.ID)
				}
			}
			if others != nil {
				v.Why += "\n(not written yet either: " + strings.Join(others, ", ") + "; a test may need those too)"
			}
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// worse orders the verdicts: the first reason to not pass is kept, and a
// real failure outranks the stub, which outranks a skip.
func worse(a, b Status) bool {
	rank := map[Status]int{Pass: 0, Skip: 1, Blocked: 2, Todo: 3, Fail: 4}
	return rank[a] > rank[b]
}

func runPattern(names []string) string {
	return "^(" + strings.Join(names, "|") + ")$"
}

// runTests runs go test -json on names of pkg and sorts its events by test.
// why says how the test binary died when it did (a panic, a timeout).
func runTests(ctx context.Context, dir, pkg string, names []string, timeout time.Duration) (map[string]*testResult, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	// The tests' t.TempDir go in a directory of this run's: a test binary
	// that a stub's panic kills on another goroutine runs no cleanups.
	tmp, err := os.MkdirTemp("", "exercise-check-")
	if err != nil {
		return nil, "", err
	}
	defer removeTemp(tmp)
	cmd := exec.CommandContext(ctx, goTool(), "test", "-count=1", "-json", "-timeout", timeout.String(), "-run", runPattern(names), pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	if os.Geteuid() == 0 {
		// A privileged test must not skip when we can run it.
		cmd.Env = append(cmd.Env, "MINIDOCKER_TEST_REQUIRE_ROOT=1")
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	cgroupsBefore := testCgroups()
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	results := map[string]*testResult{}
	var pkgOutput []string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct{ Action, Test, Output string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev.Test == "" {
			if ev.Action == "output" {
				pkgOutput = append(pkgOutput, strings.TrimRight(ev.Output, "\n"))
			}
			continue
		}
		r := results[ev.Test]
		if r == nil {
			r = &testResult{seq: len(results)}
			results[ev.Test] = r
		}
		switch ev.Action {
		case "output":
			r.output = append(r.output, strings.TrimRight(ev.Output, "\n"))
		case "pass", "fail", "skip":
			r.action = ev.Action
		}
	}
	_ = cmd.Wait() // a failing test is an exit status 1: the events say it
	sweepOrphans()
	sweepCgroups(cgroupsBefore)
	// A panic kills the test binary: the tests after it never run. It
	// shows in the output of the test that was running, or of none.
	why := ""
	for _, l := range pkgOutput {
		if strings.HasPrefix(l, "panic: ") {
			why = l
			break
		}
	}
	for _, r := range results {
		for _, l := range r.output {
			if why == "" && strings.HasPrefix(l, "panic: ") {
				why = l
			}
		}
	}
	if len(results) == 0 && why == "" {
		// Nothing ran: a build failure, or go test itself failed.
		why = strings.TrimSpace(stderr.String() + "\n" + strings.Join(pkgOutput, "\n"))
		if why == "" {
			why = "no test ran"
		}
	}
	return results, why, nil
}

// removeTemp removes a run's temporary directory, unless something is
// still mounted below it (a killed test's overlay or bind mount): removing
// through a mount could reach files that are not ours.
func removeTemp(tmp string) {
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err == nil && strings.Contains(string(mounts), " "+tmp+"/") {
		fmt.Fprintf(os.Stderr, "exercise: left %s in place: a failed test left mounts below it\n", tmp)
		return
	}
	_ = os.RemoveAll(tmp)
}

var (
	stubPanic = regexp.MustCompile(`panic: exercise (\d\d-[a-z0-9-]+):`)
	// An assertion's first line as the testing package prints it:
	// "    file_test.go:12: message".
	assertion = regexp.MustCompile(`^\s+\S+_test\.go:\d+: `)
)

// judge decides test name of exercise id from its results.
func judge(id, name string, results map[string]*testResult, died string) (Status, string) {
	r := results[name]
	if r == nil || r.action == "" {
		why := "did not run"
		if died != "" {
			why += ": the test binary died: " + died
		}
		if m := stubPanic.FindStringSubmatch(died); m != nil {
			return stubStatus(id, m[1]), name + " " + why
		}
		return Fail, name + " " + why
	}
	switch r.action {
	case "pass":
		return Pass, ""
	case "skip":
		return Skip, name + ": " + firstLine(r.output, func(string) bool { return true })
	}
	// Every line of the test and its subtests, in order.
	var all []string
	var failed []string // failed subtests, in order
	for t, sr := range results {
		if t == name || strings.HasPrefix(t, name+"/") {
			if sr.action == "fail" && t != name {
				failed = append(failed, t)
			}
		}
	}
	slices.SortFunc(failed, func(a, b string) int { return results[a].seq - results[b].seq })
	all = append(all, r.output...)
	for _, t := range failed {
		all = append(all, results[t].output...)
	}
	for _, l := range all {
		if m := stubPanic.FindStringSubmatch(l); m != nil {
			return stubStatus(id, m[1]), name + ": " + strings.TrimSpace(l[strings.Index(l, "panic: "):])
		}
	}
	// The first assertion of the first failing leaf, else of the test.
	where, lines := name, r.output
	for _, t := range failed {
		if hasAssertion(results[t].output) {
			where, lines = t, results[t].output
			break
		}
	}
	return Fail, where + ": " + firstAssertion(lines)
}

func stubStatus(id, stub string) Status {
	if stub == id {
		return Todo
	}
	return Blocked
}

func hasAssertion(lines []string) bool {
	for _, l := range lines {
		if assertion.MatchString(l) {
			return true
		}
	}
	return false
}

// firstAssertion is the first assertion with its continuation lines (a
// testify message or a diff), at most six lines.
func firstAssertion(lines []string) string {
	for i, l := range lines {
		if !assertion.MatchString(l) {
			continue
		}
		out := []string{strings.TrimSpace(l)}
		for _, more := range lines[i+1:] {
			if len(out) == 6 || assertion.MatchString(more) || strings.HasPrefix(strings.TrimSpace(more), "---") {
				break
			}
			if strings.TrimSpace(more) != "" {
				out = append(out, strings.TrimSpace(more))
			}
		}
		return strings.Join(out, "\n")
	}
	// An example's got/want, or a panic.
	return firstLine(lines, func(l string) bool {
		t := strings.TrimSpace(l)
		return t != "" && !strings.HasPrefix(t, "=== ") && !strings.HasPrefix(t, "--- ")
	})
}

func firstLine(lines []string, ok func(string) bool) string {
	for _, l := range lines {
		if ok(l) {
			return strings.TrimSpace(l)
		}
	}
	return "(no output)"
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ") + "\n"
}

// goTool is the go command: the one on PATH (make puts the right one
// there), else the toolchain this program was built with.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}
