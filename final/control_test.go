package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
)

// syncBuffer is a bytes.Buffer safe to read while a copy writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestTTYSizeBeforeExec: the pty has the caller's size before the command
// runs, so a command that asks for it first thing gets it (busybox's
// "stty size" failed on a 0x0 pty with "No child processes"), and no stray
// NUL (^@) reaches the terminal. A SIGWINCH of the CLI resizes the pty
// through the control socket.
func TestTTYSizeBeforeExec(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	for range 3 { // it was a race: try a few times
		cmd := exec.Command(w.bin, "run", "-it", "--rm", "busybox", "stty", "size")
		cmd.Env = append(os.Environ(), w.env...)
		ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 33, Cols: 111})
		require.NoError(t, err)
		var out bytes.Buffer
		done := make(chan struct{})
		go func() { defer close(done); out.ReadFrom(ptmx) }()
		err = cmd.Wait()
		ptmx.Close()
		<-done
		require.NoError(t, err, "output: %q", out.String())
		require.Equal(t, "33 111\r\n", out.String())
	}

	// A window change while it runs.
	cmd := exec.Command(w.bin, "run", "-it", "--rm", "busybox", "sh")
	cmd.Env = append(os.Environ(), w.env...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 20, Cols: 70})
	require.NoError(t, err)
	t.Cleanup(func() { ptmx.Close(); cmd.Process.Kill(); cmd.Wait() })
	var seen syncBuffer
	go func() {
		sc := bufio.NewScanner(ptmx)
		for sc.Scan() {
			seen.Write([]byte(sc.Text() + "\n"))
		}
	}()
	fmt.Fprint(ptmx, "echo size $(stty size)\r")
	eventually(t, "the first size", func() bool { return strings.Contains(seen.String(), "size 20 70") })
	require.NoError(t, pty.Setsize(ptmx, &pty.Winsize{Rows: 44, Cols: 120})) // the CLI gets SIGWINCH
	eventually(t, "the new size", func() bool {
		fmt.Fprint(ptmx, "echo size $(stty size)\r")
		time.Sleep(100 * time.Millisecond)
		return strings.Contains(seen.String(), "size 44 120")
	})
	fmt.Fprint(ptmx, "exit 3\r")
	cmd.Wait()
	require.Equal(t, 3, cmd.ProcessState.ExitCode())
}

// TestControlSocket: a -d -i container's monitor serves its control socket
// (mode 0600, in the container's directory): two clients attached through
// the engine both see its output, stdout and stderr stay apart, one
// client's input reaches the container's stdin, both learn the exit code,
// and the socket is gone once the container exited.
func TestControlSocket(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	id := strings.TrimSpace(w.ok("run", "-d", "-i", "busybox", "sh", "-c",
		`while read line; do echo "out $line"; echo "err $line" >&2; [ "$line" = bye ] && exit 7; done`))
	sock := filepath.Join(w.root, "containers", id, "control.sock")
	fi, err := os.Stat(sock)
	require.NoError(t, err, "the control socket while the container runs")
	require.Equal(t, os.ModeSocket|0o600, fi.Mode()&(os.ModeType|os.ModePerm))

	e, err := engine.Open(w.root)
	require.NoError(t, err)
	var out1, err1, out2, err2 syncBuffer
	inR, inW := net.Pipe()
	a1, err := e.Attach(context.Background(), id[:12], engine.AttachOptions{Stdin: inR, Stdout: &out1, Stderr: &err1})
	require.NoError(t, err)
	require.False(t, a1.Tty)
	a2, err := e.Attach(context.Background(), id, engine.AttachOptions{Stdout: &out2, Stderr: &err2})
	require.NoError(t, err)

	fmt.Fprintln(inW, "one")
	eventually(t, "both clients to see the output", func() bool {
		return out1.String() == "out one\n" && out2.String() == "out one\n" &&
			err1.String() == "err one\n" && err2.String() == "err one\n"
	})
	require.Error(t, e.Resize(id, engine.Size{Rows: 10, Cols: 10}), "no pty to resize without -t")
	fmt.Fprintln(inW, "bye")
	inW.Close()
	code1, err := a1.Wait()
	require.NoError(t, err)
	require.Equal(t, 7, code1)
	code2, err := a2.Wait()
	require.NoError(t, err)
	require.Equal(t, 7, code2)
	require.Equal(t, "out one\nout bye\n", out2.String())
	require.Equal(t, "err one\nerr bye\n", err2.String())

	_, err = os.Stat(sock)
	require.ErrorIs(t, err, os.ErrNotExist, "the socket outlived the container")
	require.Equal(t, "exited", w.state(id)["Status"])
	_, err = e.Attach(context.Background(), id, engine.AttachOptions{Stdout: &out1})
	require.ErrorContains(t, err, "You cannot attach to a stopped container, start it first")
	require.Equal(t, "out one\nout bye\n", w.md("logs", id).Stdout, "the log has it all")
}

