// Command mutate proves that the course's tests catch a learner's bugs.
// It reads a list of learner-style mutations (mutations.txt beside this
// file), and for each one, in a scratch copy of the repository (never the
// working tree), replaces the entry's text, runs the tests the entry names
// and reports CAUGHT when they fail and SURVIVED when they pass. It exits
// non-zero when any mutation survives, no longer applies (its text has
// moved on), does not build, or hangs past its timeout.
//
//	go run ./internal/mutate                 every entry (make mutate)
//	go run ./internal/mutate -only 7         entry 7 alone
//	go run ./internal/mutate -match step03   entries whose title, file or test contains step03
//
// Before the mutations it runs each named test once unmutated: a test that
// already fails would count every mutation as caught.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Outcome is what became of one mutation.
type Outcome string

const (
	Caught   Outcome = "CAUGHT"   // the tests failed: good
	Survived Outcome = "SURVIVED" // the tests passed with the bug in
	Stale    Outcome = "STALE"    // the find text is not in the file exactly once
	Broken   Outcome = "BROKEN"   // the mutated code does not compile: not a learner's bug
	Hung     Outcome = "HUNG"     // the tests ran past the timeout: they must fail fast
)

// Result is one mutation's outcome, the time its go test took (build
// included) and how long its tests ran before they failed (slowestFail).
type Result struct {
	M        Mutation
	Outcome  Outcome
	Took     time.Duration
	FailedIn time.Duration
	Output   string
}

