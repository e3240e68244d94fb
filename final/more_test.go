//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// TestWaitRestartRenamePort: docker wait prints exit codes in argument
// order (waiting for all at once) and says which container is missing;
// restart stops and starts (a new init, the same container); rename keeps
// everything but the name, with docker's refusals; port lists the
// published ports with the host ports chosen.
func TestWaitRestartRenamePort(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	w.ok("run", "-d", "--name", "slow", "--network", "none", "busybox", "sh", "-c", "sleep 1; exit 3")
	w.ok("run", "-d", "--name", "fast", "--network", "none", "busybox", "sh", "-c", "exit 5")
	start := time.Now()
	r := w.md("wait", "slow", "nope", "fast")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "3\n5\n", r.Stdout, "in argument order")
	require.Equal(t, "Error: No such container: nope\n", r.Stderr)
	require.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "wait returned before slow exited")

	w.ok("run", "-d", "--name", "svc", "--network", "none", "busybox", "sleep", "1000")
	before := w.state("svc")["Pid"].(float64)
	require.Equal(t, "svc\n", w.ok("restart", "-t", "0", "svc"))
	after := w.state("svc")
	require.Equal(t, "running", after["Status"])
	require.NotEqual(t, before, after["Pid"], "restart kept the old init")
	require.Equal(t, "slow\n", w.ok("restart", "slow"), "restart of an exited container starts it")

	id := w.inspect("svc")["Id"].(string)
	w.ok("rename", "svc", "renamed")
	require.Equal(t, "/renamed", w.inspect(id)["Name"])
	require.Equal(t, 1, w.md("inspect", "svc").Code, "the old name still finds it")
	r = w.md("rename", "renamed", "fast")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, `Conflict. The container name "/fast" is already in use by container`)
	r = w.md("rename", "renamed", "renamed")
	require.Equal(t, "Error: Renaming a container with the same name as its current name\n", r.Stderr)
	r = w.md("rename", "renamed", "no good")
	require.Equal(t, "Error: invalid container name (no good), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed\n", r.Stderr)
	require.Equal(t, 1, w.md("rename", "nope", "x1").Code)

	port := testkit.FreePort(t)
	w.ok("run", "-d", "--name", "pub", "-p", fmt.Sprintf("%d:80", port), "-p", "127.0.0.1::53/udp", "busybox", "sleep", "1000")
	lines := strings.Split(strings.TrimSpace(w.ok("port", "pub")), "\n")
	require.Len(t, lines, 2)
	require.Equal(t, fmt.Sprintf("80/tcp -> 0.0.0.0:%d", port), lines[0])
	require.Regexp(t, `^53/udp -> 127\.0\.0\.1:[0-9]+$`, lines[1])
	require.NotEqual(t, "53/udp -> 127.0.0.1:0", lines[1], "the chosen host port")
	require.Equal(t, "", w.ok("port", "renamed"), "no published port")
}

// TestDaemonRenamePortWaitRestart: the same commands of the real docker
// CLI through the daemon.
func TestDaemonRenamePortWaitRestart(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	port := testkit.FreePort(t)
	d.dockerOK("run", "-d", "--name", "aa", "-p", fmt.Sprintf("%d:80", port), "busybox", "sleep", "1000")
	require.Equal(t, fmt.Sprintf("0.0.0.0:%d\n", port), d.dockerOK("port", "aa", "80"))
	d.dockerOK("rename", "aa", "bb")
	require.Equal(t, "/bb\n", d.dockerOK("inspect", "-f", "{{.Name}}", "bb"))
	require.Equal(t, "bb\n", d.dockerOK("restart", "-t", "0", "bb"))
	require.Equal(t, "running\n", d.dockerOK("inspect", "-f", "{{.State.Status}}", "bb"))
	d.dockerOK("run", "-d", "--name", "cc", "busybox", "sh", "-c", "exit 4")
	require.Equal(t, "4\n", d.dockerOK("wait", "cc"))
	require.Equal(t, "bb\n", d.dockerOK("pause", "bb"))
	require.Regexp(t, `Up .* \(Paused\)`, d.dockerOK("ps", "--format", "{{.Status}}", "--filter", "name=bb"))
	require.Equal(t, "paused true\n", d.dockerOK("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "bb"))
	require.Equal(t, "bb\n", d.dockerOK("unpause", "bb"))
	d.dockerOK("rm", "-f", "bb", "cc")
}

// TestPauseUnpause: pause freezes every process of the container (a
// counter stops), ps and inspect say so, exec is refused, unpause lets it
// run again; stop and rm -f of a paused container work (the signal is
// delivered once thawed).
func TestPauseUnpause(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	w.ok("run", "-d", "--name", "tick", "--network", "none", "busybox", "sh", "-c", "while :; do echo tick; sleep 0.05; done")
	lines := func() int { return strings.Count(w.ok("logs", "tick"), "tick\n") }
	eventually(t, "the first ticks", func() bool { return lines() > 2 })
	require.Equal(t, "tick\n", w.ok("pause", "tick"))
	frozen := lines()
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, frozen, lines(), "the counter went on while paused")
	require.Regexp(t, `Up .* \(Paused\)\s+tick\n`, w.ok("ps"))
	st := w.state("tick")
	require.Equal(t, "paused", st["Status"])
	require.Equal(t, true, st["Paused"])
	r := w.md("exec", "tick", "true")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "is paused, unpause the container before exec")
	r = w.md("pause", "tick")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "is already paused")

	require.Equal(t, "tick\n", w.ok("unpause", "tick"))
	eventually(t, "ticks after the unpause", func() bool { return lines() > frozen+2 })
	require.Equal(t, false, w.state("tick")["Paused"])
	r = w.md("unpause", "tick")
	require.Contains(t, r.Stderr, "is not paused")

	// Paused, then stopped: sh as PID 1 ignores SIGTERM, so SIGKILL after
	// the grace period, delivered because the stop thawed it.
	w.ok("pause", "tick")
	w.ok("stop", "-t", "1", "tick")
	st = w.state("tick")
	require.Equal(t, "exited", st["Status"])
	require.Equal(t, 137.0, st["ExitCode"])
	require.Equal(t, false, st["Paused"])
	w.ok("start", "tick")
	w.ok("pause", "tick")
	w.ok("rm", "-f", "tick")
	require.Equal(t, 1, w.md("inspect", "tick").Code)
}

