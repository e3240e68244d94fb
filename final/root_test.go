package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// A relative --root (or MINIDOCKER_ROOT) means the directory under the
// caller's working directory, for every process that uses it: the monitor
// runs with cwd "/", and resolved there the state would land in /rel/dir,
// where the next ps, run from elsewhere, never looks.
func TestRelativeRoot(t *testing.T) {
	// Not newWorld: it needs its own environment (no MINIDOCKER_ROOT), and
	// no network (--network none).
	testkit.RequireRoot(t)
	buildOnce.Do(func() { built = testkit.Build(t, "minidocker/final") })
	if _, err := os.Stat(built); err != nil {
		built = testkit.Build(t, "minidocker/final")
	}
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	reg.Push(t, "library/busybox:latest", testkit.BusyboxImage(t))
	cwd := testkit.DataRoot(t, "relroot")
	b := make([]byte, 4)
	rand.Read(b)
	rel := "mdk-rel-" + hex.EncodeToString(b) // also a name that "/" does not have
	abs := filepath.Join(cwd, rel)
	t.Cleanup(func() {
		// Only ours: the random name did not exist before the test.
		if _, err := os.Stat("/" + rel); err == nil {
			t.Errorf("state written to /%s: the relative root was resolved from the monitor's cwd", rel)
			os.RemoveAll("/" + rel)
		}
	})
	md := func(dir string, env []string, args ...string) testkit.Result {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(built, args...)
		cmd.Dir = dir
		// The world's MINIDOCKER_ROOT is left out: the root is ours.
		cmd.Env = append(os.Environ(), "MINIDOCKER_ROOT=", "MINIDOCKER_REGISTRY_MIRROR="+reg.URL())
		cmd.Env = append(cmd.Env, env...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		code := testkit.ExitCode(t, cmd.Run())
		return testkit.Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
	}
	t.Cleanup(func() {
		for _, id := range strings.Fields(md("/", nil, "--root", abs, "ps", "-aq", "--no-trunc").Stdout) {
			if r := md("/", nil, "--root", abs, "rm", "-f", id); r.Code != 0 {
				t.Errorf("rm -f %s: %s", id, r.Stderr)
			}
		}
	})

	r := md(cwd, nil, "--root", rel, "run", "-d", "--network", "none", "busybox", "sleep", "60")
	require.Equal(t, 0, r.Code, "run -d with --root %s: stderr: %s", rel, r.Stderr)
	id := strings.TrimSpace(r.Stdout)
	require.DirExists(t, filepath.Join(abs, "containers", id), "the container's state under the absolute root")

	// Seen running from anywhere: the relative root from cwd, the
	// absolute one from "/", MINIDOCKER_ROOT relative as well.
	for _, c := range []struct {
		dir  string
		env  []string
		args []string
	}{
		{cwd, nil, []string{"--root", rel}},
		{"/", nil, []string{"--root", abs}},
		{cwd, []string{"MINIDOCKER_ROOT=" + rel}, nil},
	} {
		r := md(c.dir, c.env, append(c.args, "ps", "-q", "--no-trunc")...)
		require.Equal(t, 0, r.Code, "ps %v %v in %s: %s", c.env, c.args, c.dir, r.Stderr)
		require.Equal(t, id+"\n", r.Stdout, "ps %v %v in %s lists the running container", c.env, c.args, c.dir)
	}

	r = md(cwd, nil, "--root", rel, "rm", "-f", id)
	require.Equal(t, 0, r.Code, "rm -f: %s", r.Stderr)
	require.NoDirExists(t, filepath.Join(abs, "containers", id))
	r = md("/", nil, "--root", abs, "ps", "-aq")
	require.Equal(t, "", r.Stdout, "ps -a after rm -f")
}
