//go:build linux

package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"
)

// terminal is a command run on a real pty, as a user's terminal runs it.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File
	mu   sync.Mutex
	seen strings.Builder
	done chan error
}

func onTerminal(t *testing.T, cmd *exec.Cmd) *terminal {
	t.Helper()
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	require.NoError(t, err)
	tm := &terminal{t: t, cmd: cmd, ptmx: ptmx, done: make(chan error, 1)}
	t.Cleanup(func() {
		ptmx.Close()
		cmd.Process.Kill()
		<-tm.done
	})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			tm.mu.Lock()
			tm.seen.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil {
				break
			}
		}
		tm.done <- cmd.Wait()
	}()
	return tm
}

func (tm *terminal) screen() string { tm.mu.Lock(); defer tm.mu.Unlock(); return tm.seen.String() }

func (tm *terminal) waitFor(what, re string) {
	tm.t.Helper()
	r := regexp.MustCompile(re)
	deadline := time.Now().Add(15 * time.Second)
	for !r.MatchString(tm.screen()) {
		require.True(tm.t, time.Now().Before(deadline), "no %s on the terminal; the screen:\n%q", what, tm.screen())
		time.Sleep(20 * time.Millisecond)
	}
}

func (tm *terminal) send(s string) {
	tm.t.Helper()
	_, err := tm.ptmx.Write([]byte(s))
	require.NoError(tm.t, err)
}

// exit waits for the command's end and returns its exit code.
func (tm *terminal) exit() int {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		tm.done <- err // for the cleanup
		return tm.cmd.ProcessState.ExitCode()
	case <-time.After(20 * time.Second):
		tm.t.Fatalf("%v did not exit; the screen:\n%q", tm.cmd.Args, tm.screen())
		return -1
	}
}

const ctrlPQ = "\x10\x11"

// runAndDetach runs cmd, a run -it of busybox sh, on a terminal, has the
// shell answer, then types Ctrl-P Ctrl-Q: the run must end with exit
// status 0.
func runAndDetach(t *testing.T, cmd *exec.Cmd) *terminal {
	t.Helper()
	tm := onTerminal(t, cmd)
	tm.waitFor("prompt", `/ # `)
	tm.send("echo hi $((6*7))\r")
	tm.waitFor("answer", `hi 42`)
	tm.send(ctrlPQ)
	require.Equal(t, 0, tm.exit(), "run -it detaches with exit status 0; the screen:\n%q", tm.screen())
	return tm
}

