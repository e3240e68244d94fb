//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"minidocker/internal/testkit"
)

// dockerd is a real Docker daemon (Debian's docker.io) for one test: its
// own data root, exec root and socket, no bridge and no iptables rules, the
// test's registry as the docker.io mirror. The docker CLI drives it.
type dockerd struct {
	t   testing.TB
	dir string
	env []string
}

// dockerdOptions are what a test may add to startDockerd's daemon.
type dockerdOptions struct {
	// runtimes are OCI runtimes registered beside runc, name → binary
	// (daemon.json's "runtimes", what dockerd --add-runtime sets).
	runtimes map[string]string
}

func startDockerd(t *testing.T, mirror string) *dockerd {
	t.Helper()
	return startDockerdWith(t, mirror, dockerdOptions{})
}

func startDockerdWith(t testing.TB, mirror string, opts dockerdOptions) *dockerd {
	t.Helper()
	_, err := exec.LookPath("dockerd")
	testkit.RequireFeature(t, err == nil, "dockerd (Debian's docker.io; run scripts/setup.sh)")
	_, err = exec.LookPath("docker")
	testkit.RequireFeature(t, err == nil, "the docker CLI")
	dir, err := os.MkdirTemp("", "mdk-dockerd-")
	require.NoError(t, err)
	_, runDockerExisted := os.Stat("/run/docker")
	removeNewEmptyDirs(t) // /run/containerd/s, /opt/containerd: its containerd's
	// Docker's containers go beneath our own cgroup, as ours do: a parent
	// under our memory cgroup (on this VM the only one that is not "/").
	parent := filepath.Join(ownCgroup(t), filepath.Base(dir))
	removeCgroupsAtEnd(t, "dockerd", parent)
	host := strings.TrimPrefix(mirror, "http://")
	cfg := map[string]any{
		"data-root": filepath.Join(dir, "data"), "exec-root": filepath.Join(dir, "exec"),
		"pidfile": filepath.Join(dir, "pid"), "hosts": []string{"unix://" + filepath.Join(dir, "docker.sock")},
		"cgroup-parent": parent,
		"bridge":        "none", "iptables": false, "ip6tables": false, "ip-masq": false,
		"registry-mirrors": []string{mirror}, "insecure-registries": []string{host},
		// This VM's root may not raise RLIMIT_NOFILE past 20000 (MACHINE.md).
		"default-ulimits": map[string]any{"nofile": map[string]any{"Name": "nofile", "Hard": 20000, "Soft": 20000}},
	}
	if len(opts.runtimes) > 0 {
		runtimes := map[string]any{}
		for name, path := range opts.runtimes {
			runtimes[name] = map[string]string{"path": path}
		}
		cfg["runtimes"] = runtimes
	}
	data, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "daemon.json"), data, 0o600))
	logf, err := os.Create(filepath.Join(dir, "log"))
	require.NoError(t, err)
	cmd := exec.Command("dockerd", "--config-file", filepath.Join(dir, "daemon.json"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	require.NoError(t, cmd.Start())
	d := &dockerd{t: t, dir: dir, env: []string{"DOCKER_HOST=unix://" + filepath.Join(dir, "docker.sock"), "DOCKER_CONFIG=" + filepath.Join(dir, "cli")}}
	t.Cleanup(func() {
		if out, err := d.docker("ps", "-aq"); err == nil && strings.TrimSpace(out) != "" {
			d.docker(append([]string{"rm", "-f"}, strings.Fields(out)...)...)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
		// What dockerd may leave: shims (a runtime that hung), mounts under
		// its roots, /run/docker; and the cgroup directories it made for its
		// parent (removeCgroupsAtEnd).
		killLeftovers(t, "dockerd", dir)
		unmountUnder(t, dir)
		if os.IsNotExist(runDockerExisted) {
			os.RemoveAll("/run/docker")
		}
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "log")); err == nil {
				t.Logf("dockerd's log (tail):\n%s", tail(string(log), 30))
			}
		}
		os.RemoveAll(dir)
	})
	client := &http.Client{Transport: &http.Transport{Dial: func(_, _ string) (c net.Conn, err error) {
		return net.Dial("unix", filepath.Join(dir, "docker.sock"))
	}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get("http://d/_ping")
		if err == nil {
			resp.Body.Close()
			break
		}
		require.True(t, time.Now().Before(deadline), "dockerd did not answer /_ping in 30 s")
		time.Sleep(100 * time.Millisecond)
	}
	return d
}

