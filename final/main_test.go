package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step01-process/process"
	"minidocker/step06-networking/network"
)

// world is one test's minidocker: the built binary, a data root, and a
// registry on 127.0.0.1 with busybox and httpd, set as the docker.io
// mirror, as make demo does.
type world struct {
	t        testing.TB
	bin      string
	root     string
	env      []string
	registry *testkit.Registry
	bridge   string       // the test's own bridge ($MINIDOCKER_BRIDGE)
	subnet   netip.Prefix // and its subnet
	execRoot string       // where its network book is ($MINIDOCKER_EXEC_ROOT)
}

var (
	buildOnce sync.Once
	built     string
)

// minidockerBinary is the minidocker binary, built once per test binary
// (again if the test that built it took its TempDir along).
func minidockerBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() { built = testkit.Build(t, "minidocker/final") })
	if _, err := os.Stat(built); err != nil {
		built = testkit.Build(t, "minidocker/final")
	}
	return built
}

func newWorld(t testing.TB) *world {
	t.Helper()
	testkit.RequireRoot(t)
	bin := minidockerBinary(t)
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	reg.Push(t, "library/busybox:latest", testkit.BusyboxImage(t))
	reg.Push(t, "library/httpd:latest", testkit.HTTPDImage(t))
	w := &world{t: t, bin: bin, root: testkit.DataRoot(t, "final"), registry: reg}
	// A bridge, subnet, nft table and network book (exec root) of the
	// test's own: never the user's minidocker0. DOCKER_HOST="": the engine
	// in-process, whatever our environment says.
	w.bridge, w.subnet, w.execRoot = "mdkf"+randomHex(t, 4), testkit.FreeSubnet(t, 29), t.TempDir()
	w.env = []string{"MINIDOCKER_ROOT=" + w.root, "MINIDOCKER_REGISTRY_MIRROR=" + reg.URL(), "DOCKER_HOST=",
		"MINIDOCKER_BRIDGE=" + w.bridge, "MINIDOCKER_BRIDGE_SUBNET=" + w.subnet.String(), "MINIDOCKER_EXEC_ROOT=" + w.execRoot}
	t.Cleanup(func() {
		for _, id := range strings.Fields(w.md("ps", "-aq", "--no-trunc").Stdout) {
			if r := w.md("rm", "-f", id); r.Code != 0 {
				t.Errorf("rm -f %s: %s", id, r.Stderr)
			}
		}
		// The test's bridge, its table and rules.
		if err := w.network().Teardown(); err != nil {
			t.Errorf("network teardown: %v", err)
		}
	})
	return w
}

// otherRoot is the same world with a data root of its own (the same
// registry, bridge and network book); its containers are removed at the end.
func (w *world) otherRoot(t testing.TB) *world {
	other := *w
	other.root = testkit.DataRoot(t, "final-b")
	other.env = append([]string{}, w.env...)
	for i, kv := range other.env {
		if strings.HasPrefix(kv, "MINIDOCKER_ROOT=") {
			other.env[i] = "MINIDOCKER_ROOT=" + other.root
		}
	}
	t.Cleanup(func() {
		for _, id := range strings.Fields(other.md("ps", "-aq", "--no-trunc").Stdout) {
			other.md("rm", "-f", id)
		}
	})
	return &other
}

// network is the world's bridge network, as its containers' engine sees it.
func (w *world) network() *network.Network {
	n, err := network.New(network.Config{Bridge: w.bridge, Subnet: w.subnet, Table: w.bridge,
		Root: filepath.Join(w.execRoot, "network", w.bridge)})
	require.NoError(w.t, err)
	return n
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

func (w *world) md(args ...string) testkit.Result {
	w.t.Helper()
	return testkit.Run(w.t, w.bin, w.env, args...)
}

// ok runs a command that must succeed and returns its stdout.
func (w *world) ok(args ...string) string {
	w.t.Helper()
	r := w.md(args...)
	require.Equal(w.t, 0, r.Code, "minidocker %v: stderr: %s", args, r.Stderr)
	return r.Stdout
}

func (w *world) inspect(ref string) map[string]any {
	w.t.Helper()
	var out []map[string]any
	require.NoError(w.t, json.Unmarshal([]byte(w.ok("inspect", ref)), &out))
	require.Len(w.t, out, 1)
	return out[0]
}

func (w *world) state(ref string) map[string]any {
	return w.inspect(ref)["State"].(map[string]any)
}

// eventually retries cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 100 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestPullImagesRmi(t *testing.T) {
	w := newWorld(t)
	out := w.ok("pull", "busybox")
	require.Regexp(t, `(?s)^latest: Pulling from library/busybox\n.*[0-9a-f]{12}: Pull complete\n.*Digest: sha256:[0-9a-f]{64}\nStatus: Downloaded newer image for busybox:latest\n$`, out)
	require.Contains(t, w.ok("pull", "busybox"), "Status: Image is up to date for busybox:latest\n")

	out = w.ok("images")
	require.Regexp(t, `^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\nbusybox\s+latest\s+[0-9a-f]{12}\s+.+ ago\s+[0-9.]+[kM]B\n$`, out)
	id := strings.TrimSpace(w.ok("images", "-q"))
	require.Regexp(t, `^[0-9a-f]{12}$`, id)
	require.Equal(t, "sha256:", w.inspect(id)["Id"].(string)[:7], "inspect by image ID prefix")

	out = w.ok("rmi", "busybox")
	require.Regexp(t, `(?s)^Untagged: busybox:latest\n.*Deleted: sha256:`+id, out)
	require.Empty(t, w.ok("images", "-q"))
	r := w.md("rmi", "busybox")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: No such image: busybox\n", r.Stderr)
}