func main() {
	var (
		listFile = flag.String("list", "", "the mutation list (default: mutations.txt beside this tool)")
		only     = flag.Int("only", 0, "run only entry `N` of the list")
		match    = flag.String("match", "", "run only entries whose title, file or test contains this `text`")
		jobs     = flag.Int("j", 2, "mutations tested at once (this machine has 2 cores)")
		timeout  = flag.Duration("timeout", 4*time.Minute, "bound of one mutation's go test, build included")
		baseline = flag.Bool("baseline", true, "first check that each named test passes unmutated")
		verbose  = flag.Bool("v", false, "print the go test output of every mutation, not only of the bad ones")
	)
	flag.Parse()
	if err := run(*listFile, *only, *match, *jobs, *timeout, *baseline, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(listFile string, only int, match string, jobs int, timeout time.Duration, baseline, verbose bool) error {
	start := time.Now()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if listFile == "" {
		listFile = filepath.Join(root, "internal", "mutate", "mutations.txt")
	}
	f, err := os.Open(listFile)
	if err != nil {
		return err
	}
	list, err := Parse(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", listFile, err)
	}
	todo, err := Select(list, only, match)
	if err != nil {
		return err
	}
	jobs = max(1, min(jobs, len(todo)))

	// One scratch copy per worker, reused from one mutation to the next
	// (each is put back after its run), so the build cache serves them.
	copies := make([]string, jobs)
	for i := range copies {
		dir, err := os.MkdirTemp("", "mdk-mutate-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := copyTree(root, dir); err != nil {
			return fmt.Errorf("scratch copy: %w", err)
		}
		copies[i] = dir
	}
	fmt.Printf("mutate: %d of %d mutations, %d at a time, in scratch copies of %s\n", len(todo), len(list), jobs, root)

	if baseline {
		if err := checkBaseline(copies, todo, timeout); err != nil {
			return err
		}
	}

	results := make([]Result, len(todo))
	var mu sync.Mutex
	finished := 0
	parallel(copies, len(todo), func(dir string, i int) {
		r := test(dir, todo[i], timeout)
		results[i] = r
		mu.Lock()
		defer mu.Unlock()
		finished++
		fmt.Printf("[%2d/%d] %-8s %6.1fs  %s\n", finished, len(todo), r.Outcome, r.Took.Seconds(), r.M)
		if r.Outcome != Caught || verbose {
			fmt.Println(indent(r.Output))
		}
	})

	bad := summary(results)
	fmt.Printf("mutate: %d of %d caught in %s\n", len(results)-bad, len(results), time.Since(start).Round(time.Second))
	if bad > 0 {
		return fmt.Errorf("%d mutation(s) not caught cleanly (see above)", bad)
	}
	return nil
}

// parallel calls do(dir, i) for i in [0, n), one worker per scratch copy.
func parallel(copies []string, n int, do func(dir string, i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for _, dir := range copies {
		wg.Go(func() {
			for i := range next {
				do(dir, i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// checkBaseline runs each distinct package and pattern once, unmutated.
func checkBaseline(copies []string, todo []Mutation, timeout time.Duration) error {
	seen := map[string]bool{}
	var distinct []Mutation
	for _, m := range todo {
		if key := m.Package + " -run " + m.Run; !seen[key] {
			seen[key] = true
			distinct = append(distinct, m)
		}
	}
	errs := make([]error, len(distinct))
	parallel(copies, len(distinct), func(dir string, i int) {
		m := distinct[i]
		key := m.Package + " -run " + m.Run
		out, err, _ := goTest(dir, m, timeout)
		switch {
		case err != nil:
			errs[i] = fmt.Errorf("unmutated, go test %s fails already; fix it first:\n%s", key, indent(out))
		case strings.Contains(out, "[no tests to run]") || strings.Contains(out, "no test files"):
			errs[i] = fmt.Errorf("go test %s (for %v) runs no test", key, m)
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Printf("mutate: the %d named tests pass unmutated\n", len(distinct))
	return nil
}

// test applies m in dir, runs its tests and puts the file back.
func test(dir string, m Mutation, timeout time.Duration) Result {
	r := Result{M: m}
	old, err := Apply(dir, m)
	if err != nil {
		r.Outcome, r.Output = Stale, err.Error()
		return r
	}
	defer func() {
		if err := Restore(dir, m, old); err != nil {
			panic(err) // the copy is ours; a failure here means the disk is gone
		}
	}()
	start := time.Now()
	out, err, hung := goTest(dir, m, timeout)
	r.Took, r.Output = time.Since(start), out
	r.FailedIn = slowestFail(out)
	switch {
	case hung:
		r.Outcome = Hung
	case err == nil:
		r.Outcome = Survived
	case strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]"):
		r.Outcome = Broken
	default:
		r.Outcome = Caught
	}
	return r
}

// goTest runs the entry's tests in dir, in a process group of their own
// that is killed whole at the timeout. go test's own -timeout comes first
// and prints which test hung.
func goTest(dir string, m Mutation, timeout time.Duration) (string, error, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := []string{"test", "-count=1", "-failfast", "-timeout", (timeout - 15*time.Second).String()}
	if m.Run != "" {
		args = append(args, "-run", m.Run)
	}
	args = append(args, m.Package)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MINIDOCKER_TEST_REQUIRE_ROOT=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	hung := ctx.Err() != nil || strings.Contains(out.String(), "panic: test timed out")
	return out.String(), err, hung
}

// failLine matches a failing top-level test's line and the package's FAIL
// line, which carries the test binary's whole run time: a test whose
// subtests run in parallel reports less than its subtests took.
var failLine = regexp.MustCompile(`(?m)^(?:--- FAIL: \S+ \(([0-9.]+)s\)|FAIL\s+\S+\s+([0-9.]+)s)$`)

// slowestFail is how long the tests ran before they failed (build not
// included): the longest of the failing top-level tests and the package.
func slowestFail(out string) time.Duration {
	var slowest time.Duration
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		s, err := strconv.ParseFloat(m[1]+m[2], 64)
		if err == nil {
			slowest = max(slowest, time.Duration(s*float64(time.Second)))
		}
	}
	return slowest
}

// summary prints the table and returns how many were not caught.
func summary(results []Result) int {
	sort.Slice(results, func(i, j int) bool { return results[i].M.N < results[j].M.N })
	fmt.Printf("\n%4s  %-8s  %7s  %9s  %s\n", "#", "outcome", "go test", "fails in", "mutation (test)")
	bad := 0
	var slowest Result
	for _, r := range results {
		if r.Outcome != Caught {
			bad++
		}
		if r.FailedIn > slowest.FailedIn {
			slowest = r
		}
		fmt.Printf("%4d  %-8s  %6.1fs  %8.2fs  %s (%s -run %s)\n", r.M.N, r.Outcome, r.Took.Seconds(), r.FailedIn.Seconds(), r.M.Title, r.M.Package, r.M.Run)
	}
	if slowest.FailedIn > 0 {
		fmt.Printf("slowest failing test: %.2fs, under %v\n", slowest.FailedIn.Seconds(), slowest.M)
	}
	return bad
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the minidocker module")
	}
	return filepath.Dir(mod), nil
}

// copyTree copies the files git knows of or would add (tracked, and
// untracked but not ignored) from root to dst: the working tree as it is,
// uncommitted changes included, without build output or .git.
func copyTree(root, dst string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for _, name := range strings.Split(string(out), "\x00") {
		if name == "" {
			continue
		}
		src := filepath.Join(root, name)
		fi, err := os.Lstat(src)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return err
		}
		to := filepath.Join(dst, name)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(src)
			if err != nil {
				return err
			}
			err = os.Symlink(target, to)
			if err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			if err := os.WriteFile(to, data, fi.Mode().Perm()); err != nil {
				return err
			}
		}
	}
	return nil
}
