//go:build linux

package main

// The OCI runtime under the real engines: dockerd, containerd and podman
// each get ociRuntimeBinary(t) as a runc-compatible runtime and run busybox
// with it, so that "minidocker speaks runc's command line" is checked by the
// programs that call runc, not by our reading of runc's code.
//
// Each test starts an engine of its own (its own roots, socket, and cgroup
// parent beneath our own cgroup), and stops it and removes what it left at
// the end, whatever happened: the runtime under test may be broken.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// runtimeState is what `runtime state ID` prints (the OCI state, runc's
// state.go), the fields the tests look at.
type runtimeState struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	PID    int    `json:"pid"`
}

// askRuntime runs the runtime's own `state` on the root an engine gave it
// ("": none, the runtime's default). The runtime that created a container
// is the one that knows it: had the engine run runc instead of the runtime
// it was given, this runtime (with its own state format) would know
// nothing.
func askRuntime(t *testing.T, runtime, root, id string) (runtimeState, error) {
	t.Helper()
	var st runtimeState
	args := []string{"state", id}
	if root != "" {
		args = append([]string{"--root", root}, args...)
	}
	out, err := runCLI(nil, 0, runtime, args...)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		return st, fmt.Errorf("%s %v: %w: %q", runtime, args, err, out)
	}
	return st, nil
}

// shimOptions reads the options containerd gave the container's shim
// (io.containerd.runc.v2's Options, kept in the bundle as options.json):
// binary_name is the runtime the shim calls for it, root its --root.
func shimOptions(t *testing.T, bundle string) (binaryName, root string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(bundle, "options.json"))
	require.NoError(t, err, "the shim's options in the container's bundle")
	var opts struct {
		BinaryName string `json:"binary_name"`
		Root       string `json:"root"`
	}
	require.NoError(t, json.Unmarshal(data, &opts), "options.json: %s", data)
	return opts.BinaryName, opts.Root
}

// requireBeneathOwnCgroup fails unless process pid is in a memory cgroup
// below ours whose name starts with prefix.
func requireBeneathOwnCgroup(t *testing.T, pid int, prefix string) {
	t.Helper()
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	require.NoError(t, err)
	require.Contains(t, string(cg), ":memory:"+filepath.Join(ownCgroup(t), prefix),
		"the container's process %d is not beneath our memory cgroup", pid)
}

// exitCode is the exit code in an error of (*dockerd).docker-style helpers
// that wrap cmd.Output's error, or -1 when the program did not run.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode()
	}
	return -1
}

// commandTimeout bounds every engine CLI command of these tests: a runtime
// that never answers must fail the test, not hang it until go test's
// -timeout (the clean-up would not run).
const commandTimeout = 60 * time.Second

// cleanupTimeout bounds each command of a clean-up, which may meet the
// same broken runtime several times over.
const cleanupTimeout = 15 * time.Second

// runCLI runs an engine's CLI (docker, ctr, podman, the runtime) with env
// added, bounded by commandTimeout, and returns its stdout; the error
// carries stderr and names the command by its args after the first global
// ones (the same for every call, noise in a message).
func runCLI(env []string, global int, name string, args ...string) (string, error) {
	return runCLIWithin(commandTimeout, env, global, name, args...)
}