// TestDetachKeys: Ctrl-P Ctrl-Q leaves an -it container running, from
// run -it and from attach (which says "read escape sequence" and exits 1,
// as docker attach does); --detach-keys changes the sequence, and the old
// one then reaches the container; in-process and through the daemon (-H).
func TestDetachKeys(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	for _, via := range []struct {
		name string
		args []string
	}{{"in-process", nil}, {"daemon", []string{"-H", "unix://" + d.sock}}} {
		t.Run(via.name, func(t *testing.T) {
			md := func(args ...string) *exec.Cmd {
				cmd := exec.Command(w.bin, append(append([]string{}, via.args...), args...)...)
				cmd.Env = append(os.Environ(), w.env...)
				return cmd
			}
			name := "det-" + via.name
			running := func() bool { return w.state(name)["Running"] == true }

			tm := runAndDetach(t, md("run", "-it", "--name", name, "--network", "none", "busybox", "sh"))
			require.True(t, running(), "the container runs on after the detach")

			tm = onTerminal(t, md("attach", name))
			tm.send("echo again $((6*8))\r")
			tm.waitFor("answer", `again 48`)
			tm.send(ctrlPQ)
			require.Equal(t, 1, tm.exit(), "the screen:\n%q", tm.screen())
			require.Contains(t, tm.screen(), "read escape sequence")
			require.True(t, running(), "the container runs on after the detach")

			tm = onTerminal(t, md("attach", "--detach-keys", "ctrl-a,x", name))
			// Not the sequence now: it reaches the shell (whose line editor
			// takes ^P for the previous line; ^U then empties the line).
			tm.send(ctrlPQ + "\x15echo still $((7*11))\r")
			tm.waitFor("answer", `still 77`)
			tm.send("\x01x")
			require.Equal(t, 1, tm.exit(), "the screen:\n%q", tm.screen())
			require.Contains(t, tm.screen(), "read escape sequence")
			require.True(t, running(), "the container runs on after the detach")

			r := w.md(append(append([]string{}, via.args...), "attach", "--detach-keys", "ctrl-1", name)...)
			require.Equal(t, 1, r.Code)
			require.Contains(t, r.Stderr, "invalid detach keys (ctrl-1)")
			w.ok("rm", "-f", name)
		})
	}

	// The daemon's own watch, for clients that send the keys on
	// (?detachKeys=): it ends the attach, and the container runs on.
	w.ok("run", "-dit", "--name", "srv", "--network", "none", "busybox", "sh")
	api, err := client.New(client.WithHost("unix://"+d.sock), client.WithAPIVersionNegotiation())
	require.NoError(t, err)
	t.Cleanup(func() { api.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	att, err := api.ContainerAttach(ctx, "srv", client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, DetachKeys: "ctrl-x"})
	require.NoError(t, err)
	defer att.Close()
	detachRaw(t, att.HijackedResponse, "echo daemon $((7*7))\r", "daemon 49", "\x18")
	require.Equal(t, true, w.state("srv")["Running"])
	_, err = api.ContainerAttach(ctx, "srv", client.ContainerAttachOptions{Stream: true, Stdin: true, DetachKeys: "ctrl-1"})
	require.ErrorContains(t, err, "400", "bad keys are refused before the upgrade")

	// And an exec's (ExecConfig.DetachKeys): the command goes on.
	ex, err := api.ExecCreate(ctx, "srv", client.ExecCreateOptions{Cmd: []string{"sh"}, TTY: true, AttachStdin: true,
		AttachStdout: true, DetachKeys: "ctrl-x"})
	require.NoError(t, err)
	xatt, err := api.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{TTY: true})
	require.NoError(t, err)
	defer xatt.Close()
	detachRaw(t, xatt.HijackedResponse, "echo exec $((5*5))\r", "exec 25", "\x18")
	xi, err := api.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	require.NoError(t, err)
	require.True(t, xi.Running, "the exec runs on after the detach")
	_, err = api.ExecCreate(ctx, "srv", client.ExecCreateOptions{Cmd: []string{"sh"}, TTY: true, AttachStdin: true, DetachKeys: "ctrl-1"})
	require.ErrorContains(t, err, "invalid detach keys")
}

// detachRaw types line on a hijacked connection with a pty, reads until
// want, then sends keys: the daemon must end the stream.
func detachRaw(t *testing.T, h client.HijackedResponse, line, want, keys string) {
	t.Helper()
	_, err := h.Conn.Write([]byte(line))
	require.NoError(t, err)
	var out strings.Builder
	buf := make([]byte, 1024)
	for !strings.Contains(out.String(), want) {
		h.Conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		n, err := h.Reader.Read(buf)
		out.Write(buf[:n])
		require.NoError(t, err, "before the answer: %q", out.String())
	}
	_, err = h.Conn.Write([]byte(keys))
	require.NoError(t, err)
	h.Conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, err = io.Copy(io.Discard, h.Reader)
	require.NoError(t, err, "the daemon ends the stream on the keys")
}

// TestDaemonDetachKeys: the docker CLI's docker run -it and docker attach
// against the daemon detach on Ctrl-P Ctrl-Q (and --detach-keys), leaving
// the container running.
func TestDaemonDetachKeys(t *testing.T) {
	for _, bin := range dockerCLIs(t) {
		t.Run(cliName(bin), func(t *testing.T) {
			w := newWorld(t)
			d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
			d.bin = bin
			d.dockerOK("pull", "busybox")
			running := func() bool {
				return strings.TrimSpace(d.dockerOK("inspect", "-f", "{{.State.Running}}", "dk")) == "true"
			}

			tm := runAndDetach(t, d.dockerCmd("run", "-it", "--name", "dk", "busybox", "sh"))
			require.True(t, running(), "the container runs on after the detach")

			tm = onTerminal(t, d.dockerCmd("attach", "--detach-keys", "ctrl-a,x", "dk"))
			tm.send("\x15echo again $((6*8))\r")
			tm.waitFor("answer", `again 48`)
			tm.send("\x01x")
			tm.exit()
			require.Contains(t, tm.screen(), "read escape sequence")
			require.True(t, running(), "the container runs on after the detach")

			tm = onTerminal(t, d.dockerCmd("exec", "-it", "dk", "sh", "-c", "echo ready; read x; echo got $x"))
			tm.waitFor("the exec", `ready`)
			tm.send(ctrlPQ)
			tm.exit()
			require.Contains(t, tm.screen(), "read escape sequence")
			require.Contains(t, d.dockerOK("top", "dk"), "echo ready", "the exec runs on after the detach")
		})
	}
}
