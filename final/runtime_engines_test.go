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
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// askRuntime runs the runtime's own `state` on the root an engine gave it:
// the runtime that created a container is the one that knows it. Docker
// asking runc instead of the runtime it was given would leave this runtime
// (with its own state format) knowing nothing.
func askRuntime(t *testing.T, runtime, root, id string) (runtimeState, error) {
	t.Helper()
	var st runtimeState
	cmd := exec.Command(runtime, "--root", root, "state", id)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return st, fmt.Errorf("%s --root %s state %s: %w: %s", runtime, root, id, err, strings.TrimSpace(stderr.String()))
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return st, fmt.Errorf("%s state %s: %w: %q", runtime, id, err, out)
	}
	return st, nil
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
// run, exit codes, logs, exec, stop, rm.
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
	bundle := filepath.Join(d.dir, "exec/containerd/daemon/io.containerd.runtime.v2.task/moby", id)
	opts, err := os.ReadFile(filepath.Join(bundle, "options.json"))
	require.NoError(t, err, "the shim's options in the container's bundle")
	var shimOpts struct {
		BinaryName string `json:"binary_name"`
		Root       string `json:"root"`
	}
	require.NoError(t, json.Unmarshal(opts, &shimOpts))
	require.Equal(t, runtime, shimOpts.BinaryName, "the runtime binary dockerd gave the shim (options.json: %s)", opts)
	st, err := askRuntime(t, runtime, filepath.Join(shimOpts.Root, "moby"), id)
	require.NoError(t, err, "the runtime does not know the container docker ran with it")
	require.Equal(t, "running", st.Status)
	require.Equal(t, info[0].State.Pid, st.PID, "the runtime's PID for the container and docker's")
	requireBeneathOwnCgroup(t, st.PID, "mdk-dockerd-")

	// exec: runtime exec --process F --detach --pid-file F, the exit code
	// from the shim, who reaps it.
	out, err = d.docker("exec", "sleeper", "sh", "-c", "echo exec-$((6*7)) in $(hostname)")
	require.NoError(t, err, "docker exec")
	require.Equal(t, "exec-42 in "+id[:12]+"\n", out)
	_, err = d.docker("exec", "sleeper", "sh", "-c", "exit 5")
	require.Equal(t, 5, exitCode(err), "docker exec's exit code for sh -c 'exit 5': %v", err)

	// stop: runtime kill ID SIGTERM; the trap exits 0 well within the grace.
	start := time.Now()
	d.ok("stop", "-t", "10", "sleeper")
	took := time.Since(start)
	require.NoError(t, json.Unmarshal([]byte(d.ok("inspect", id)), &info))
	require.Equal(t, 0, info[0].State.ExitCode, "exit code after docker stop (137: SIGTERM never reached the trap, SIGKILL after the grace)")
	require.Less(t, took, 8*time.Second, "docker stop took the whole grace period")
	require.Equal(t, "started\ngot TERM\n", d.ok("logs", "sleeper"))

	// rm: runtime delete, after which the runtime no longer knows it.
	d.ok("rm", "sleeper")
	_, err = askRuntime(t, runtime, filepath.Join(shimOpts.Root, "moby"), id)
	require.Error(t, err, "the runtime still knows the container docker removed")
	t.Logf("docker stop took %s", took.Round(time.Millisecond))
}