// runCLIWithin is runCLI bounded by timeout.
func runCLIWithin(timeout time.Duration, env []string, global int, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// Once it is killed, stop waiting for its output too: a child it
	// leaves behind (a hung runtime podman started) keeps the pipes open.
	cmd.WaitDelay = 2 * time.Second
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return string(out), fmt.Errorf("%s %v: no answer within %s: %s", name, args[global:], timeout, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return string(out), fmt.Errorf("%s %v: %w: %s", name, args[global:], err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// waitFor polls f every 100 ms until it returns nil or the deadline
// passes, and then fails with f's last error.
func waitFor(t *testing.T, within time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %v", what, within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// trapTERM is a container command that prints "started", then waits until
// SIGTERM and exits 0 on it: a stop that takes the grace period and ends in
// SIGKILL (137) shows the signal never arrived.
const trapTERM = `echo started; trap "echo got TERM; exit 0" TERM; while :; do sleep 0.1; done`

// TestRuntimeUnderDockerd registers the runtime with dockerd (daemon.json's
// "runtimes", what --add-runtime does) and runs docker's lifecycle on it:
// run (with and without -t), exit codes, logs, exec (with and without -t),
// stop, rm. dockerd's containerd-shim-runc-v2 calls the runtime with
// --root <exec-root>/runtime-runc/moby --log <bundle>/log.json
// --log-format json, then create --bundle --pid-file [--console-socket],
// start, exec --process --detach --pid-file [--console-socket], kill ID 15,
// delete, delete --force.
func TestRuntimeUnderDockerd(t *testing.T) {
	testkit.RequireRoot(t)
	runtime := ociRuntimeBinary(t)
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	reg.Push(t, "library/busybox:latest", testkit.BusyboxImage(t))
	d := startDockerdWith(t, reg.URL(), dockerdOptions{runtimes: map[string]string{"minidocker": runtime}})
	d.ok("pull", "-q", "busybox")

	run := []string{"run", "--runtime", "minidocker", "--network", "none"}
	out, err := d.docker(append(run, "--rm", "busybox", "echo", "hi")...)
	require.NoError(t, err, "docker run --runtime minidocker")
	require.Equal(t, "hi\n", out)
	_, err = d.docker(append(run, "--rm", "busybox", "sh", "-c", "exit 3")...)
	require.Equal(t, 3, exitCode(err), "docker run's exit code for sh -c 'exit 3': %v", err)
	// -t: the shim gives the runtime --console-socket and wants the pty's
	// master back on it (a \r\n: the output came through a terminal).
	out, err = d.docker(append(run, "-t", "--rm", "busybox", "tty")...)
	require.NoError(t, err, "docker run -t --runtime minidocker")
	require.Equal(t, "/dev/pts/0\r\n", out)

	// Docker's confinement, written by dockerd into the bundle, holds
	// under our runtime: mount(2) is refused (no CAP_SYS_ADMIN, and
	// Docker's seccomp profile), and --privileged lifts both.
	try := "mount -t tmpfs none /tmp && echo escaped || echo refused"
	out, err = d.docker(append(run, "--rm", "busybox", "sh", "-c", try)...)
	require.NoError(t, err)
	require.Equal(t, "refused\n", out, "a mount in a default container under the runtime")
	out, err = d.docker(append(run, "--rm", "--privileged", "busybox", "sh", "-c", try)...)
	require.NoError(t, err)
	require.Equal(t, "escaped\n", out, "the same mount with --privileged")

	id := strings.TrimSpace(d.ok(append(run, "-d", "--name", "sleeper", "busybox", "sh", "-c", trapTERM)...))
	waitFor(t, 10*time.Second, "docker logs sleeper says started", func() error {
		if out, err := d.docker("logs", "sleeper"); err != nil || out != "started\n" {
			return fmt.Errorf("%q, %v", out, err)
		}
		return nil
	})

	// It ran with our runtime: docker says so, the shim was given our
	// binary (the bundle's options.json), and our binary, asked on the root
	// the shim gave it (<exec-root>/runtime-runc/<namespace>), knows the
	// container and its PID.
	var info []struct {
		State      struct{ Pid, ExitCode int }
		HostConfig struct{ Runtime string }
	}
	require.NoError(t, json.Unmarshal([]byte(d.ok("inspect", id)), &info))
	require.Len(t, info, 1)
	require.Equal(t, "minidocker", info[0].HostConfig.Runtime)
	binaryName, root := shimOptions(t, filepath.Join(d.dir, "exec/containerd/daemon/io.containerd.runtime.v2.task/moby", id))
	require.Equal(t, runtime, binaryName, "the runtime binary dockerd gave the shim")
	st, err := askRuntime(t, runtime, filepath.Join(root, "moby"), id)
	require.NoError(t, err, "the runtime does not know the container docker ran with it")
	require.Equal(t, "running", st.Status)
	require.Equal(t, info[0].State.Pid, st.PID, "the runtime's PID for the container and docker's")
	requireBeneathOwnCgroup(t, st.PID, "mdk-dockerd-")
	// docker update: containerd's shim sends the new limits to the
	// runtime's update on stdin.
	d.ok("update", "--pids-limit", "77", "sleeper")
	require.Equal(t, "77", pidsMax(t, st.PID), "pids.max after docker update")

	// exec: runtime exec --process F --detach --pid-file F, the exit code
	// from the shim, who reaps it.
	out, err = d.docker("exec", "sleeper", "sh", "-c", "echo exec-$((6*7)) in $(hostname)")
	require.NoError(t, err, "docker exec")
	require.Equal(t, "exec-42 in "+id[:12]+"\n", out)
	took := execAndStop(t, "docker", d.docker, id)

	// rm: runtime delete, after which the runtime no longer knows it.
	d.ok("rm", "sleeper")
	_, err = askRuntime(t, runtime, filepath.Join(root, "moby"), id)
	require.Error(t, err, "the runtime still knows the container docker removed")
	t.Logf("docker stop took %s", took.Round(time.Millisecond))
}

// execAndStop is what docker and podman, whose command lines are the same,
// both do with the running container "sleeper" (id), through the runtime:
// an exec's exit code comes back (runtime exec --detach, the shim or
// conmon reaps it), exec -t gets a terminal (runtime exec
// --console-socket), and stop (runtime kill ID 15) ends it well within the
// grace, its trap exiting 0, its output in logs. It returns how long stop
// took.
func execAndStop(t *testing.T, engine string, cli func(...string) (string, error), id string) time.Duration {
	t.Helper()
	_, err := cli("exec", "sleeper", "sh", "-c", "exit 5")
	require.Equal(t, 5, exitCode(err), "%s exec's exit code for sh -c 'exit 5': %v", engine, err)
	out, err := cli("exec", "-t", "sleeper", "tty")
	require.NoError(t, err, "%s exec -t (runtime exec --console-socket)", engine)
	require.Regexp(t, `^/dev/pts/\d+\r\n$`, out)

	start := time.Now()
	_, err = cli("stop", "-t", "10", "sleeper")
	require.NoError(t, err, "%s stop", engine)
	took := time.Since(start)
	out, err = cli("inspect", id)
	require.NoError(t, err)
	var info []struct{ State struct{ ExitCode int } }
	require.NoError(t, json.Unmarshal([]byte(out), &info))
	require.Len(t, info, 1)
	require.Equal(t, 0, info[0].State.ExitCode, "exit code after %s stop (137: SIGTERM never reached the trap, SIGKILL after the grace)", engine)
	require.Less(t, took, 8*time.Second, "%s stop took the whole grace period", engine)
	out, err = cli("logs", "sleeper")
	require.NoError(t, err)
	require.Equal(t, "started\ngot TERM\n", out)
	return took
}

// stopDaemon ends a daemon the test started: SIGTERM, then SIGKILL if it
// has not exited within grace.
func stopDaemon(t *testing.T, cmd *exec.Cmd, grace time.Duration) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		t.Errorf("%s did not exit within %s of SIGTERM: killed", cmd.Path, grace)
		cmd.Process.Kill()
		<-done
	}
}

// killProcessesMentioning waits up to grace for the processes whose
// command line contains s (an engine's own directory or socket) to end, and
// then kills (SIGKILL, by PID) those left: the shims and conmons a daemon
// started and left running when the test failed half-way. (A conmon runs
// podman's exit command after `podman run --rm` has returned: give it
// time.) It returns what it killed, as "PID command line".
func killProcessesMentioning(s string, grace time.Duration) []string {
	deadline := time.Now().Add(grace)
	for {
		pids := processesMentioning(s)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var killed []string
			for pid, cmdline := range pids {
				if syscall.Kill(pid, syscall.SIGKILL) == nil {
					killed = append(killed, fmt.Sprintf("%d %s", pid, cmdline))
				}
			}
			return killed
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// killLeftovers kills what an engine left running that names its dir: the
// shims (their -address is its socket) and the runtime calls they wait for
// (their --root is in it). A shim removes its socket, in /run/containerd/s
// whatever containerd's state dir, when it exits, not when killed: that
// is removed too.
func killLeftovers(t testing.TB, engine, dir string) {
	killed := killProcessesMentioning(dir, 5*time.Second)
	if len(killed) == 0 {
		return
	}
	t.Errorf("processes left by %s, killed: %v", engine, killed)
	for _, k := range killed {
		_, cmdline, _ := strings.Cut(k, " ") // after the PID
		if socket := shimSocket(cmdline); socket != "" {
			os.Remove(socket)
		}
	}
}

// shimSocket is the socket of the containerd-shim-runc-v2 with that command
// line (-namespace NS -id ID -address ADDRESS), as containerd 1.6 names it:
// /run/containerd/s/<sha256 of ADDRESS/NS/ID>; "" for another program.
func shimSocket(cmdline string) string {
	f := strings.Fields(cmdline)
	if len(f) == 0 || filepath.Base(f[0]) != "containerd-shim-runc-v2" {
		return ""
	}
	flags := map[string]string{}
	for i := 1; i+1 < len(f); i++ {
		if strings.HasPrefix(f[i], "-") {
			flags[f[i]] = f[i+1]
		}
	}
	if flags["-namespace"] == "" || flags["-id"] == "" || flags["-address"] == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(filepath.Join(flags["-address"], flags["-namespace"], flags["-id"])))
	return filepath.Join("/run/containerd/s", hex.EncodeToString(sum[:]))
}

// processesMentioning maps the PIDs of the live processes whose command
// line (its arguments joined by spaces) contains s to that command line
// (zombies have none).
func processesMentioning(s string) map[int]string {
	pids := map[int]string{}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		cmdline := strings.ReplaceAll(string(data), "\x00", " ")
		if err == nil && pid != os.Getpid() && strings.Contains(cmdline, s) {
			pids[pid] = cmdline
		}
	}
	return pids
}

// removeCgroupsAtEnd removes, at the end of the test, cgroup path with
// whatever the engine made beneath it (libpod-<id>, conmon), in every
// hierarchy, deepest first, and then the directories above it that did not
// exist at the start (cgroupDirsToMake), each alone: other tests may have
// made cgroups of their own beside ours meanwhile. A directory that stays
// means a process is still in it: an error. Call it before the engine's
// own clean-up is registered, so that it runs after it (t.Cleanup is last
// in, first out).
func removeCgroupsAtEnd(t testing.TB, engine, path string) {
	made := cgroupDirsToMake(path)
	t.Cleanup(func() {
		if killed := killCgroupProcs(path); len(killed) > 0 {
			t.Errorf("processes left in %s's cgroups, killed: %v", engine, killed)
		}
		for i := len(made) - 1; i >= 0; i-- {
			if !strings.HasSuffix(made[i], path) {
				os.Remove(made[i]) // above ours: fails while another test's cgroups are in it
				continue
			}
			var dirs []string // the test's own: all of it
			filepath.WalkDir(made[i], func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs = append(dirs, p)
				}
				return nil
			})
			for j := len(dirs) - 1; j >= 0; j-- {
				if err := removeCgroup(dirs[j]); err != nil {
					t.Errorf("cgroup left by %s: %v", engine, err)
				}
			}
		}
	})
}

