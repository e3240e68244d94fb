package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// daemon is `minidocker daemon -H unix://<tmp>/d.sock` for one test.
type daemon struct {
	t    *testing.T
	w    *world
	sock string
	cmd  *exec.Cmd
	log  *syncBuffer
	cfg  string // DOCKER_CONFIG
	bin  string // the docker CLI: "docker" on PATH unless a test says
}

func startDaemon(t *testing.T, w *world, sock string) *daemon {
	t.Helper()
	d := &daemon{t: t, w: w, sock: sock, log: &syncBuffer{}, cfg: t.TempDir(), bin: "docker"}
	d.start()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.log.String())
		}
	})
	return d
}

func (d *daemon) start() {
	t := d.t
	d.cmd = exec.Command(d.w.bin, "daemon", "-H", "unix://"+d.sock)
	d.cmd.Env = append(os.Environ(), d.w.env...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	require.NoError(t, d.cmd.Start())
	hc := d.http()
	eventually(t, "the daemon's /_ping", func() bool {
		resp, err := hc.Get("http://d/_ping")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// stop stops it with SIGTERM; the socket must be gone after.
func (d *daemon) stop() {
	if d.cmd == nil || d.cmd.ProcessState != nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			d.t.Errorf("daemon exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-done
		d.t.Errorf("the daemon did not stop on SIGTERM")
	}
	if _, err := os.Stat(d.sock); !os.IsNotExist(err) {
		d.t.Errorf("the socket %s is still there after SIGTERM (%v)", d.sock, err)
		os.Remove(d.sock)
	}
}

func (d *daemon) http() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", d.sock)
	}}}
}

func (d *daemon) dockerCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(d.bin, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+d.sock, "DOCKER_CONFIG="+d.cfg)
	return cmd
}

// dockerTimeout bounds one docker command: a hang fails the test with
// both sides' goroutines instead of eating the suite's time.
const dockerTimeout = 2 * time.Minute

// docker runs the docker CLI against the daemon.
func (d *daemon) docker(args ...string) testkit.Result {
	d.t.Helper()
	cmd := d.dockerCmd(args...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(d.t, cmd.Start(), "docker %v", args)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(dockerTimeout):
		// A hang: both Go programs print their goroutines on SIGQUIT, the
		// daemon's into its log (printed at the cleanup).
		d.cmd.Process.Signal(syscall.SIGQUIT)
		cmd.Process.Signal(syscall.SIGQUIT)
		time.Sleep(time.Second)
		cmd.Process.Kill()
		<-done
		d.cmd.Wait()
		d.t.Fatalf("docker %v: no answer in %v\nstdout: %s\nstderr: %s", args, dockerTimeout, stdout.String(), stderr.String())
	}
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(d.t, ok, "docker %v: %v", args, err)
		code = ee.ExitCode()
	}
	return testkit.Result{Stdout: stdout.String(), Stderr: stderr.String(), Code: code}
}

func (d *daemon) dockerOK(args ...string) string {
	d.t.Helper()
	r := d.docker(args...)
	require.Equal(d.t, 0, r.Code, "docker %v: stdout: %s stderr: %s", args, r.Stdout, r.Stderr)
	return r.Stdout
}

func requireDocker(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker CLI on PATH (scripts/setup.sh installs one)")
	}
}

// dockerCLIs are the docker CLIs here: the one on PATH (28.x on the
// course VM) and Debian's 20.10 in /usr/bin when it is another.
func dockerCLIs(t *testing.T) []string {
	requireDocker(t)
	clis := []string{"docker"}
	first, _ := exec.LookPath("docker")
	if _, err := os.Stat("/usr/bin/docker"); err == nil && first != "/usr/bin/docker" {
		clis = append(clis, "/usr/bin/docker")
	}
	return clis
}

func cliName(bin string) string {
	if bin == "docker" {
		return "on-PATH"
	}
	return strings.ReplaceAll(strings.TrimPrefix(bin, "/"), "/", "_")
}

func TestDaemonDockerCLI(t *testing.T) {
	for _, bin := range dockerCLIs(t) {
		t.Run(cliName(bin), func(t *testing.T) { testDockerCLI(t, bin) })
	}
}