func TestRunForeground(t *testing.T) {
	w := newWorld(t)
	r := w.md("run", "--rm", "busybox", "echo", "hello")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "hello\n", r.Stdout)
	require.Contains(t, r.Stderr, "Unable to find image 'busybox' locally\n")
	require.Empty(t, w.ok("ps", "-aq"), "--rm removed it")

	r = w.md("run", "--rm", "-e", "A=1", "-w", "/tmp", "--hostname", "box", "busybox", "sh", "-c", "echo $A $(pwd) $(hostname); echo err >&2; exit 3")
	require.Equal(t, 3, r.Code)
	require.Equal(t, "1 /tmp box\n", r.Stdout)
	require.Equal(t, "err\n", r.Stderr, "stdout and stderr kept apart")

	r = w.md("run", "--rm", "busybox", "no-such-command")
	require.Equal(t, 127, r.Code)
	require.Contains(t, r.Stderr, `"no-such-command": executable file not found`)
	r = w.md("run", "--rm", "--entrypoint", "/etc/passwd", "busybox")
	require.Equal(t, 126, r.Code, "stderr: %s", r.Stderr)

	r = w.md("run", "-m", "12x", "busybox", "true")
	require.Equal(t, 125, r.Code)
	require.Equal(t, "Error: invalid argument \"12x\" for \"-m, --memory\" flag: invalid size: '12x'\n", r.Stderr)
	r = w.md("run", "--bogus", "busybox")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, "unknown flag: --bogus")

	// stdin with -i
	cmd := exec.Command(w.bin, "run", "--rm", "-i", "busybox", "sh", "-c", "read x; echo got $x")
	cmd.Env = append(os.Environ(), w.env...)
	cmd.Stdin = strings.NewReader("hi\n")
	outb, err := cmd.Output()
	require.NoError(t, err)
	require.Equal(t, "got hi\n", string(outb))

	// OOM, kept for inspect
	r = w.md("run", "--name", "oom", "-m", "32m", "busybox", "tail", "/dev/zero")
	require.Equal(t, 137, r.Code)
	require.Equal(t, true, w.state("oom")["OOMKilled"])
}

func TestDetachedLifecycle(t *testing.T) {
	w := newWorld(t)
	site := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(site, "index.html"), []byte("hello from the volume\n"), 0o644))
	port := testkit.FreePort(t)
	id := strings.TrimSpace(w.ok("run", "-d", "--name", "web", "-p", fmt.Sprintf("%d:80", port), "-v", site+":/usr/local/apache2/htdocs", "httpd"))
	require.Regexp(t, `^[0-9a-f]{64}$`, id)

	ps := w.ok("ps")
	require.Regexp(t, `^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n`+id[:12]+`\s+httpd\s+"httpd-foreground"\s+.+ ago\s+Up .+\s+0\.0\.0\.0:`+fmt.Sprint(port)+`->80/tcp\s+web\n$`, ps)

	var body string
	eventually(t, "the page on 127.0.0.1", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == 200
	})
	require.Equal(t, "hello from the volume\n", body)

	in := w.inspect("web")
	require.Equal(t, id, in["Id"])
	require.Equal(t, "/web", in["Name"])
	st := in["State"].(map[string]any)
	require.Equal(t, "running", st["Status"])
	require.Greater(t, st["Pid"].(float64), 1.0)
	ip := in["NetworkSettings"].(map[string]any)["IPAddress"].(string)
	require.NotEmpty(t, ip)

	// busybox httpd -v logs each response on its stderr: the log keeps
	// the stream, and logs prints it on stderr again.
	eventually(t, "httpd's request log", func() bool {
		return strings.Contains(w.md("logs", "web").Stderr, "response:200")
	})

	r := w.md("rm", "web")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: You cannot remove a running container "+id+". Stop the container before attempting removal or force remove\n", r.Stderr)

	start := time.Now()
	require.Equal(t, "web\n", w.ok("stop", "web"))
	require.Less(t, time.Since(start), 5*time.Second, "httpd-foreground exits on SIGTERM, no SIGKILL after 10 s")
	require.Regexp(t, `Exited \(0\) .* ago`, w.ok("ps", "-a"))
	require.Empty(t, w.ok("ps", "-q"))
	st = w.state("web")
	require.Equal(t, "exited", st["Status"])
	require.Equal(t, 0.0, st["ExitCode"])
	_, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	require.Error(t, err, "the port is no longer published")

	require.Equal(t, "web\n", w.ok("rm", "web"))
	r = w.md("logs", "web")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: No such container: web\n", r.Stderr)
}

