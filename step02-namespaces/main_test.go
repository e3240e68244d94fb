package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

func TestCLI(t *testing.T) {
	testkit.RequireRoot(t)
	bin := testkit.Build(t, "minidocker/step02-namespaces")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{name: "isolated", args: []string{"run", "--hostname", "box", "--", "sh", "-c", "echo $$ $(hostname)"}, wantStdout: "1 box\n"},
		{name: "no namespaces", args: []string{"run", "--ns", "", "--", "sh", "-c", "test $$ != 1 && echo shared"}, wantStdout: "shared\n"},
		{name: "exit code", args: []string{"run", "--", "sh", "-c", "exit 9"}, wantCode: 9},
		{name: "exit code under --init", args: []string{"run", "--init", "--", "sh", "-c", "exit 9"}, wantCode: 9},
		{name: "not found", args: []string{"run", "--", "nope"}, wantCode: 127,
			wantStderr: "step02-namespaces: exec \"nope\": executable file not found in $PATH\n"},
		{name: "bad --ns", args: []string{"run", "--ns", "uts,bogus", "--", "true"}, wantCode: 125,
			wantStderr: "step02-namespaces: invalid argument \"uts,bogus\" for \"--ns\" flag: unknown namespace \"bogus\" (want some of uts,pid,mnt,ipc,net,cgroup)\n"},
		{name: "bad --hostname", args: []string{"run", "--hostname", "a\nb", "--", "true"}, wantCode: 125,
			wantStderr: "step02-namespaces: invalid hostname format: a\nb\n"},
		{name: "confined by default", args: []string{"run", "--", "sh", "-c", "grep CapEff /proc/self/status"}, wantStdout: "CapEff:\t00000000a80425fb\n"},
		// Docker's 14 in the bounding set too (the last capability number
		// included), none inheritable or ambient, a seccomp filter; and
		// no_new_privs only when asked, with the filter still there.
		{name: "every set, by default", args: []string{"run", "--", "grep", "-E", "^(CapInh|CapBnd|CapAmb|NoNewPrivs|Seccomp):", "/proc/self/status"},
			wantStdout: "CapInh:\t0000000000000000\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t2\n"},
		{name: "no-new-privileges", args: []string{"run", "--security-opt", "no-new-privileges", "--", "grep", "-E", "^(NoNewPrivs|Seccomp):", "/proc/self/status"},
			wantStdout: "NoNewPrivs:\t1\nSeccomp:\t2\n"},
		{name: "--privileged", args: []string{"run", "--privileged", "--", "sh", "-c", "grep Seccomp: /proc/self/status"}, wantStdout: "Seccomp:\t0\n"},
		{name: "unknown capability", args: []string{"run", "--cap-add", "FLY", "--", "true"}, wantCode: 125,
			wantStderr: "step02-namespaces: unknown capability: \"CAP_FLY\"\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, tc.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			code := testkit.ExitCode(t, cmd.Run())
			if code != tc.wantCode {
				t.Errorf("%q: exit code %d, want %d (stderr %q)", tc.args, code, tc.wantCode, stderr.String())
			}
			if stdout.String() != tc.wantStdout {
				t.Errorf("%q: stdout %q, want %q", tc.args, stdout.String(), tc.wantStdout)
			}
			if stderr.String() != tc.wantStderr {
				t.Errorf("%q: stderr %q, want %q", tc.args, stderr.String(), tc.wantStderr)
			}
		})
	}
}

// TestNotRoot runs the demo as user nobody: a clear error and 125.
func TestNotRoot(t *testing.T) {
	testkit.RequireRoot(t) // to become nobody we must be root first
	bin := testkit.Build(t, "minidocker/step02-namespaces")
	// t.TempDir makes /tmp/TestNotRootNNN/001, both 0700.
	require.NoError(t, os.Chmod(filepath.Dir(bin), 0o755))
	require.NoError(t, os.Chmod(filepath.Dir(filepath.Dir(bin)), 0o755))
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "run", "--", "true")
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	code := testkit.ExitCode(t, cmd.Run())
	if code != 125 || stderr.String() != "step02-namespaces: creating namespaces needs root: run it with sudo\n" {
		t.Errorf("as nobody: exit %d, stderr %q; want 125 and the needs-root line", code, stderr.String())
	}
}

// TestSignalToDemo sends SIGTERM to the demo process: it must reach the
// container's PID 1, whose trap exits 42.
func TestSignalToDemo(t *testing.T) {
	testkit.RequireRoot(t)
	cmd := startReady(t, "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := testkit.ExitCode(t, err); code != 42 {
			t.Errorf("exit code %d, want 42 from the container's trap", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGTERM to the demo never reached the container")
	}
}

// startReady starts the demo on script, which says "ready" once it is set
// up, and returns when it has. The demo is killed at the test's end.
func startReady(t *testing.T, script string) *exec.Cmd {
	t.Helper()
	testkit.RequireRoot(t)
	return testkit.StartReady(t, testkit.Build(t, "minidocker/step02-namespaces"), "run", "--", "sh", "-c", script)
}

// TestInitDiesWithRuntime: kill -KILL of the runtime, which can catch
// nothing, must not leave the container's PID 1 running as an orphan: the
// kernel sends it the parent-death signal (PR_SET_PDEATHSIG).
func TestInitDiesWithRuntime(t *testing.T) {
	testkit.RequireChildDiesWithParent(t, startReady(t, "echo ready; exec sleep 1000"))
}
