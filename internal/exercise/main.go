// Command exercise turns a step of the course into exercises graded by the
// step's own tests.
//
//	go run ./internal/exercise new -step 03 [-dir DIR]     (make exercise STEP=03)
//	go run ./internal/exercise check -step 03 [-dir DIR]   (make check STEP=03)
//
// new copies the module into DIR (workspace/<step> by default) with the
// step's exercise regions replaced by a panic that carries the hint; the
// regions are marked in the source by "// exercise:begin ID HINT" and
// "// exercise:end". check runs the tests that grade each exercise (the
// table in table.go) against DIR and prints PASS or the first failing
// assertion for each. The reference solution is the repository's code:
// check -dir . passes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: exercise new|check -step NN [-dir DIR]
  new    write a workspace with step NN's exercises to do (default DIR: workspace/<step>)
  check  run the tests of step NN's exercises against DIR and grade each one`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "new" && args[0] != "check") {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cmd := args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	step := fs.String("step", "", "the step, 01 to 06")
	dir := fs.String("dir", "", "the workspace (default workspace/<step directory>)")
	quick := fs.Bool("quick", false, "check: only the quick tests of each exercise")
	timeout := fs.Duration("timeout", 5*time.Minute, "check: bound of each go test run")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	*step = strings.TrimPrefix(*step, "step")
	if len(*step) == 1 {
		*step = "0" + *step
	}
	stepDir, ok := Steps[*step]
	if !ok {
		fmt.Fprintf(stderr, "exercise: unknown step %q (want 01 to 06)\n%s\n", *step, usage)
		return 2
	}
	if cmd == "check" && *dir != "" {
		return runCheck(*dir, *step, checkOptions{QuickOnly: *quick, Timeout: *timeout}, stdout, stderr)
	}
	// The course the workspace is made from, and where it goes by default.
	root, err := moduleRoot(".")
	if err != nil {
		fmt.Fprintln(stderr, "exercise:", err)
		return 1
	}
	if *dir == "" {
		*dir = filepath.Join(root, "workspace", stepDir)
		if _, err := os.Stat(filepath.Join(root, workspaceMark)); err == nil && cmd == "check" {
			*dir = root // make check, run inside a workspace
		}
	}
	if cmd == "new" {
		return runNew(root, *dir, *step, stdout, stderr)
	}
	return runCheck(*dir, *step, checkOptions{QuickOnly: *quick, Timeout: *timeout}, stdout, stderr)
}

func runNew(root, dir, step string, stdout, stderr io.Writer) int {
	regions, err := writeWorkspace(root, dir, step, "")
	if err != nil {
		fmt.Fprintln(stderr, "exercise:", err)
		return 1
	}
	fmt.Fprintf(stdout, "Wrote %s: a copy of the course with step %s's exercises to do.\n\n", shortPath(dir), step)
	for _, e := range stepExercises(step) {
		fmt.Fprintf(stdout, "%s  %s\n", e.ID, e.Title)
		for _, r := range regions {
			if r.ID == e.ID {
				fmt.Fprintf(stdout, "    %s:%d  %s\n", r.File, r.Begin, r.Hint)
			}
		}
	}
	fmt.Fprintf(stdout, "\nWrite each one between its exercise:begin and exercise:end lines, in place of the panic.\n")
	fmt.Fprintf(stdout, "Then grade your code: make check STEP=%s%s\n", step, dirArg(root, dir, step))
	return 0
}

func dirArg(root, dir, step string) string {
	if dir == filepath.Join(root, "workspace", Steps[step]) {
		return ""
	}
	return " DIR=" + shortPath(dir)
}

// shortPath is p relative to the working directory when it is below it.
func shortPath(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

func runCheck(dir, step string, opts checkOptions, stdout, stderr io.Writer) int {
	dir, err := filepath.Abs(dir)
	if err != nil {
		fmt.Fprintln(stderr, "exercise:", err)
		return 1
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		fmt.Fprintf(stderr, "exercise: no workspace in %s: make one first with make exercise STEP=%s\n", dir, step)
		return 1
	}
	if os.Geteuid() != 0 {
		fmt.Fprintf(stdout, "Note: not root. The privileged tests (namespaces, mounts, cgroups, veths) will skip, and a\nskipped test does not pass: run sudo make check STEP=%s\n\n", step)
	}
	if err := becomeSubreaper(); err != nil {
		fmt.Fprintln(stderr, "exercise: cannot collect the processes a failing test leaves behind:", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stdout, "Checking step %s in %s\n", step, shortPath(dir))
	verdicts, err := check(ctx, dir, step, opts, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "exercise:", err)
		return 1
	}
	fmt.Fprintln(stdout)
	passed := report(stdout, verdicts)
	if passed != len(verdicts) {
		return 1
	}
	return 0
}

// report prints one block per exercise and returns how many passed.
func report(w io.Writer, vs []Verdict) int {
	passed := 0
	for _, v := range vs {
		fmt.Fprintf(w, "%-12s %-7s %s\n", v.Exercise.ID, v.Status, v.Exercise.Title)
		switch v.Status {
		case Pass:
			passed++
		case Todo:
			fmt.Fprintf(w, "%13snot written yet: %s\n", "", v.Why)
		case Blocked:
			fmt.Fprintf(w, "%13sanother exercise's stub panics first: %s\n", "", oneLine(v.Why))
		default:
			fmt.Fprintf(w, "%s", indentBy(v.Why, 13))
		}
	}
	fmt.Fprintf(w, "\n%d of %d exercises pass.\n", passed, len(vs))
	return passed
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func indentBy(s string, n int) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad) + "\n"
}