func TestRestartKeepsWrites(t *testing.T) {
	w := newWorld(t)
	w.ok("run", "-d", "--name", "keeper", "busybox", "sh", "-c", "echo run >> /runs; wc -l < /runs; exec sleep 1000")
	eventually(t, "the first run's output", func() bool { return w.ok("logs", "keeper") == "1\n" })
	w.ok("stop", "-t", "1", "keeper") // sleep as PID 1 ignores SIGTERM: SIGKILL after 1 s
	require.Equal(t, 137.0, w.state("keeper")["ExitCode"])
	require.Equal(t, "keeper\n", w.ok("start", "keeper"))
	eventually(t, "the second run's output", func() bool { return w.ok("logs", "keeper") == "1\n2\n" })
	require.Equal(t, "2\n", w.ok("logs", "--tail", "1", "keeper"))
	require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z 2\n$`, w.ok("logs", "-t", "-n", "1", "keeper"))
}

func TestLogsFollow(t *testing.T) {
	w := newWorld(t)
	id := strings.TrimSpace(w.ok("run", "-d", "busybox", "sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.3; done; echo bye >&2"))
	done := make(chan testkit.Result, 1)
	go func() { done <- testkit.Run(t, w.bin, w.env, "logs", id[:8], "-f") }() // a flag after the argument
	select {
	case r := <-done:
		require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
		require.Equal(t, "1\n2\n3\n", r.Stdout)
		require.Equal(t, "bye\n", r.Stderr)
	case <-time.After(10 * time.Second):
		t.Fatal("logs -f did not end when the container exited")
	}
}

func TestTTY(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	cmd := exec.Command(w.bin, "run", "-it", "--rm", "busybox", "sh")
	cmd.Env = append(os.Environ(), w.env...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	require.NoError(t, err)
	t.Cleanup(func() { ptmx.Close(); cmd.Process.Kill(); cmd.Wait() })
	out := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(ptmx)
		for sc.Scan() {
			out <- sc.Text()
		}
		close(out)
	}()
	fmt.Fprint(ptmx, "echo size $(stty size) $(tty) $((6*7))\r")
	want := regexp.MustCompile(`^size 30 100 /dev/pts/\d+ 42`)
	deadline := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case line, ok := <-out:
			require.True(t, ok, "the terminal closed first")
			found = want.MatchString(strings.TrimSpace(line))
		case <-deadline:
			t.Fatal("no answer through the pty")
		}
	}
	fmt.Fprint(ptmx, "exit 5\r")
	err = cmd.Wait()
	require.Equal(t, 5, cmd.ProcessState.ExitCode(), "wait: %v", err)
}

func TestSurvivesCLIAndMonitorDeath(t *testing.T) {
	w := newWorld(t)
	// A foreground run whose CLI is SIGKILLed: the container goes on.
	cmd := exec.Command(w.bin, "run", "--name", "fg", "busybox", "sh", "-c", "echo up; exec sleep 1000")
	cmd.Env = append(os.Environ(), w.env...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "up\n", line)
	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()
	require.Regexp(t, `Up .*\s+fg\n`, w.ok("ps"))

	// Its monitor SIGKILLed too: still running, and rm -f cleans up.
	id := w.inspect("fg")["Id"].(string)
	var st struct {
		MonitorPid, Pid int
		PidStart        uint64
	}
	data, err := os.ReadFile(filepath.Join(w.root, "containers", id, "state.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &st))
	require.NoError(t, syscall.Kill(st.MonitorPid, syscall.SIGKILL))
	eventually(t, "the monitor to die", func() bool { return syscall.Kill(st.MonitorPid, 0) != nil })
	require.Regexp(t, `Up .*\s+fg\n`, w.ok("ps"), "the container itself still runs")
	require.Equal(t, "fg\n", w.ok("rm", "-f", "fg"))
	// Dead: its parent (the monitor) is gone, so it stays a zombie until
	// PID 1 reaps it, which takes seconds on some machines.
	require.False(t, process.Identity{Pid: st.Pid, StartTime: st.PidStart}.Alive(), "the container's init is gone")
	require.Empty(t, w.ok("ps", "-aq"))
	leftCgroups, _ := filepath.Glob("/sys/fs/cgroup/*/minidocker/" + id)
	leftV2, _ := filepath.Glob("/sys/fs/cgroup/minidocker/" + id)
	require.Empty(t, append(leftCgroups, leftV2...), "cgroups left")

	// Monitor and container both SIGKILLed: ps -a tells the truth.
	id = strings.TrimSpace(w.ok("run", "-d", "--name", "both", "busybox", "sleep", "1000"))
	data, err = os.ReadFile(filepath.Join(w.root, "containers", id, "state.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &st))
	syscall.Kill(st.MonitorPid, syscall.SIGKILL)
	syscall.Kill(st.Pid, syscall.SIGKILL)
	eventually(t, "both to die", func() bool {
		return syscall.Kill(st.MonitorPid, 0) != nil && syscall.Kill(st.Pid, 0) != nil
	})
	require.Regexp(t, `Exited \(255\) .*\s+both\n`, w.ok("ps", "-a"))
}

func TestNames(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	// Two runs with one name at once: one container, one Docker conflict.
	results := make(chan testkit.Result, 2)
	for range 2 {
		go func() {
			results <- testkit.Run(t, w.bin, w.env, "run", "-d", "--name", "same", "busybox", "sleep", "100")
		}()
	}
	r1, r2 := <-results, <-results
	codes := []int{r1.Code, r2.Code}
	require.ElementsMatch(t, []int{0, 125}, codes, "stderr: %s | %s", r1.Stderr, r2.Stderr)
	require.Contains(t, r1.Stderr+r2.Stderr, `Error: Conflict. The container name "/same" is already in use by container "`)
	require.Len(t, strings.Fields(w.ok("ps", "-q")), 1)

	// Generated names, IDs and prefixes.
	id := strings.TrimSpace(w.ok("run", "-d", "busybox", "sleep", "100"))
	name := w.inspect(id)["Name"].(string)
	require.Regexp(t, `^/[a-z]+_[a-z]+$`, name)
	require.Equal(t, id, w.inspect(name[1:])["Id"])
	require.Equal(t, id, w.inspect(id[:6])["Id"])

	for _, args := range [][]string{{"stop", "nope"}, {"logs", "nope"}, {"rm", "nope"}, {"start", "nope"}} {
		r := w.md(args...)
		require.Equal(t, 1, r.Code, "%v", args)
		require.Equal(t, "Error: No such container: nope\n", r.Stderr, "%v", args)
	}
	r := w.md("inspect", "nope")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "[]\n", r.Stdout)
	require.Equal(t, "Error: No such object: nope\n", r.Stderr)

	// An image in use is kept.
	r = w.md("rmi", "busybox")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, `Error: conflict: unable to remove repository reference "busybox" (must force) - container `)
}