// docker runs the docker CLI on this daemon, bounded by commandTimeout.
func (d *dockerd) docker(args ...string) (string, error) {
	return runCLI(d.env, 0, "docker", args...)
}

func (d *dockerd) ok(args ...string) string {
	d.t.Helper()
	out, err := d.docker(args...)
	require.NoError(d.t, err)
	return out
}

// ownCgroup is our memory cgroup's path (v1), or our cgroup's (v2).
func ownCgroup(t testing.TB) string {
	data, err := os.ReadFile("/proc/self/cgroup")
	require.NoError(t, err)
	own := "/"
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[1] == "" && own == "/" {
			own = f[2] // v2
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == "memory" {
				return f[2]
			}
		}
	}
	return own
}

// cgroupDirsToMake lists, in each cgroup hierarchy, the directories from
// the first missing one down to parent: what dockerd will create and the
// test must remove (in reverse).
func cgroupDirsToMake(parent string) []string {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	var made []string
	for _, root := range roots {
		if _, err := os.Stat(filepath.Join(root, "cgroup.procs")); err != nil {
			continue // not a hierarchy (a tmpfs, a symlink's name)
		}
		var chain []string
		for p := filepath.Join(root, parent); p != root; p = filepath.Dir(p) {
			if _, err := os.Stat(p); err == nil {
				break
			}
			chain = append([]string{p}, chain...)
		}
		made = append(made, chain...)
	}
	return made
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(t testing.TB, dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir) {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		if err := unix.Unmount(points[i], unix.MNT_DETACH); err != nil {
			t.Logf("umount %s: %v", points[i], err)
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestSameConfinementAsDocker runs the escape probes and the credential
// read-out in a container of the real Docker and in one of minidocker, with
// the default options, and wants the same answers: "Docker's defaults" is
// checked against Docker, not against our reading of its code.
func TestSameConfinementAsDocker(t *testing.T) {
	w := newWorld(t)
	w.registry.Push(t, "library/probe:latest", testkit.ProbeImage(t))
	d := startDockerd(t, w.registry.URL())
	d.ok("pull", "-q", "probe")

	// Docker's containers sit beneath our own cgroup, as the machine's rules
	// want of every process we start.
	id := strings.TrimSpace(d.ok("run", "-d", "--network", "none", "probe", "sleep", "60"))
	pid := strings.TrimSpace(d.ok("inspect", "-f", "{{.State.Pid}}", id))
	cg, err := os.ReadFile("/proc/" + pid + "/cgroup")
	require.NoError(t, err)
	require.Contains(t, string(cg), ":memory:"+filepath.Join(ownCgroup(t), "mdk-dockerd-"), "Docker's container is not beneath our memory cgroup")
	d.ok("rm", "-f", id)

	var script []string
	for _, p := range probes {
		if p.args[0] == "handle" {
			continue // needs a handle taken on the host: TestEscapes
		}
		script = append(script, "/probe "+strings.Join(p.args, " "))
	}
	script = append(script, "/probe status", "ls /sys/fs/cgroup | head -3", "cat /proc/self/uid_map | tr -s ' '")
	for _, p := range probes {
		if p.args[0] == "disk" {
			var st unix.Stat_t
			testkit.RequireFeature(t, unix.Stat("/dev/loop0", &st) == nil, "/dev/loop0")
			for i := range script {
				script[i] = strings.NewReplacer("%major", fmt.Sprint(unix.Major(st.Rdev)), "%minor", fmt.Sprint(unix.Minor(st.Rdev))).Replace(script[i])
			}
		}
	}
	sh := strings.Join(script, "; ")
	fromDocker := d.ok("run", "--rm", "--network", "none", "probe", "sh", "-c", sh)
	ours := w.ok("run", "--rm", "--network", "none", "probe", "sh", "-c", sh)
	require.Equal(t, fromDocker, ours, "the same probes in Docker's container (expected) and in ours (actual)")
	require.Contains(t, ours, "CapEff: 00000000a80425fb", "the read-out ran")
	t.Logf("both answered:\n%s", ours)
}
