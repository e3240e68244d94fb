package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// fullEnv makes TestWorkspaces run every test of every exercise, not only
// the quick ones (make check-exercises).
const fullEnv = "MINIDOCKER_EXERCISE_FULL"

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := moduleRoot(".")
	require.NoError(t, err)
	return root
}

// TestMarkersMatchTable checks that the markers in the steps and the table
// of tests agree: every marked exercise is graded, every graded exercise
// is marked, each step has two to four, and every test named exists.
func TestMarkersMatchTable(t *testing.T) {
	root := repoRoot(t)
	regions, err := findRegions(root)
	require.NoError(t, err)
	marked := map[string]bool{}
	for _, r := range regions {
		marked[r.ID] = true
		if !strings.HasPrefix(r.File, Steps[r.Step()]+"/") {
			t.Errorf("%s:%d: exercise %s is not in %s", r.File, r.Begin, r.ID, Steps[r.Step()])
		}
	}
	perStep := map[string]int{}
	for _, e := range Exercises {
		perStep[e.ID[:2]]++
		if !marked[e.ID] {
			t.Errorf("exercise %s is in the table but marked nowhere in the source", e.ID)
		}
		delete(marked, e.ID)
		quick := false
		for _, ts := range e.Tests {
			quick = quick || ts.Quick
			for _, name := range ts.Names {
				out, err := exec.Command("grep", "-rlE", "^func "+name+`\(`, filepath.Join(root, ts.Pkg)).Output()
				if err != nil || len(out) == 0 {
					t.Errorf("exercise %s: no func %s in %s", e.ID, name, ts.Pkg)
				}
			}
		}
		if !quick {
			t.Errorf("exercise %s: no quick tests, so CI never checks it", e.ID)
		}
	}
	for id := range marked {
		t.Errorf("exercise %s is marked in the source but has no tests in the table", id)
	}
	for step := range Steps {
		if n := perStep[step]; n < 2 || n > 4 {
			t.Errorf("step %s has %d exercises, want 2 to 4", step, n)
		}
	}
}

