//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"
)

// TestDaemonExec: docker exec, the real docker CLI's, through the daemon
// (POST /containers/{id}/exec, a hijacked POST /exec/{id}/start, GET
// /exec/{id}/json for the exit code, POST /exec/{id}/resize), and
// minidocker -H exec through the Go client: output, stderr kept apart,
// stdin, exit codes, docker's errors, -it through a real pty.
func TestDaemonExec(t *testing.T) {
	for _, bin := range dockerCLIs(t) {
		t.Run(cliName(bin), func(t *testing.T) { testDaemonExec(t, bin) })
	}
}

func testDaemonExec(t *testing.T, bin string) {
	w := newWorld(t)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	d.bin = bin
	d.dockerOK("run", "-d", "--name", "box", "--hostname", "boxhost", "-e", "FROMRUN=1", "busybox", "sleep", "1000")

	require.Equal(t, "boxhost\n", d.dockerOK("exec", "box", "hostname"))
	require.Equal(t, "sleep\x001000\x00", d.dockerOK("exec", "box", "cat", "/proc/1/cmdline"))
	r := d.docker("exec", "-e", "FOO=bar", "-u", "1000", "-w", "/tmp", "box", "sh", "-c", "echo $FOO $FROMRUN $(id -u) $(pwd); echo err >&2; exit 3")
	require.Equal(t, 3, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "bar 1 1000 /tmp\n", r.Stdout)
	require.Equal(t, "err\n", r.Stderr)
	r = d.docker("exec", "box", "nosuchcmd")
	require.Equal(t, 127, r.Code, "stdout %q stderr %q", r.Stdout, r.Stderr)
	require.Contains(t, r.Stdout+r.Stderr, `exec "nosuchcmd": executable file not found in $PATH`)
	r = d.docker("exec", "nope", "true")
	require.NotEqual(t, 0, r.Code)
	require.Contains(t, r.Stderr, "No such container: nope")

	// stdin, ended by the client's half-close.
	c := d.dockerCmd("exec", "-i", "box", "sh", "-c", "cat; echo done")
	c.Stdin = strings.NewReader("piped\n")
	out, err := c.Output()
	require.NoError(t, err)
	require.Equal(t, "piped\ndone\n", string(out))

	// -it through a real pty: the size is the terminal's, input arrives.
	cmd := d.dockerCmd("exec", "-it", "box", "sh", "-c", "stty size; read x; echo got $x; exit 5")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 29, Cols: 97})
	require.NoError(t, err)
	t.Cleanup(func() { ptmx.Close(); cmd.Process.Kill(); cmd.Wait() })
	var seen syncBuffer
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := ptmx.Read(buf)
			seen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	eventually(t, "the pty's size", func() bool { return strings.Contains(seen.String(), "29 97") })
	ptmx.Write([]byte("hello\r"))
	cmd.Wait()
	require.Equal(t, 5, cmd.ProcessState.ExitCode(), "output %q", seen.String())
	require.Contains(t, seen.String(), "got hello")

	// minidocker's own client, through the same daemon.
	env := append(append([]string{}, w.env...), "DOCKER_HOST=unix://"+d.sock)
	mc := exec.Command(w.bin, "exec", "box", "sh", "-c", "echo via -H; exit 6")
	mc.Env = append(os.Environ(), env...)
	got, _ := mc.Output()
	require.Equal(t, "via -H\n", string(got))
	require.Equal(t, 6, mc.ProcessState.ExitCode())

	// A stopped container: the conflict.
	d.dockerOK("stop", "-t", "0", "box")
	r = d.docker("exec", "box", "true")
	require.NotEqual(t, 0, r.Code)
	require.Contains(t, r.Stderr, "is not running")
	d.dockerOK("rm", "box")
}