func TestSearchRegistry(t *testing.T) {
	w := newWorld(t)
	host := strings.TrimPrefix(w.registry.URL(), "http://")
	out := w.ok("search", host+"/busy")
	require.Equal(t, "NAME", strings.Fields(out)[0])
	require.Contains(t, out, host+"/library/busybox")
	require.NotContains(t, out, "httpd")
	require.Contains(t, w.ok("search", "--limit", "5", host+"/library"), host+"/library/httpd")
}

func TestRunOptions(t *testing.T) {
	w := newWorld(t)
	out := w.ok("run", "--rm", "--network", "none", "--init", "--pids-limit", "20", "--cpus", "0.5", "-m", "64m",
		"-u", "nobody", "--hostname", "box", "busybox", "sh", "-c", "ip -o link | wc -l; hostname; id -un; cat /proc/1/cmdline | tr '\\0' ' '")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4, out)
	require.Equal(t, "1", strings.TrimSpace(lines[0]), "--network none: only lo")
	require.Equal(t, "box", lines[1])
	require.Equal(t, "nobody", lines[2])
	require.NotContains(t, lines[3], "sh -c", "--init: PID 1 is the init, not the command")

	id := strings.TrimSpace(w.ok("run", "-d", "--pids-limit", "20", "--cpus", "0.5", "-m", "64m", "busybox", "sleep", "100"))
	hc := w.inspect(id)["HostConfig"].(map[string]any)
	require.Equal(t, float64(64<<20), hc["Memory"])
	require.Equal(t, float64(5e8), hc["NanoCpus"])
	require.Equal(t, 20.0, hc["PidsLimit"])
	var st struct{ CgroupPaths map[string]string }
	data, err := os.ReadFile(filepath.Join(w.root, "containers", id, "state.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &st))
	dir, ok := st.CgroupPaths["pids"]
	require.True(t, ok, "cgroup paths kept in the state: %v", st.CgroupPaths)
	max, err := os.ReadFile(filepath.Join(dir, "pids.max"))
	require.NoError(t, err)
	require.Equal(t, "20\n", string(max))
}