func TestStubSource(t *testing.T) {
	const src = `package p

import (
	"fmt"
	"os"
	"strings"
	digest "github.com/opencontainers/go-digest"
)

func f(x int) (int, error) {
	s := fmt.Sprint(x)
	// exercise:begin 01-a keep=s Use s.
	n, err := os.Stdout.WriteString(strings.ToUpper(s))
	return n, err
	// exercise:end
}

func g() digest.Digest {
	// exercise:begin 01-b Return a digest.
	return digest.FromString("x")
	// exercise:end
}
`
	regions, err := parseRegions("p.go", []byte(src))
	require.NoError(t, err)
	require.Len(t, regions, 2)
	if diff := cmp.Diff([]string{"s"}, regions[0].Keep); diff != "" {
		t.Errorf("keep (-want +got):\n%s", diff)
	}
	got, err := stubSource("p.go", []byte(src), regions)
	require.NoError(t, err)
	want := `package p

import (
	"fmt"
	digest "github.com/opencontainers/go-digest"
)

func f(x int) (int, error) {
	s := fmt.Sprint(x)
	// exercise:begin 01-a keep=s Use s.
	_ = s
	panic("exercise 01-a: Use s.")
	// exercise:end
}

func g() digest.Digest {
	// exercise:begin 01-b Return a digest.
	panic("exercise 01-b: Return a digest.")
	// exercise:end
}
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("stubSource (-want +got):\n%s", diff)
	}
}

func TestParseRegionsErrors(t *testing.T) {
	for _, src := range []string{
		"// exercise:begin 01-a hint\n",
		"// exercise:end\n",
		"// exercise:begin 01-a hint\n// exercise:begin 01-b hint\n// exercise:end\n",
		"// exercise:begin a hint\n// exercise:end\n",
		"// exercise:begin 01-a\n// exercise:end\n",
	} {
		if _, err := parseRegions("p.go", []byte(src)); err == nil {
			t.Errorf("parseRegions(%q) = nil error, want one", src)
		}
	}
}

func TestJudge(t *testing.T) {
	results := map[string]*testResult{
		"TestOK":        {action: "pass"},
		"TestStub":      {action: "fail", output: []string{"=== RUN   TestStub", "panic: exercise 01-a: do it [recovered]"}},
		"TestOther":     {action: "fail", output: []string{"panic: exercise 01-b: do that"}},
		"TestWrong":     {action: "fail", output: []string{"=== RUN   TestWrong", "--- FAIL: TestWrong (0.00s)"}},
		"TestWrong/one": {action: "pass", seq: 1},
		"TestWrong/two": {action: "fail", seq: 2, output: []string{"=== RUN   TestWrong/two", "    x_test.go:12: ExitCode() = 0, want 137", "    x_test.go:13: later", "--- FAIL: TestWrong/two (0.00s)"}},
		"TestWrong/b":   {action: "fail", seq: 3, output: []string{"    x_test.go:20: a later subtest, first by name"}},
		"TestSkipped":   {action: "skip", output: []string{"    x_test.go:3: needs root"}},
	}
	tests := []struct {
		name, died string
		want       Status
		wantWhy    string
	}{
		{"TestOK", "", Pass, ""},
		{"TestStub", "", Todo, "TestStub: panic: exercise 01-a: do it [recovered]"},
		{"TestOther", "", Blocked, "TestOther: panic: exercise 01-b: do that"},
		{"TestWrong", "", Fail, "TestWrong/two: x_test.go:12: ExitCode() = 0, want 137"},
		{"TestSkipped", "", Skip, "TestSkipped: x_test.go:3: needs root"},
		{"TestNeverRan", "panic: exercise 01-b: do that", Blocked, "TestNeverRan did not run: the test binary died: panic: exercise 01-b: do that"},
		{"TestNeverRan", "", Fail, "TestNeverRan did not run"},
	}
	for _, tc := range tests {
		st, why := judge("01-a", tc.name, results, tc.died)
		if st != tc.want || why != tc.wantWhy {
			t.Errorf("judge(%s, died %q) = %s, %q; want %s, %q", tc.name, tc.died, st, why, tc.want, tc.wantWhy)
		}
	}
}

// TestWorkspaces is the proof of the exercises, step by step: the
// workspace a learner gets builds (check's go vet of the step's packages,
// tests included; with go vet ./... also every later package that imports
// them), the tests of each exercise fail there, and the reference code
// (the repository) passes the same checks.
//
// make test runs it with each exercise's quick tests, vets only the step's
// packages, and checks the reference through the grader for step 01 only:
// the reference runs of the other steps' tests are the steps' own packages
// in the same make test. make check-exercises (MINIDOCKER_EXERCISE_FULL=1)
// runs go vet ./... and every test of every exercise on both sides, and
// then stubs each exercise alone: its own tests must catch it, not only
// another stub's panic.
func TestWorkspaces(t *testing.T) {
	testkit.RequireRoot(t)
	if testing.Short() {
		t.Skip("runs the steps' privileged tests twice; not in -short")
	}
	root := repoRoot(t)
	full := os.Getenv(fullEnv) == "1"
	opts := checkOptions{QuickOnly: !full, Timeout: 3 * time.Minute}
	require.NoError(t, becomeSubreaper())
	steps := make([]string, 0, len(Steps))
	for s := range Steps {
		steps = append(steps, s)
	}
	slices.Sort(steps)
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
			defer cancel()
			dir := filepath.Join(t.TempDir(), "ws")
			regions, err := writeWorkspace(root, dir, step, "")
			require.NoError(t, err)
			for _, r := range regions {
				data, err := os.ReadFile(filepath.Join(dir, r.File))
				require.NoError(t, err)
				require.Contains(t, string(data), r.Stub(), "%s: the stub of %s", r.File, r.ID)
			}
			if full {
				vet := exec.CommandContext(ctx, goTool(), "vet", "./...")
				vet.Dir = dir
				out, err := vet.CombinedOutput()
				require.NoError(t, err, "go vet ./... in the workspace of step %s:\n%s", step, out)
			}

			stub, err := check(ctx, dir, step, opts, io.Discard)
			require.NoError(t, err)
			for _, v := range stub {
				require.NotEqual(t, notBuilt, v.Why, "the workspace of step %s does not build", step)
				// The tests themselves, not the stub found in the source.
				if v.Graded == Pass || v.Graded == Skip {
					t.Errorf("workspace: the tests of %s say %s, want a failure (stub not caught)", v.Exercise.ID, v.Graded)
				}
			}
			if !full && step != "01" {
				return
			}
			ref, err := check(ctx, root, step, opts, io.Discard)
			require.NoError(t, err)
			for _, v := range ref {
				if v.Status != Pass {
					t.Errorf("reference: %s is %s, want PASS:\n%s", v.Exercise.ID, v.Status, v.Why)
				}
			}
			if !full {
				return
			}
			for _, e := range stepExercises(step) {
				dir := filepath.Join(t.TempDir(), "ws")
				_, err := writeWorkspace(root, dir, step, e.ID)
				require.NoError(t, err)
				alone := opts
				alone.Only = e.ID
				vs, err := check(ctx, dir, step, alone, io.Discard)
				require.NoError(t, err)
				require.Len(t, vs, 1)
				if g := vs[0].Graded; g != Todo && g != Fail {
					t.Errorf("%s stubbed alone: its tests say %s, want a failure of their own:\n%s", e.ID, g, vs[0].Why)
				}
			}
		})
	}
}

// TestReadmeListings: the hint lines a step's README shows (as make
// exercise prints them, "    FILE:LINE  HINT") name each region's current
// begin line and hint, in both languages: an edit above a region moves it,
// and the lesson must say where it is now.
func TestReadmeListings(t *testing.T) {
	root := repoRoot(t)
	regions, err := findRegions(root)
	require.NoError(t, err)
	at := map[string]Region{} // "file hint" -> region
	for _, r := range regions {
		at[r.File+" "+r.Hint] = r
	}
	listing := regexp.MustCompile(`^    (step\d\d-[^ :]+\.go):(\d+)  (.+)$`)
	seen := 0
	for _, readme := range []string{"README.md", "README.ko.md"} {
		files, err := filepath.Glob(filepath.Join(root, "step[0-9][0-9]-*", readme))
		require.NoError(t, err)
		for _, f := range files {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			for i, line := range strings.Split(string(data), "\n") {
				m := listing.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				seen++
				r, ok := at[m[1]+" "+m[3]]
				if !ok {
					t.Errorf("%s:%d: no exercise region in %s with the hint %q", f, i+1, m[1], m[3])
					continue
				}
				if n, _ := strconv.Atoi(m[2]); n != r.Begin {
					t.Errorf("%s:%d: %s's region %s begins at line %d, the lesson says %s", f, i+1, m[1], r.ID, r.Begin, m[2])
				}
			}
		}
	}
	require.GreaterOrEqual(t, seen, 2*len(regions), "every region listed in both languages")
}