func testDockerCLI(t *testing.T, bin string) {
	w := newWorld(t)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	d.bin = bin
	t.Logf("docker CLI %s: %s", bin, strings.TrimSpace(d.dockerOK("version", "--format", "{{.Client.Version}} (API {{.Client.APIVersion}})")))

	// A second daemon on the same socket is refused.
	r := w.md("daemon", "-H", "unix://"+d.sock)
	require.NotEqual(t, 0, r.Code)
	require.Contains(t, r.Stderr, "another daemon is listening there")

	v := d.dockerOK("version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}")
	require.Equal(t, "1.43 linux\n", v)

	out := d.dockerOK("pull", "busybox")
	require.Contains(t, out, "Status: Downloaded newer image for busybox:latest")
	require.Regexp(t, `(?m)^busybox\s+latest\s+[0-9a-f]{12}\s`, d.dockerOK("images"))

	require.Equal(t, "hi\n", d.dockerOK("run", "--rm", "busybox", "echo", "hi"))
	r = d.docker("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
	require.Equal(t, 3, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "out\n", r.Stdout)
	require.Equal(t, "err\n", r.Stderr)
	// A start that fails: docker's exit code from the message, and the
	// wait made before the start gets the code too (no "Error waiting").
	r = d.docker("run", "--rm", "busybox", "nosuchcmd")
	require.Equal(t, 127, r.Code, "stderr: %s", r.Stderr)
	require.Contains(t, r.Stderr, `exec "nosuchcmd": executable file not found in $PATH`)
	require.NotContains(t, r.Stderr, "Error waiting")
	// --rm removed them.
	require.Equal(t, "", d.dockerOK("ps", "-aq"))
	// docker start -a: the attach before the start again, on an exited
	// container.
	r = d.docker("run", "--name", "again", "busybox", "sh", "-c", "echo once; exit 2")
	require.Equal(t, 2, r.Code, "stderr: %s", r.Stderr)
	r = d.docker("start", "-a", "again")
	require.Equal(t, 2, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "once\n", r.Stdout)
	require.Equal(t, "once\nonce\n", d.dockerOK("logs", "again"))
	d.dockerOK("rm", "again")

	// The course notes' session: httpd published on a port, pulled by run.
	site := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(site, "index.html"), []byte("hello through the daemon\n"), 0o644))
	port := testkit.FreePort(t)
	r = d.docker("run", "-d", "--name", "web", "-p", fmt.Sprintf("%d:80", port), "-v", site+":/usr/local/apache2/htdocs", "httpd")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Contains(t, r.Stderr, "Unable to find image 'httpd:latest' locally")
	id := strings.TrimSpace(r.Stdout)
	require.Regexp(t, `^[0-9a-f]{64}$`, id)
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
	require.Equal(t, "hello through the daemon\n", body)
	require.Regexp(t, id[:12]+`\s+httpd\s+"httpd-foreground"\s+.+\s+Up .+0\.0\.0\.0:`+fmt.Sprint(port)+`->80/tcp\s+web\n`, d.dockerOK("ps"))
	require.Equal(t, "running "+id+" /web\n", d.dockerOK("inspect", "-f", "{{.State.Status}} {{.Id}} {{.Name}}", "web"))
	// Both front ends see one engine.
	require.Contains(t, w.ok("ps"), "web")
	// busybox httpd -v logs each response on its stderr: the frames keep
	// the stream apart, and docker logs prints it on stderr again.
	eventually(t, "httpd's request log", func() bool {
		r := d.docker("logs", "web")
		return strings.Contains(r.Stderr, "response:200") && r.Stdout == ""
	})
	require.Equal(t, "web\n", d.dockerOK("stop", "web"))
	require.Equal(t, "exited 0\n", d.dockerOK("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web"))
	r = d.docker("rmi", "httpd")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "conflict")
	require.Equal(t, "web\n", d.dockerOK("rm", "web"))
	require.Contains(t, d.dockerOK("rmi", "httpd"), "Untagged: httpd:latest")
	r = d.docker("inspect", "web")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "No such object: web")

	// Mixed: minidocker run -d, docker stop; docker run -d, minidocker stop.
	w.ok("run", "-d", "--name", "from-cli", "busybox", "sleep", "60")
	require.Equal(t, "from-cli\n", d.dockerOK("stop", "-t", "1", "from-cli"))
	require.Equal(t, "exited", w.state("from-cli")["Status"])
	d.dockerOK("run", "-d", "--name", "from-docker", "busybox", "sleep", "60")
	w.ok("stop", "-t", "1", "from-docker")
	require.Equal(t, "exited\n", d.dockerOK("inspect", "-f", "{{.State.Status}}", "from-docker"))
	d.dockerOK("rm", "from-cli", "from-docker")
}

func TestDaemonDockerRunTTY(t *testing.T) {
	for _, bin := range dockerCLIs(t) {
		t.Run(cliName(bin), func(t *testing.T) { testDockerRunTTY(t, bin) })
	}
}

