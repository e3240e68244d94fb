package process

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "script")
	require.NoError(t, os.WriteFile(notExec, []byte("#!/bin/sh\necho hi\n"), 0o644))
	dir := t.TempDir()

	tests := []struct {
		name       string
		args       []string
		env        []string
		dir        string
		stdin      string
		wantCode   int
		wantErr    error
		wantStdout string
		wantStderr string
	}{
		{name: "exit 0", args: []string{"true"}, wantCode: 0},
		{name: "exit 1", args: []string{"false"}, wantCode: 1},
		{name: "exit 3", args: []string{"sh", "-c", "exit 3"}, wantCode: 3},
		{name: "exit 255", args: []string{"sh", "-c", "exit 255"}, wantCode: 255},
		{name: "SIGKILL is 137", args: []string{"sh", "-c", "kill -KILL $$"}, wantCode: 137},
		{name: "SIGTERM is 143", args: []string{"sh", "-c", "kill -TERM $$"}, wantCode: 143},
		{name: "not found", args: []string{"no-such-command-xyz"}, wantErr: ErrNotFound},
		{name: "not executable", args: []string{notExec}, wantErr: ErrCannotInvoke},
		{name: "stdout and stderr kept apart", args: []string{"sh", "-c", "echo out; echo err >&2"},
			wantStdout: "out\n", wantStderr: "err\n"},
		{name: "stdin passed through", args: []string{"cat"}, stdin: "line 1\nline 2\n", wantStdout: "line 1\nline 2\n"},
		{name: "environment is exactly Env", args: []string{"env"}, env: []string{"PATH=/usr/bin:/bin", "GREETING=hello world"},
			wantStdout: "PATH=/usr/bin:/bin\nGREETING=hello world\n"},
		{name: "working directory", args: []string{"pwd"}, dir: dir, wantStdout: dir + "\n"},
		// The command is looked up in the container's PATH, not in ours
		// (which has sh): an empty directory has nothing to run.
		{name: "looked up in Env's PATH", args: []string{"sh", "-c", "true"}, env: []string{"PATH=" + dir}, wantErr: ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			if env == nil {
				env = []string{"PATH=" + DefaultPath}
			}
			var stdout, stderr bytes.Buffer
			status, err := Run(Spec{
				Args: tc.args, Env: env, Dir: tc.dir,
				Stdin: strings.NewReader(tc.stdin), Stdout: &stdout, Stderr: &stderr,
			})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Run(%q) error = %v, want %v", tc.args, err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if got := status.ExitCode(); got != tc.wantCode {
				t.Errorf("Run(%q) exit code = %d (%v), want %d", tc.args, got, status, tc.wantCode)
			}
			if stdout.String() != tc.wantStdout {
				t.Errorf("Run(%q) stdout = %q, want %q", tc.args, stdout.String(), tc.wantStdout)
			}
			if stderr.String() != tc.wantStderr {
				t.Errorf("Run(%q) stderr = %q, want %q", tc.args, stderr.String(), tc.wantStderr)
			}
		})
	}
}

func TestRunHostEnvironmentNotInherited(t *testing.T) {
	t.Setenv("MINIDOCKER_SECRET", "leaked")
	var stdout bytes.Buffer
	_, err := Run(Spec{Args: []string{"env"}, Env: []string{"PATH=" + DefaultPath}, Stdout: &stdout})
	require.NoError(t, err)
	if strings.Contains(stdout.String(), "MINIDOCKER_SECRET") {
		t.Errorf("child saw the host's MINIDOCKER_SECRET:\n%s", stdout.String())
	}
	// No environment at all (a nil Env, which os/exec would take for
	// "inherit mine"): the child has none either.
	envPath, err := exec.LookPath("env")
	require.NoError(t, err)
	stdout.Reset()
	_, err = Run(Spec{Args: []string{envPath}, Stdout: &stdout})
	require.NoError(t, err)
	require.Empty(t, stdout.String(), "with a nil Env the child got an environment")
}
