package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	const list = `# a comment before the first entry
## the first bug
file: a/b.go
test: ./a -run TestB|TestC
find:
	x := 1

	y := 2
replace:
	x := 2

## the second bug, with an empty replacement
file: c.go
test: ./c
find:
	z()
replace:
`
	got, err := Parse(strings.NewReader(list))
	require.NoError(t, err)
	require.Equal(t, []Mutation{
		{N: 1, Title: "the first bug", File: "a/b.go", Package: "./a", Run: "TestB|TestC",
			Find: "\tx := 1\n\n\ty := 2", Replace: "\tx := 2", Line: 2},
		{N: 2, Title: "the second bug, with an empty replacement", File: "c.go", Package: "./c",
			Find: "\tz()", Replace: "", Line: 12},
	}, got)
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, list, want string }{
		{"no file", "## x\ntest: ./a\nfind:\na\nreplace:\nb\n", "line 1: x: no file:"},
		{"no test", "## x\nfile: a.go\nfind:\na\nreplace:\nb\n", "no test:"},
		{"no find", "## x\nfile: a.go\ntest: ./a\n", "no find: text"},
		{"same text", "## x\nfile: a.go\ntest: ./a\nfind:\na\nreplace:\na\n", "replace: is the same as find:"},
		{"replace first", "## x\nfile: a.go\ntest: ./a\nreplace:\na\n", "line 4: x: replace: before find:"},
		{"two replaces", "## x\nfile: a.go\ntest: ./a\nfind:\na\nreplace:\nb\nreplace:\n", "line 8: x: a second replace:"},
		{"unknown key", "## x\nfile: a.go\nrun: TestA\n", `line 3: x: unexpected "run: TestA"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.list))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestApplyAndRestore(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "p"), 0o755))
	file := filepath.Join(root, "p", "f.go")
	const orig = "a := 1\nb := 2\nb := 2\n"
	require.NoError(t, os.WriteFile(file, []byte(orig), 0o644))

	m := Mutation{N: 1, Title: "t", File: "p/f.go", Find: "a := 1", Replace: "a := 0"}
	old, err := Apply(root, m)
	require.NoError(t, err)
	got, _ := os.ReadFile(file)
	require.Equal(t, "a := 0\nb := 2\nb := 2\n", string(got))
	require.NoError(t, Restore(root, m, old))
	got, _ = os.ReadFile(file)
	require.Equal(t, orig, string(got))

	// Text found twice, or not at all, is refused, and the file is unchanged.
	for _, find := range []string{"b := 2", "c := 3"} {
		_, err := Apply(root, Mutation{N: 2, Title: "t", File: "p/f.go", Find: find, Replace: "x"})
		require.ErrorContains(t, err, "want exactly once")
		got, _ = os.ReadFile(file)
		require.Equal(t, orig, string(got))
	}
	_, err = Apply(root, Mutation{N: 3, Title: "t", File: "p/missing.go", Find: "a", Replace: "b"})
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestSelect(t *testing.T) {
	list := []Mutation{{N: 1, Title: "step01: a"}, {N: 2, Title: "step02: b", Package: "./step02"}, {N: 3, Title: "final: c"}}
	got, err := Select(list, 2, "")
	require.NoError(t, err)
	require.Equal(t, list[1:2], got)
	got, err = Select(list, 0, "step02")
	require.NoError(t, err)
	require.Equal(t, list[1:2], got)
	got, err = Select(list, 0, "")
	require.NoError(t, err)
	require.Equal(t, list, got)
	_, err = Select(list, 4, "")
	require.Error(t, err)
	_, err = Select(list, 0, "step09")
	require.Error(t, err)
}

// TestListApplies: every entry of the repository's list still finds its
// text exactly once, in a copy of the files it names: a list that went
// stale fails here, in make test, not only in the weekly make mutate.
func TestListApplies(t *testing.T) {
	f, err := os.Open("mutations.txt")
	require.NoError(t, err)
	defer f.Close()
	list, err := Parse(f)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(list), 40)
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	scratch := t.TempDir()
	steps := map[string]int{}
	for _, m := range list {
		data, err := os.ReadFile(filepath.Join(root, m.File))
		require.NoError(t, err, "%v", m)
		dst := filepath.Join(scratch, m.File)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		require.NoError(t, os.WriteFile(dst, data, 0o644))
		old, err := Apply(scratch, m)
		if !assertNoError(t, err) {
			continue
		}
		require.NoError(t, Restore(scratch, m, old))
		_, err = os.Stat(filepath.Join(root, strings.TrimPrefix(m.Package, "./")))
		require.NoError(t, err, "%v: test package %s", m, m.Package)
		step, _, _ := strings.Cut(m.Title, ":")
		steps[step]++
	}
	for _, s := range []string{"step01", "step02", "step03", "step04", "step05", "step06", "final"} {
		require.GreaterOrEqual(t, steps[s], 3, "mutations of %s", s)
	}
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

func TestSlowestFail(t *testing.T) {
	out := "--- FAIL: TestA (1.50s)\n    --- FAIL: TestA/sub (9.00s)\n--- FAIL: TestB (2.25s)\nFAIL\nFAIL\tminidocker/x\t3.10s\nFAIL\n"
	require.Equal(t, 3100*time.Millisecond, slowestFail(out), "the package's time, longer than each test's")
	require.Equal(t, 2250*time.Millisecond, slowestFail("--- FAIL: TestA (1.50s)\n--- FAIL: TestB (2.25s)\n"))
	require.Zero(t, slowestFail("ok  \tminidocker/x\t0.5s\n"))
}
