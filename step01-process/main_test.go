package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// exitCode returns the exit code of a finished command, or fails the test.
func TestCLI(t *testing.T) {
	bin := testkit.Build(t, "minidocker/step01-process")
	notExec := filepath.Join(t.TempDir(), "data")
	require.NoError(t, os.WriteFile(notExec, []byte("not a program\n"), 0o644))
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string // a prefix of stderr
	}{
		{name: "exit code passes through", args: []string{"run", "--", "sh", "-c", "exit 7"}, wantCode: 7},
		{name: "signal becomes 128+N", args: []string{"run", "--", "sh", "-c", "kill -KILL $$"}, wantCode: 137},
		{name: "-e and -w", args: []string{"run", "-e", "A=1", "-w", "/", "--", "sh", "-c", "echo $A $(pwd)"}, wantStdout: "1 /\n"},
		{name: "command not found", args: []string{"run", "--", "no-such-cmd"}, wantCode: 127,
			wantStderr: "step01-process: exec \"no-such-cmd\": executable file not found in $PATH\n"},
		{name: "not executable", args: []string{"run", "--", notExec}, wantCode: 126,
			wantStderr: "step01-process: exec \"" + notExec + "\": permission denied\n"},
		{name: "bad -e", args: []string{"run", "-e", "=oops", "--", "true"}, wantCode: 125,
			wantStderr: "step01-process: invalid argument for \"-e\" flag: invalid environment variable: =oops\n"},
		{name: "missing command", args: []string{"run"}, wantCode: 125,
			wantStderr: "step01-process: no command given\nUsage:  step01-process run"},
		{name: "unknown flag", args: []string{"run", "--bogus", "--", "true"}, wantCode: 125,
			wantStderr: "step01-process: flag provided but not defined: -bogus\nUsage:"},
		{name: "unknown subcommand", args: []string{"exec"}, wantCode: 125,
			wantStderr: "step01-process: the only command is \"run\"\n"},
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
			if !strings.HasPrefix(stderr.String(), tc.wantStderr) || (tc.wantStderr == "" && stderr.Len() > 0) {
				t.Errorf("%q: stderr %q, want prefix %q", tc.args, stderr.String(), tc.wantStderr)
			}
			if strings.Contains(stderr.String(), "goroutine ") {
				t.Errorf("%q: a Go stack on stderr:\n%s", tc.args, stderr.String())
			}
		})
	}
}

// TestSignalForwarding sends a signal to the demo process (not to the
// child) and checks that the child's trap ran: the child exits 42. The six
// demos run at once and share one bounded wait: a broken forwarder fails
// the test in seconds, and each demo's child dies with its demo (and is
// killed at the end if it still runs), so no shell loop is left behind.
func TestSignalForwarding(t *testing.T) {
	bin := testkit.Build(t, "minidocker/step01-process")
	type demo struct {
		name  string
		sig   syscall.Signal
		cmd   *exec.Cmd
		done  chan error
		child *testkit.Watched
		pid   int
	}
	demos := []*demo{
		{name: "TERM", sig: syscall.SIGTERM}, {name: "INT", sig: syscall.SIGINT}, {name: "HUP", sig: syscall.SIGHUP},
		{name: "QUIT", sig: syscall.SIGQUIT}, {name: "USR1", sig: syscall.SIGUSR1}, {name: "USR2", sig: syscall.SIGUSR2},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, d := range demos {
		script := "trap 'exit 42' " + d.name + "; echo ready; while :; do sleep 0.05; done"
		d.cmd = exec.CommandContext(ctx, bin, "run", "--", "sh", "-c", script)
		stdout, err := d.cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, d.cmd.Start())
		d.done = make(chan error, 1)
		go func() { d.done <- d.cmd.Wait() }()
		t.Cleanup(func() {
			_ = d.cmd.Process.Kill()
			d.done <- <-d.done // bounded: Wait returns once the demo is dead
		})
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err, "read the %s child's ready line", d.name)
		require.Equal(t, "ready\n", line)
		// The shell is the demo's only child; it must not outlive the test.
		kids := testkit.Children(t, d.cmd.Process.Pid)
		require.Len(t, kids, 1, "children of the demo")
		d.pid, d.child = kids[0], testkit.Watch(t, kids[0])
	}
	for _, d := range demos {
		require.NoError(t, d.cmd.Process.Signal(d.sig))
	}
	bound := time.After(10 * time.Second)
	for _, d := range demos {
		select {
		case err := <-d.done:
			d.done <- err
			if code := testkit.ExitCode(t, err); code != 42 {
				t.Errorf("after %v to the demo: exit code %d, want 42 from the child's trap", d.sig, code)
			}
		case <-bound:
			bound = closed // the others had as long
			t.Errorf("after %v to the demo: still running after 10s; the signal never reached the child", d.sig)
		}
	}
	for _, d := range demos {
		_ = d.cmd.Process.Kill()
		require.True(t, d.child.Exited(10*time.Second), "the %s child (PID %d) outlived the demo", d.name, d.pid)
	}
}

// closed is a channel that is always ready.
var closed = func() chan time.Time { c := make(chan time.Time); close(c); return c }()

// TestChildDiesWithDemo: kill -KILL of the demo, which it can neither catch
// nor forward, must not leave its child running as an orphan.
func TestChildDiesWithDemo(t *testing.T) {
	bin := testkit.Build(t, "minidocker/step01-process")
	testkit.RequireChildDiesWithParent(t, testkit.StartReady(t, bin, "run", "--", "sh", "-c", "echo ready; exec sleep 1000"))
}