// killCgroupProcs kills (SIGKILL) every process in cgroup path or below,
// in every hierarchy: the last resort of a clean-up, for the containers of
// a runtime whose kill does not work. Only the test's own cgroups are
// given to it. It returns the PIDs it killed.
func killCgroupProcs(path string) []int {
	var killed []int
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, root := range append(roots, "/sys/fs/cgroup") {
		filepath.WalkDir(filepath.Join(root, path), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			data, _ := os.ReadFile(p)
			for _, f := range strings.Fields(string(data)) {
				pid, _ := strconv.Atoi(f)
				if pid > 0 && !slices.Contains(killed, pid) && syscall.Kill(pid, syscall.SIGKILL) == nil {
					killed = append(killed, pid)
				}
			}
			return nil
		})
	}
	return killed
}

// removeCgroup removes an empty cgroup directory, waiting up to 5 s while
// the kernel says it is busy: a process killed a moment ago leaves its
// cgroup only once its parent (often init, for daemonised monitors) has
// reaped it.
func removeCgroup(dir string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.Remove(dir)
		if err == nil || os.IsNotExist(err) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// engineGlobalDirs are directories the engines make outside the dirs a
// test gives them, whatever their configuration says: containerd's shims
// put their sockets in /run/containerd/s, the containerd dockerd starts
// makes /opt/containerd, ctr its FIFOs in /run/containerd/fifo unless told;
// podman gives the runtime no --root, so its state goes to the runtime's
// default root (runc's /run/runc, minidocker's /run/minidocker-runtime).
// Deepest first.
var engineGlobalDirs = []string{
	"/run/containerd/s", "/run/containerd/fifo", "/run/containerd",
	"/opt/containerd/bin", "/opt/containerd/lib", "/opt/containerd",
	"/run/runc", "/run/minidocker-runtime", "/run/libpod", "/run/containers/storage", "/run/containers", "/var/lib/containers",
}

// removeNewEmptyDirs removes, at the end of the test, those of
// engineGlobalDirs that are not there now and are empty then (another
// engine on the machine may be using one: a directory in use is not
// empty). Call it before starting the engine, so that it runs after the
// engine's own clean-up.
func removeNewEmptyDirs(t testing.TB) {
	var missing []string
	for _, dir := range engineGlobalDirs {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			missing = append(missing, dir)
		}
	}
	t.Cleanup(func() {
		for _, dir := range missing {
			os.Remove(dir) // fails, as it should, when not empty
		}
	})
}