// TestControlProtocol speaks the socket's protocol by hand, as the package
// documentation describes it: a JSON hello line, the JSON answer, then
// Docker's 8-byte frames (stream 1 stdout, 2 stderr, big-endian length),
// and a wait's {"exitCode": N}.
func TestControlProtocol(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	id := strings.TrimSpace(w.ok("run", "-d", "-i", "busybox", "sh", "-c", `read x; echo "o$x"; echo "e$x" >&2; exit 4`))
	dial := func(hello string) (*net.UnixConn, *bufio.Reader, map[string]any) {
		// The path is too long for a sockaddr_un: go through the directory.
		dir, err := os.Open(filepath.Join(w.root, "containers", id))
		require.NoError(t, err)
		defer dir.Close()
		c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: fmt.Sprintf("/proc/self/fd/%d/control.sock", dir.Fd()), Net: "unix"})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		fmt.Fprintln(c, hello)
		br := bufio.NewReader(c)
		line, err := br.ReadBytes('\n')
		require.NoError(t, err)
		var answer map[string]any
		require.NoError(t, json.Unmarshal(line, &answer), "%q", line)
		return c, br, answer
	}
	_, _, answer := dial(`{"resize":{"rows":5,"cols":5}}`)
	require.Contains(t, answer["error"], "no pty")
	_, _, answer = dial(`{"attach":{"stdout":true},"wait":true}`)
	require.NotEmpty(t, answer["error"])
	_, waitR, answer := dial(`{"wait":true}`)
	require.Empty(t, answer["error"])
	c, br, answer := dial(`{"attach":{"stdin":true,"stdout":true,"stderr":true,"stdinOnce":true}}`)
	require.Empty(t, answer["error"])
	fmt.Fprintln(c, "k")
	require.NoError(t, c.CloseWrite())
	frames := map[byte]string{}
	for {
		var h [8]byte
		if _, err := io.ReadFull(br, h[:]); err != nil {
			break
		}
		require.Equal(t, []byte{0, 0, 0}, h[1:4])
		p := make([]byte, binary.BigEndian.Uint32(h[4:]))
		_, err := io.ReadFull(br, p)
		require.NoError(t, err)
		frames[h[0]] += string(p)
	}
	require.Equal(t, map[byte]string{1: "ok\n", 2: "ek\n"}, frames)
	line, err := waitR.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, `{"exitCode":4}`+"\n", line)
}

// TestAttachWithoutMonitor: a container whose monitor was SIGKILLed runs
// on, but nothing serves its streams any more: Attach says so (Unavailable)
// rather than calling it stopped; a resize of a container without a pty is
// a Conflict, and a stopped container's is too.
func TestAttachWithoutMonitor(t *testing.T) {
	w := newWorld(t)
	id := strings.TrimSpace(w.ok("run", "-d", "busybox", "sleep", "1000"))
	e, err := engine.Open(w.root)
	require.NoError(t, err)
	requireKindOf(t, e.Resize(id, engine.Size{Rows: 5, Cols: 5}), errdefs.ConflictKind, "no pty")

	var st struct{ MonitorPid int }
	data, err := os.ReadFile(filepath.Join(w.root, "containers", id, "state.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &st))
	require.NoError(t, syscall.Kill(st.MonitorPid, syscall.SIGKILL))
	eventually(t, "the monitor to die", func() bool { return syscall.Kill(st.MonitorPid, 0) != nil })
	_, err = e.Attach(context.Background(), id, engine.AttachOptions{Stdout: io.Discard})
	requireKindOf(t, err, errdefs.UnavailableKind, "its monitor is gone")

	w.ok("rm", "-f", id)
	_, err = e.Attach(context.Background(), id, engine.AttachOptions{Stdout: io.Discard})
	requireKindOf(t, err, errdefs.NotFoundKind, "No such container")
}

func requireKindOf(t *testing.T, err error, kind errdefs.Kind, text string) {
	t.Helper()
	require.Error(t, err)
	require.Equal(t, kind, errdefs.KindOf(err), "kind of %q", err)
	require.Contains(t, err.Error(), text)
}