func testDockerRunTTY(t *testing.T, bin string) {
	w := newWorld(t)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	d.bin = bin
	d.dockerOK("pull", "busybox")
	// The pty has the terminal's size before the command starts: the
	// create's HostConfig.ConsoleSize goes with the start (docker run's
	// resize comes only after it). Clients older than API 1.42 (docker
	// 20.10) do not send it: for them, as with dockerd, only the resize
	// after the start sets it.
	api := strings.TrimSpace(d.dockerOK("version", "--format", "{{.Client.APIVersion}}"))
	rounds := 3
	if minor, _ := strconv.Atoi(strings.TrimPrefix(api, "1.")); minor < 42 {
		t.Logf("docker CLI API %s sends no ConsoleSize: the size before the start is not checked", api)
		rounds = 0
	}
	for range rounds {
		cmd := d.dockerCmd("run", "-it", "--rm", "busybox", "stty", "size")
		ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
		require.NoError(t, err)
		out, _ := io.ReadAll(ptmx) // EIO once the CLI exits
		require.NoError(t, cmd.Wait())
		ptmx.Close()
		require.Equal(t, "30 100\r\n", string(out))
	}
	cmd := d.dockerCmd("run", "-it", "--rm", "busybox", "sh")
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	require.NoError(t, err)
	t.Cleanup(func() { ptmx.Close(); cmd.Process.Kill(); cmd.Wait() })
	// The shell's prompt first: busybox sh flushes the terminal's input
	// when it starts its line editor, so a line typed earlier may be lost.
	var mu sync.Mutex
	var seen strings.Builder
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			mu.Lock()
			seen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	screen := func() string { mu.Lock(); defer mu.Unlock(); return seen.String() }
	waitFor := func(what string, re *regexp.Regexp) {
		deadline := time.Now().Add(15 * time.Second)
		for !re.MatchString(screen()) {
			require.True(t, time.Now().Before(deadline), "no %s through the pty; the screen:\n%q", what, screen())
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("prompt", regexp.MustCompile(`/ # `))
	fmt.Fprint(ptmx, "echo size $(stty size) $(tty) $((6*7))\r")
	waitFor("answer", regexp.MustCompile(`(?m)^size 30 100 /dev/pts/\d+ 42`))
	fmt.Fprint(ptmx, "exit 5\r")
	err = cmd.Wait()
	require.Equal(t, 5, cmd.ProcessState.ExitCode(), "wait: %v", err)
}

func TestDaemonRestartAndConcurrency(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	sock := filepath.Join(t.TempDir(), "d.sock")
	d := startDaemon(t, w, sock)
	d.dockerOK("pull", "busybox")
	d.dockerOK("run", "-d", "--name", "long", "busybox", "sleep", "300")
	d.dockerOK("run", "--name", "done", "busybox", "true")

	// SIGKILL: the socket file stays behind; a new daemon replaces it.
	d.cmd.Process.Kill()
	d.cmd.Wait()
	_, err := os.Stat(sock)
	require.NoError(t, err, "a killed daemon leaves its socket file")
	d.start()
	ps := d.dockerOK("ps", "-a", "--format", "{{.Names}} {{.State}}")
	require.Contains(t, ps, "long running\n")
	require.Contains(t, ps, "done exited\n")
	require.Equal(t, "long\n", d.dockerOK("rm", "-f", "long"))
	d.dockerOK("rm", "done")
	require.Equal(t, "", d.dockerOK("ps", "-aq"))

	const n = 20 // the number
	var wg sync.WaitGroup
	results := make([]testkit.Result, n)
	for i := range n {
		wg.Go(func() {
			cmd := d.dockerCmd("run", "--rm", "busybox", "echo", fmt.Sprint("run ", i))
			b, err := cmd.Output()
			code := 0
			if err != nil {
				code = -1
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				}
			}
			results[i] = testkit.Result{Stdout: string(b), Code: code}
		})
	}
	wg.Wait()
	for i, r := range results {
		require.Equal(t, 0, r.Code, "run %d", i)
		require.Equal(t, fmt.Sprintf("run %d\n", i), r.Stdout)
	}
	require.Equal(t, "", d.dockerOK("ps", "-aq"))

	// Detached ones at once: each its own address; their monitors, the
	// daemon's children, are reaped when they exit (no zombie piles up).
	ids := make([]string, n)
	for i := range n {
		wg.Go(func() {
			b, _ := d.dockerCmd("run", "-d", "busybox", "sleep", "30").Output()
			ids[i] = strings.TrimSpace(string(b))
		})
	}
	wg.Wait()
	ips := map[string]bool{}
	for i, id := range ids {
		require.Regexp(t, `^[0-9a-f]{64}$`, id, "run -d %d", i)
		ip := strings.TrimSpace(d.dockerOK("inspect", "-f", "{{.NetworkSettings.IPAddress}}", id))
		require.NotEmpty(t, ip)
		require.False(t, ips[ip], "%s given twice", ip)
		ips[ip] = true
	}
	d.dockerOK(append([]string{"rm", "-f"}, ids...)...)
	eventually(t, "no zombie child of the daemon", func() bool { return zombies(d.cmd.Process.Pid) == 0 })
}

// zombies counts the exited, unreaped children of pid.
func zombies(pid int) int {
	n := 0
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		var state string
		var ppid int
		if _, err := fmt.Sscanf(rest, "%s %d", &state, &ppid); err == nil && ppid == pid && state == "Z" {
			n++
		}
	}
	return n
}