// containerd is a containerd of the test's own: root, state, sockets and
// plugin dir under dir; its CRI plugin off (it wants CNI and more), and the
// snapshotters this machine cannot serve (aufs, btrfs, devmapper, zfs: only
// overlayfs and native are left). ctr drives it in namespace "mdk".
type containerd struct {
	t            *testing.T
	dir          string
	address      string
	cgroupParent string // beneath ours: its containers' cgroups go in it
}

func startContainerd(t *testing.T) *containerd {
	t.Helper()
	_, err := exec.LookPath("containerd")
	testkit.RequireFeature(t, err == nil, "containerd (Debian's containerd)")
	_, err = exec.LookPath("ctr")
	testkit.RequireFeature(t, err == nil, "ctr (Debian's containerd)")
	_, err = exec.LookPath("containerd-shim-runc-v2")
	testkit.RequireFeature(t, err == nil, "containerd-shim-runc-v2 (Debian's containerd)")
	dir, err := os.MkdirTemp("", "mdk-containerd-")
	require.NoError(t, err)
	c := &containerd{t: t, dir: dir, address: filepath.Join(dir, "containerd.sock"),
		cgroupParent: filepath.Join(ownCgroup(t), filepath.Base(dir))}
	removeNewEmptyDirs(t)
	removeCgroupsAtEnd(t, "containerd", c.cgroupParent)
	t.Cleanup(func() {
		// What it may leave: mounts (snapshots, rootfs), shims whose
		// containers were never deleted and the runtime calls they wait
		// for, the shims' sockets.
		killLeftovers(t, "containerd", dir)
		unmountUnder(t, dir)
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "log")); err == nil {
				t.Logf("containerd's log (tail):\n%s", tail(string(log), 30))
			}
		}
		os.RemoveAll(dir)
	})
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.address, c.address+".ttrpc", filepath.Join(dir, "opt"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.toml"), []byte(config), 0o600))
	logf, err := os.Create(filepath.Join(dir, "log"))
	require.NoError(t, err)
	cmd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		// Containers first: the shims outlive containerd by design. Their
		// processes are killed through their cgroups too, in case the
		// runtime's kill does not work (task delete -f would wait forever).
		if out, err := c.ctrWithin(cleanupTimeout, "containers", "list", "-q"); err == nil {
			for _, id := range strings.Fields(out) {
				c.ctrWithin(cleanupTimeout, "task", "kill", "-s", "SIGKILL", id)
			}
			killCgroupProcs(c.cgroupParent)
			for _, id := range strings.Fields(out) {
				c.ctrWithin(cleanupTimeout, "task", "delete", "-f", id)
				c.ctrWithin(cleanupTimeout, "containers", "delete", id)
			}
		}
		stopDaemon(t, cmd, 20*time.Second)
		logf.Close()
	})
	waitFor(t, 30*time.Second, "containerd answers ctr version", func() error {
		_, err := c.ctr("version")
		return err
	})
	return c
}

