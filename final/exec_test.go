//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// TestExec: docker exec joins the running container: its hostname, its PID
// namespace (PID 1 is the container's command), its mounts (a file its main
// process wrote), its network (the address inspect shows), its environment
// plus -e, its user unless -u, -w; the exit code comes back; errors are
// docker's. And the confinement is the container's own: the same
// capability sets, no_new_privs, seccomp mode and cgroups as its PID 1.
func TestExec(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	w.ok("run", "-d", "--name", "web", "--hostname", "web.example", "-e", "FROMRUN=1", "busybox",
		"sh", "-c", "echo made-by-main >/tmp/mark; exec sleep 1000")
	eventually(t, "the main process's file", func() bool { return w.md("exec", "web", "test", "-e", "/tmp/mark").Code == 0 })

	require.Equal(t, "web.example\n", w.ok("exec", "web", "hostname"))
	require.Equal(t, "made-by-main\n", w.ok("exec", "web", "cat", "/tmp/mark"))
	require.Equal(t, "sleep\x001000\x00", w.ok("exec", "web", "cat", "/proc/1/cmdline"), "PID 1 seen from the exec")
	ip := w.inspect("web")["NetworkSettings"].(map[string]any)["IPAddress"].(string)
	require.Contains(t, w.ok("exec", "web", "ip", "-4", "-o", "addr", "show", "eth0"), " "+ip+"/")
	require.Equal(t, "bar 1\n", w.ok("exec", "-e", "FOO=bar", "web", "sh", "-c", "echo $FOO $FROMRUN"))
	require.Equal(t, "1000 /tmp\n", w.ok("exec", "-u", "1000", "-w", "/tmp", "web", "sh", "-c", "echo $(id -u) $(pwd)"))

	r := w.md("exec", "web", "sh", "-c", "exit 7")
	require.Equal(t, 7, r.Code)
	r = w.md("exec", "web", "nosuchcmd")
	require.Equal(t, 127, r.Code)
	require.Equal(t, "Error: exec \"nosuchcmd\": executable file not found in $PATH\n", r.Stderr)
	r = w.md("exec", "nope", "true")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: No such container: nope\n", r.Stderr)

	// The same confinement as the container's PID 1, line for line.
	status := func(pid string) string {
		return w.ok("exec", "web", "grep", "-E", "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):", "/proc/"+pid+"/status")
	}
	main, execd := status("1"), status("self")
	require.Contains(t, main, "Seccomp:\t2", "the container runs under seccomp")
	require.Equal(t, main, execd, "the exec's privileges differ from the container's PID 1")
	require.Equal(t, w.ok("exec", "web", "cat", "/proc/1/cgroup"), w.ok("exec", "web", "cat", "/proc/self/cgroup"),
		"the exec is not in the container's cgroups")
	// A non-root user keeps no capability, as with docker exec -u.
	require.Contains(t, w.ok("exec", "-u", "1000", "web", "grep", "CapEff", "/proc/self/status"), "CapEff:\t0000000000000000")

	// What the container may not do, its exec may not either; the same
	// attempt in a --privileged container works, so the check can fail.
	r = w.md("exec", "web", "mount", "-t", "tmpfs", "none", "/tmp")
	require.NotEqual(t, 0, r.Code, "an exec mounted a filesystem: %s", r.Stdout)
	require.Contains(t, r.Stderr, "permission denied")
	w.ok("run", "-d", "--name", "priv", "--privileged", "busybox", "sleep", "1000")
	w.ok("exec", "priv", "mount", "-t", "tmpfs", "none", "/tmp")

	// A stopped container: docker's conflict.
	id := w.inspect("web")["Id"].(string)
	w.ok("stop", "-t", "0", "web")
	r = w.md("exec", "web", "true")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: container "+id+" is not running\n", r.Stderr)

	// No helper is left behind.
	out, _ := exec.Command("pgrep", "-f", "__minidocker_exec").Output()
	require.Empty(t, strings.TrimSpace(string(out)), "exec helpers still running")
}

// TestExecTTY: exec -it through a real pty: the command has a terminal of
// the caller's size, input reaches it, and its exit code comes back.
func TestExecTTY(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	w.ok("run", "-d", "--name", "box", "--network", "none", "busybox", "sleep", "1000")
	cmd := exec.Command(w.bin, "exec", "-it", "box", "sh", "-c", "stty size; read x; echo got $x; exit 4")
	cmd.Env = append(os.Environ(), w.env...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 27, Cols: 91})
	require.NoError(t, err)
	t.Cleanup(func() { ptmx.Close(); cmd.Process.Kill(); cmd.Wait() })
	var out syncBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1024)
		for {
			n, err := ptmx.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	eventually(t, "the size", func() bool { return strings.Contains(out.String(), "27 91") })
	ptmx.Write([]byte("hello\r"))
	err = cmd.Wait()
	require.Equal(t, 4, cmd.ProcessState.ExitCode(), "err %v, output %q", err, out.String())
	ptmx.Close()
	<-done
	require.Contains(t, out.String(), "got hello")

	// Without a terminal on stdin, -it is refused as docker refuses it.
	r := testkit.Run(t, w.bin, w.env, "exec", "-it", "box", "true")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: the input device is not a TTY\n", r.Stderr)
	var stdin bytes.Buffer
	stdin.WriteString("piped\n")
	c := exec.Command(w.bin, "exec", "-i", "box", "cat")
	c.Env = append(os.Environ(), w.env...)
	c.Stdin = &stdin
	got, err := c.Output()
	require.NoError(t, err)
	require.Equal(t, "piped\n", string(got), "exec -i: our stdin is the command's")
}
