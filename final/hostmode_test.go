//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// psRow is a ps line cut into its columns (three or more spaces apart),
// the ID and the CREATED and STATUS times left out: what must be the same
// whoever ran the container.
func psRow(line string) []string {
	cols := regexp.MustCompile(`\s{3,}`).Split(strings.TrimSpace(line), -1)
	if len(cols) < 2 {
		return cols
	}
	for i, c := range cols {
		c = regexp.MustCompile(`^[0-9a-f]{12}$`).ReplaceAllString(c, "<id>")
		c = regexp.MustCompile(`[0-9]+ seconds?|About a minute|Less than a second`).ReplaceAllString(c, "<time>")
		cols[i] = c
	}
	return cols
}

// TestHostMode drives Debian's dockerd, not minidocker's engine, with
// minidocker's own CLI through -H (and $DOCKER_HOST): the commands go as
// Engine API calls through the API client, and print what the in-process
// engine prints.
func TestHostMode(t *testing.T) {
	w := newWorld(t)
	d := startDockerd(t, w.registry.URL())
	host := "unix://" + filepath.Join(d.dir, "docker.sock")
	h := func(args ...string) testkit.Result {
		t.Helper()
		return testkit.Run(t, w.bin, w.env, append([]string{"-H", host}, args...)...)
	}
	hok := func(args ...string) string {
		t.Helper()
		r := h(args...)
		require.Equal(t, 0, r.Code, "minidocker -H %v: stderr: %s", args, r.Stderr)
		return r.Stdout
	}

	out := hok("pull", "busybox")
	require.Regexp(t, `(?s)^latest: Pulling from library/busybox\n.*[0-9a-f]{12}: Pull complete\n.*Digest: sha256:[0-9a-f]{64}\nStatus: Downloaded newer image for busybox:latest\n$`, out)
	require.Contains(t, hok("pull", "busybox"), "Status: Image is up to date for busybox:latest\n")
	require.Regexp(t, `^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[0-9a-f]{12}\s+.+ ago\s+[0-9.]+[kM]B\n$`, hok("images"))
	// The image is dockerd's, not in our data root.
	require.Equal(t, strings.TrimSpace(d.ok("images", "-q")), strings.TrimSpace(hok("images", "-q")))
	require.Empty(t, w.ok("images", "-q"), "-H pulled into the local data root")
	w.ok("pull", "busybox") // for the in-process side of the comparisons

	// Foreground runs: the output demultiplexed, the exit code ours.
	r := h("run", "--rm", "--network", "none", "busybox", "echo", "hi")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Equal(t, "hi\n", r.Stdout)
	r = h("run", "--rm", "--network", "none", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
	require.Equal(t, testkit.Result{Stdout: "out\n", Stderr: "err\n", Code: 3}, r)
	// -i: our stdin through the hijacked connection, its end the
	// container's (StdinOnce).
	cmd := exec.Command(w.bin, "-H", host, "run", "--rm", "-i", "--network", "none", "busybox", "cat")
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Stdin = strings.NewReader("through stdin\n")
	got, err := cmd.Output()
	require.NoError(t, err)
	require.Equal(t, "through stdin\n", string(got))
	// A signal we get goes to the container (docker run's --sig-proxy):
	// POST /containers/{id}/kill?signal=2.
	cmd = exec.Command(w.bin, "-H", host, "run", "--rm", "--network", "none", "busybox", "sh", "-c", `trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 0.1; done`)
	cmd.Env = append(os.Environ(), w.env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	timer := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() }) // the signal was lost: fail, not hang
	defer timer.Stop()
	rest, _ := io.ReadAll(br)
	require.Equal(t, "got INT\n", string(rest))
	require.Equal(t, 5, testkit.ExitCode(t, cmd.Wait()))
	// -t: raw bytes from the pty, as in-process.
	r = h("run", "--rm", "-t", "--network", "none", "busybox", "echo", "hi")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Equal(t, w.ok("run", "--rm", "-t", "--network", "none", "busybox", "echo", "hi"), r.Stdout)
	// A command that is not there: Docker's 127, as in-process.
	r = h("run", "--rm", "--network", "none", "busybox", "nosuchcmd")
	require.Equal(t, 127, r.Code, r.Stderr)
	require.Equal(t, 127, w.md("run", "--rm", "--network", "none", "busybox", "nosuchcmd").Code)
	require.Empty(t, strings.TrimSpace(d.ok("ps", "-aq")), "--rm left a container")

	// Detached: docker's own CLI sees what we started.
	id := strings.TrimSpace(hok("run", "-d", "--name", "web", "--network", "none", "busybox", "sleep", "60"))
	require.Regexp(t, `^[0-9a-f]{64}$`, id)
	require.Equal(t, "web", strings.TrimSpace(d.ok("ps", "--format", "{{.Names}}")))
	require.Equal(t, "false false", strings.TrimSpace(d.ok("inspect", "-f", "{{.Config.AttachStdout}} {{.Config.AttachStderr}}", "web")), "-d: nobody attaches, as docker run -d says")
	w.ok("run", "-d", "--name", "web", "--network", "none", "busybox", "sleep", "60")
	viaHost := strings.Split(strings.TrimSpace(hok("ps")), "\n")
	local := strings.Split(strings.TrimSpace(w.ok("ps")), "\n")
	require.Len(t, viaHost, 2, "ps: the header and web")
	// The columns' widths follow their widest cell (CREATED says "Less than
	// a second ago" or "2 seconds ago"): the header's words, not its spaces.
	require.Equal(t, strings.Fields(local[0]), strings.Fields(viaHost[0]), "ps header")
	require.Equal(t, psRow(local[1]), psRow(viaHost[1]), "ps row of web: in-process (expected), through dockerd (actual)")
	require.Equal(t, id[:12]+"\n", hok("ps", "-q"))

	// Logs, stdout and stderr apart.
	hok("run", "-d", "--name", "talker", "--network", "none", "busybox", "sh", "-c", "echo one; echo two >&2")
	eventually(t, "talker's exit", func() bool { return strings.Contains(hok("ps", "-a"), "Exited (0)") })
	r = h("logs", "talker")
	require.Equal(t, testkit.Result{Stdout: "one\n", Stderr: "two\n"}, r)
	// logs -f ends when the container does.
	hok("run", "-d", "--name", "slow", "--network", "none", "busybox", "sh", "-c", "echo a; sleep 1; echo b")
	require.Equal(t, "a\nb\n", hok("logs", "-f", "slow"))
	// inspect: the daemon's own JSON.
	var info []map[string]any
	require.NoError(t, json.Unmarshal([]byte(hok("inspect", "web")), &info))
	require.Len(t, info, 1)
	require.Equal(t, "/web", info[0]["Name"])
	require.Equal(t, id, info[0]["Id"])

	// The same errors, messages and exit codes. (dockerd words a kill of
	// nothing "Cannot kill container: x: No such container: x".)
	r = h("kill", "x")
	require.Equal(t, 1, r.Code)
	require.Equal(t, 1, w.md("kill", "x").Code)
	require.Contains(t, r.Stderr, "No such container: x\n")
	for _, args := range [][]string{
		{"rm", "x"}, {"stop", "x"}, {"logs", "x"}, {"inspect", "x"},
		{"run", "--name", "web", "--network", "none", "busybox", "true"},
	} {
		want, got := w.md(args...), h(args...)
		require.Equal(t, want.Code, got.Code, "exit code of %v", args)
		require.Equal(t, firstWords(want.Stderr), firstWords(got.Stderr), "error of %v", args)
	}
	require.Equal(t, "Error: No such container: x\n", h("rm", "x").Stderr)
	r = h("rm", "web")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "Error: You cannot remove a running container "+id)

	require.Equal(t, "web\n", hok("stop", "-t", "1", "web"))
	require.Equal(t, "web\n", hok("start", "web"))
	require.Equal(t, "web\n", hok("start", "web"), "start of a running container is success (304)")
	require.Contains(t, hok("ps"), " web\n")
	require.Equal(t, "web\n", hok("kill", "web"))
	eventually(t, "web killed", func() bool { return strings.Contains(hok("ps", "-a"), "Exited (137)") })
	require.Equal(t, "web\n", hok("stop", "web"), "stop of a stopped container is success (304)")
	require.Equal(t, "web\ntalker\nslow\n", hok("rm", "web", "talker", "slow"))
	require.Empty(t, strings.TrimSpace(d.ok("ps", "-aq")))
	w.ok("rm", "-f", "web")

	out = hok("rmi", "busybox")
	require.Regexp(t, `(?s)^Untagged: busybox:latest\n.*Deleted: sha256:[0-9a-f]{64}\n`, out)
	// dockerd names the image it normalised: "busybox:latest".
	r = h("rmi", "busybox")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: No such image: busybox:latest\n", r.Stderr)

	// $DOCKER_HOST, as the docker CLI reads it; -H "" is the engine here.
	env := append(append([]string{}, w.env...), "DOCKER_HOST="+host)
	r = testkit.Run(t, w.bin, env, "run", "--rm", "--network", "none", "busybox", "echo", "via env")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Equal(t, "via env\n", r.Stdout)
	require.Contains(t, d.ok("images"), "busybox", "the run through $DOCKER_HOST pulled into dockerd")

	// No daemon there: the Go client's words, exit 1.
	r = testkit.Run(t, w.bin, w.env, "-H", "unix://"+filepath.Join(t.TempDir(), "none.sock"), "ps")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "Error: failed to connect to the docker API at unix://")
}

// firstWords is an error message without what names a container or image
// by ID (dockerd's and ours differ there): its first five words.
func firstWords(s string) string {
	f := strings.Fields(s)
	if len(f) > 5 {
		f = f[:5]
	}
	return strings.Join(f, " ")
}