func (c *containerd) ctr(args ...string) (string, error) {
	return c.ctrWithin(commandTimeout, args...)
}

func (c *containerd) ctrWithin(timeout time.Duration, args ...string) (string, error) {
	global := []string{"--address", c.address, "--namespace", "mdk"}
	return runCLIWithin(timeout, nil, len(global), "ctr", append(global, args...)...)
}

func (c *containerd) ok(args ...string) string {
	c.t.Helper()
	out, err := c.ctr(args...)
	require.NoError(c.t, err)
	return out
}

// TestRuntimeUnderContainerd runs containers with ctr run --runc-binary:
// containerd-shim-runc-v2 calls the runtime as under dockerd, with --root
// from ctr's --runc-root (plus the namespace).
func TestRuntimeUnderContainerd(t *testing.T) {
	testkit.RequireRoot(t)
	runtime := ociRuntimeBinary(t)
	c := startContainerd(t)
	archive := filepath.Join(c.dir, "busybox.tar")
	testkit.WriteDockerArchive(t, archive, "docker.io/library/busybox:latest", testkit.BusyboxImage(t))
	c.ok("images", "import", archive)
	const image = "docker.io/library/busybox:latest"

	// The runtime's state in the test's dir, not /run/containerd/runc; each
	// container's cgroup in the test's parent, removed by the runtime's
	// delete.
	runtimeRoot := filepath.Join(c.dir, "runtime")
	run := func(id string, args ...string) (string, error) {
		return c.ctr(append([]string{"run", "--fifo-dir", filepath.Join(c.dir, "fifo"), "--runc-binary", runtime, "--runc-root", runtimeRoot,
			"--cgroup", filepath.Join(c.cgroupParent, id)}, args...)...)
	}

	out, err := run("hi", "--rm", image, "hi", "echo", "hi")
	require.NoError(t, err, "ctr run --runc-binary")
	require.Equal(t, "hi\n", out)
	_, err = run("three", "--rm", image, "three", "sh", "-c", "exit 3")
	require.Equal(t, 3, exitCode(err), "ctr run's exit code for sh -c 'exit 3': %v", err)

	// Detached: the runtime knows it, running, in its cgroup; ctr's exec
	// and kill reach it; delete gives its exit status (ctr task delete
	// exits with it).
	_, err = run("sleeper", "-d", image, "sleeper", "sh", "-c", trapTERM)
	require.NoError(t, err, "ctr run -d")
	binaryName, root := shimOptions(t, filepath.Join(c.dir, "state/io.containerd.runtime.v2.task/mdk/sleeper"))
	require.Equal(t, runtime, binaryName, "the runtime binary containerd gave the shim")
	require.Equal(t, runtimeRoot, root, "the runtime root containerd gave the shim")
	st, err := askRuntime(t, runtime, filepath.Join(runtimeRoot, "mdk"), "sleeper")
	require.NoError(t, err, "the runtime does not know the container ctr ran with it")
	require.Equal(t, "running", st.Status)
	requireBeneathOwnCgroup(t, st.PID, filepath.Join(filepath.Base(c.dir), "sleeper"))
	require.Regexp(t, `(?m)^sleeper\s+`+strconv.Itoa(st.PID)+`\s+RUNNING$`, c.ok("task", "list"))
	out, err = c.ctr("task", "exec", "--fifo-dir", filepath.Join(c.dir, "fifo"), "--exec-id", "e1", "sleeper", "sh", "-c", "echo exec-$((6*7))")
	require.NoError(t, err, "ctr task exec")
	require.Equal(t, "exec-42\n", out)
	_, err = c.ctr("task", "exec", "--fifo-dir", filepath.Join(c.dir, "fifo"), "--exec-id", "e2", "sleeper", "sh", "-c", "exit 5")
	require.Equal(t, 5, exitCode(err), "ctr task exec's exit code for sh -c 'exit 5': %v", err)

	c.ok("task", "kill", "sleeper") // SIGTERM
	waitFor(t, 10*time.Second, "the task stops after ctr task kill", func() error {
		if out := c.ok("task", "list"); !regexp.MustCompile(`(?m)^sleeper\s+\d+\s+STOPPED$`).MatchString(out) {
			return fmt.Errorf("ctr task list:\n%s", out)
		}
		return nil
	})
	_, err = c.ctr("task", "delete", "sleeper")
	require.NoError(t, err, "ctr task delete (it fails with the task's exit status when that is not 0)")
	c.ok("containers", "delete", "sleeper")
	_, err = askRuntime(t, runtime, filepath.Join(runtimeRoot, "mdk"), "sleeper")
	require.Error(t, err, "the runtime still knows the container ctr deleted")
	require.Empty(t, strings.TrimSpace(c.ok("containers", "list", "-q")))
}