// TestPSFilterFormat: ps --filter (status, exited, name, id, ancestor;
// docker's errors for a bad one) and --format (a table with the docker
// CLI's headers, one line per container, {{json .}}), and images
// REPOSITORY[:TAG].
func TestPSFilterFormat(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	up := strings.TrimSpace(w.ok("run", "-d", "--name", "up1", "--network", "none", "busybox", "sleep", "1000"))
	w.md("run", "--name", "ex3", "--network", "none", "busybox", "sh", "-c", "exit 3")
	w.md("run", "--name", "ex0", "--network", "none", "busybox", "true")

	require.Equal(t, "up1\n", w.ok("ps", "--format", "{{.Names}}"))
	require.Equal(t, "ex0\nex3\n", sortLines(w.ok("ps", "-f", "status=exited", "--format", "{{.Names}}")), "status implies -a")
	require.Equal(t, "ex3\n", w.ok("ps", "-a", "--filter", "exited=3", "--format", "{{.Names}}"))
	require.Equal(t, "ex0\nex3\n", sortLines(w.ok("ps", "-a", "-f", "name=^ex", "--format", "{{.Names}}")))
	require.Equal(t, up[:12]+"\n", w.ok("ps", "-q", "-f", "id="+up[:5]))
	require.Equal(t, "ex0\nex3\nup1\n", sortLines(w.ok("ps", "-a", "-f", "ancestor=busybox", "--format", "{{.Names}}")))
	require.Equal(t, "", w.ok("ps", "-a", "-f", "ancestor=httpd", "-q"))
	require.Equal(t, "up1\n", w.ok("ps", "-a", "-f", "status=running", "-f", "name=1", "--format", "{{.Names}}"), "keys are AND'd")

	table := w.ok("ps", "--format", `table {{.Names}}\t{{.State}}\t{{.Status}}`)
	require.Regexp(t, `^NAMES\s+STATE\s+STATUS\nup1\s+running\s+Up `, table)
	var row map[string]string
	require.NoError(t, json.Unmarshal([]byte(w.ok("ps", "--format", "{{json .}}")), &row))
	require.Equal(t, "up1", row["Names"])
	require.Equal(t, "running", row["State"])
	require.Equal(t, up[:12], row["ID"])

	r := w.md("ps", "-f", "color=blue")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: invalid filter 'color'\n", r.Stderr)
	r = w.md("ps", "-f", "status=sleepy")
	require.Equal(t, "Error: invalid filter 'status=sleepy'\n", r.Stderr)
	r = w.md("ps", "--format", "{{.Nope")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "template parsing error")

	require.Regexp(t, `(?m)^busybox\s+latest\s`, w.ok("images", "busybox"))
	require.Regexp(t, `(?m)^busybox\s+latest\s`, w.ok("images", "bus*:latest"))
	require.NotContains(t, w.ok("images", "httpd"), "busybox")
}

func sortLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// TestTop: docker top lists the processes of the container's cgroups with
// the host's PIDs: its PID 1 (inspect's Pid) and the child it forked, and
// nothing of the host; the docker CLI's top through the daemon shows them
// too.
func TestTop(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	w.ok("pull", "busybox")
	w.ok("run", "-d", "--name", "tp", "--network", "none", "busybox", "sh", "-c", "sleep 1001 & exec sleep 1002")
	pid := fmt.Sprint(int(w.state("tp")["Pid"].(float64)))
	var out string
	eventually(t, "both processes", func() bool {
		out = w.ok("top", "tp")
		return strings.Contains(out, "sleep 1001")
	})
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, "top:\n%s", out)
	require.Regexp(t, `^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$`, lines[0])
	require.Regexp(t, `^root\s+`+pid+`\s+\d+\s+0\s+\S+\s+\?\s+00:00:00\s+sleep 1002$`, lines[1])
	require.Regexp(t, `^root\s+\d+\s+`+pid+`\s+.*sleep 1001$`, lines[2], "the child's parent is PID 1")
	r := w.md("top", "nope")
	require.Equal(t, "Error: No such container: nope\n", r.Stderr)

	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	require.Regexp(t, `(?m)^root\s+`+pid+`\s.*sleep 1002$`, d.dockerOK("top", "tp"))
}

// TestStats: docker stats --no-stream moves under load: a busy loop shows
// tens of CPU %, a container holding 20 MB shows it against its -m limit,
// the process count is the container's; the docker CLI's stats through the
// daemon reads the same counters.
func TestStats(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	w.ok("pull", "busybox")
	w.ok("run", "-d", "--name", "busy", "--network", "none", "busybox", "sh", "-c", "while :; do :; done")
	w.ok("run", "-d", "--name", "idle", "--network", "none", "-m", "64m", "busybox", "sh", "-c",
		"x=$(head -c 20000000 /dev/zero | tr '\\0' a); sleep 1000; echo ${#x}")
	held := regexp.MustCompile(`idle\s+0\.\d\d%\s+(1[89]|2[0-9])\.\d+MiB / 64MiB`)
	var out string
	for range 10 { // until the shell holds its 20 MB, and sleeps
		if out = w.ok("stats", "--no-stream", "busy", "idle"); held.MatchString(out) {
			break
		}
	}
	require.Regexp(t, held, out, "idle: its 20 MB held, no CPU")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3, "stats:\n%s", out)
	require.Regexp(t, `^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE / LIMIT\s+MEM %\s+NET I/O\s+BLOCK I/O\s+PIDS$`, lines[0])
	m := regexp.MustCompile(`busy\s+([0-9.]+)%`).FindStringSubmatch(lines[1])
	require.NotNil(t, m, "busy: %s", lines[1])
	cpu, _ := strconv.ParseFloat(m[1], 64)
	require.Greater(t, cpu, 20.0, "a busy loop at %v%% CPU", cpu)
	require.Regexp(t, `\s1$`, lines[1], "one process in busy")
	require.Regexp(t, `\s2$`, lines[2], "sh and sleep in idle")

	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	got := d.dockerOK("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "idle")
	require.Regexp(t, `^idle (1[89]|2[0-9])\.\d+MiB / 64MiB 2\n$`, got)
	w.ok("rm", "-f", "busy", "idle")
}

// TestAttach: docker attach to a running container: our input reaches a
// -i container, its output ours, its exit code is ours; a stopped one is
// refused as docker refuses it; the docker CLI's attach through the
// daemon too.
func TestAttach(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	w.ok("pull", "busybox")
	script := `while read l; do echo "got $l"; [ "$l" = bye ] && exit 6; done`
	w.ok("run", "-d", "-i", "--name", "echoer", "--network", "none", "busybox", "sh", "-c", script)
	c := exec.Command(w.bin, "attach", "echoer")
	c.Env = append(os.Environ(), w.env...)
	c.Stdin = strings.NewReader("hi\nbye\n")
	out, _ := c.Output()
	require.Equal(t, "got hi\ngot bye\n", string(out))
	require.Equal(t, 6, c.ProcessState.ExitCode())
	r := w.md("attach", "echoer")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: You cannot attach to a stopped container, start it first\n", r.Stderr)

	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	d.dockerOK("run", "-d", "-i", "--name", "echoer2", "busybox", "sh", "-c", script)
	dc := d.dockerCmd("attach", "echoer2")
	dc.Stdin = strings.NewReader("yo\nbye\n")
	out, _ = dc.Output()
	require.Equal(t, "got yo\ngot bye\n", string(out))
	require.Equal(t, 6, dc.ProcessState.ExitCode())
}