// podman is podman with a configuration of the test's own (CONTAINERS_CONF,
// CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF), roots under dir and
// cgroupfs. It has no daemon: each command is podman, and conmon watches
// each container.
type podman struct {
	t            *testing.T
	dir          string
	runtime      string
	cgroupParent string // --cgroup-parent for its containers
	env          []string
}

func newPodman(t *testing.T, runtime, registryHost string) *podman {
	t.Helper()
	_, err := exec.LookPath("podman")
	testkit.RequireFeature(t, err == nil, "podman (Debian's podman)")
	_, err = exec.LookPath("conmon")
	testkit.RequireFeature(t, err == nil, "conmon (Debian's conmon)")
	removeNewEmptyDirs(t)
	// A rootful pull records its blobs in /var/lib/containers/cache
	// whatever the roots (containers/image's blob info cache): removed
	// at the end when the test made it.
	if _, err := os.Stat("/var/lib/containers"); os.IsNotExist(err) {
		t.Cleanup(func() { os.RemoveAll("/var/lib/containers") })
	}
	dir, err := os.MkdirTemp("", "mdk-podman-")
	require.NoError(t, err)
	// The containers' cgroups (libpod-<id>, removed by the runtime) and
	// conmon's (<parent>/conmon, where podman moves each conmon, and which
	// it leaves) beneath our own.
	p := &podman{t: t, dir: dir, runtime: runtime, cgroupParent: filepath.Join(ownCgroup(t), filepath.Base(dir))}
	removeCgroupsAtEnd(t, "podman", p.cgroupParent)
	t.Cleanup(func() {
		ids, _ := p.podmanWithin(cleanupTimeout, "ps", "-aq", "--no-trunc")
		if len(strings.Fields(ids)) > 0 {
			p.podmanWithin(cleanupTimeout, append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
		}
		if killed := killProcessesMentioning(dir, 5*time.Second); len(killed) > 0 {
			t.Errorf("processes left by podman, killed: %v", killed)
		}
		for _, id := range strings.Fields(ids) { // a hung runtime podman started: `runtime start <id>`
			if killed := killProcessesMentioning(id, 0); len(killed) > 0 {
				t.Errorf("processes left by podman, killed: %v", killed)
			}
		}
		killCgroupProcs(p.cgroupParent) // when the runtime's kill did not work
		// When podman could not delete a container from the runtime, its
		// state stays in the runtime's default root.
		for _, id := range strings.Fields(ids) {
			runCLIWithin(cleanupTimeout, nil, 0, runtime, "delete", "--force", id)
		}
		unmountUnder(t, dir)
		os.RemoveAll(dir)
	})
	// This VM's root may not raise RLIMIT_NOFILE past 20000 nor RLIMIT_NPROC
	// past 96365 (MACHINE.md), podman's defaults ask for more.
	conf := fmt.Sprintf(`[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = %q
volume_path = %q

[network]
network_config_dir = %q
`, filepath.Join(dir, "tmp"), filepath.Join(dir, "volumes"), filepath.Join(dir, "networks"))
	storage := fmt.Sprintf(`[storage]
driver = "vfs"
graphroot = %q
runroot = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "runroot"))
	registries := fmt.Sprintf(`[[registry]]
location = %q
insecure = true
`, registryHost)
	for name, data := range map[string]string{"containers.conf": conf, "storage.conf": storage, "registries.conf": registries} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600))
	}
	p.env = []string{"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf"),
		"CONTAINERS_REGISTRIES_CONF=" + filepath.Join(dir, "registries.conf")}
	return p
}

func (p *podman) podman(args ...string) (string, error) {
	return p.podmanWithin(commandTimeout, args...)
}

func (p *podman) podmanWithin(timeout time.Duration, args ...string) (string, error) {
	// No --runtime-flag root=: the podman conmon runs when a container
	// exits (container cleanup, which deletes it from the runtime) is not
	// given the runtime flags, and would look for it in the runtime's
	// default root. So the runtime keeps its state there (runc's /run/runc).
	global := []string{"--runtime", p.runtime, "--root", filepath.Join(p.dir, "root"), "--runroot", filepath.Join(p.dir, "runroot"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file"}
	return runCLIWithin(timeout, p.env, len(global), "podman", append(global, args...)...)
}

func (p *podman) ok(args ...string) string {
	p.t.Helper()
	out, err := p.podman(args...)
	require.NoError(p.t, err)
	return out
}

// TestRuntimeUnderPodman runs containers with podman --runtime, without
// networking (--network none): conmon calls the runtime's create --bundle
// --pid-file [--console-socket] and exec --pid-file --process --detach
// [--console-socket]; podman itself start, kill ID 15 and delete --force
// (and "podman container cleanup", which conmon runs when a container
// exits). None of them passes --root.
func TestRuntimeUnderPodman(t *testing.T) {
	testkit.RequireRoot(t)
	runtime := ociRuntimeBinary(t)
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	reg.Push(t, "library/busybox:latest", testkit.BusyboxImage(t))
	p := newPodman(t, runtime, reg.Host())
	image := reg.Host() + "/library/busybox:latest"
	p.ok("pull", "-q", image)

	run := []string{"run", "--network", "none", "--cgroup-parent", p.cgroupParent}
	out, err := p.podman(append(run, "--rm", image, "echo", "hi")...)
	require.NoError(t, err, "podman run --runtime")
	require.Equal(t, "hi\n", out)
	_, err = p.podman(append(run, "--rm", image, "sh", "-c", "exit 3")...)
	require.Equal(t, 3, exitCode(err), "podman run's exit code for sh -c 'exit 3': %v", err)
	// -t: conmon gives the runtime --console-socket.
	out, err = p.podman(append(run, "-t", "--rm", image, "tty")...)
	require.NoError(t, err, "podman run -t --runtime")
	require.Equal(t, "/dev/pts/0\r\n", out)

	id := strings.TrimSpace(p.ok(append(run, "-d", "--name", "sleeper", image, "sh", "-c", trapTERM)...))
	waitFor(t, 10*time.Second, "podman logs sleeper says started", func() error {
		if out, err := p.podman("logs", "sleeper"); err != nil || out != "started\n" {
			return fmt.Errorf("%q, %v", out, err)
		}
		return nil
	})
	// It ran with our runtime: podman says so, and our binary, asked on the
	// root podman gave it, knows the container and its PID.
	var info []struct {
		OCIRuntime string
		State      struct{ Pid, ExitCode int }
	}
	require.NoError(t, json.Unmarshal([]byte(p.ok("inspect", id)), &info))
	require.Len(t, info, 1)
	require.Equal(t, runtime, info[0].OCIRuntime)
	conmons := processesMentioning("-c " + id)
	require.Len(t, conmons, 1, "the container's conmon")
	for _, cmdline := range conmons {
		require.Contains(t, cmdline, " -r "+runtime+" ", "the runtime conmon was given")
	}
	st, err := askRuntime(t, runtime, "", id)
	require.NoError(t, err, "the runtime does not know the container podman ran with it")
	require.Equal(t, "running", st.Status)
	require.Equal(t, info[0].State.Pid, st.PID, "the runtime's PID for the container and podman's")
	requireBeneathOwnCgroup(t, st.PID, filepath.Base(p.dir))

	out, err = p.podman("exec", "sleeper", "sh", "-c", "echo exec-$((6*7))")
	require.NoError(t, err, "podman exec")
	require.Equal(t, "exec-42\n", out)
	took := execAndStop(t, "podman", p.podman, id)
	p.ok("rm", "sleeper")
	_, err = askRuntime(t, runtime, "", id)
	require.Error(t, err, "the runtime still knows the container podman removed")
	t.Logf("podman stop took %s", took.Round(time.Millisecond))
}

// BenchmarkDockerRunRuntime times `docker run --rm busybox true` under one
// dockerd with the runtime under test and with runc (Docker's default),
// interleaved so that both see the same machine load; it reports each as
// ms/run (runc-ms/run, runtime-ms/run) beside ns/op (both runs of one
// round). Not part of make test:
//
//	MINIDOCKER_TEST_REQUIRE_ROOT=1 go test -run '^$' -bench DockerRunRuntime -benchtime 20x ./final/
func BenchmarkDockerRunRuntime(b *testing.B) {
	testkit.RequireRoot(b)
	runtime := ociRuntimeBinary(b)
	reg := testkit.NewRegistry(b, testkit.RegistryOptions{})
	reg.Push(b, "library/busybox:latest", testkit.BusyboxImage(b))
	d := startDockerdWith(b, reg.URL(), dockerdOptions{runtimes: map[string]string{"minidocker": runtime}})
	d.ok("pull", "-q", "busybox")
	runs := map[string][]string{
		"runc":    {"run", "--rm", "--network", "none", "busybox", "true"},
		"runtime": {"run", "--rm", "--network", "none", "--runtime", "minidocker", "busybox", "true"},
	}
	for _, args := range runs { // warm up: the first run of each pays for the shim's first start
		d.ok(args...)
	}
	took := map[string][]time.Duration{}
	for i := 0; b.Loop(); i++ {
		order := []string{"runc", "runtime"}
		if i%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, name := range order {
			start := time.Now()
			d.ok(runs[name]...)
			took[name] = append(took[name], time.Since(start))
		}
	}
	// Medians: one slow run on a shared machine says nothing.
	median := func(ds []time.Duration) float64 {
		slices.Sort(ds)
		return float64(ds[len(ds)/2].Microseconds()) / 1000
	}
	for name, ds := range took {
		b.ReportMetric(median(ds), name+"-median-ms")
	}
	b.ReportMetric(median(took["runtime"])/median(took["runc"]), "runtime/runc")
}

// TestShimSocket: the name of a shim's socket, from the command line of a
// shim containerd 1.6 started under dockerd and the socket it made.
func TestShimSocket(t *testing.T) {
	got := shimSocket("/usr/bin/containerd-shim-runc-v2 -namespace moby -id d859257f2e55c35191dd6fd131efb4ee0d21afd4c58e72819232b9550bcbd351 -address /tmp/mdk-dockerd-1904522214/exec/containerd/containerd.sock ")
	require.Equal(t, "/run/containerd/s/ef1ab0b63df353d0d8bad138985141a9455a2e2e181d5fef025151251fd95311", got)
	require.Empty(t, shimSocket("/usr/bin/conmon --api-version 1 -c d859257f -u d859257f"))
}

// pidsMax reads pids.max of the cgroup process pid is in (v1 or v2).
func pidsMax(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		dir := ""
		switch {
		case f[1] == "pids":
			dir = filepath.Join("/sys/fs/cgroup/pids", f[2])
		case f[1] == "" && f[0] == "0":
			dir = filepath.Join("/sys/fs/cgroup", f[2])
		}
		if v, err := os.ReadFile(filepath.Join(dir, "pids.max")); dir != "" && err == nil {
			return strings.TrimSpace(string(v))
		}
	}
	t.Fatalf("no pids.max for process %d", pid)
	return ""
}
