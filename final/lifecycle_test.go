package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/final/state"
	"minidocker/internal/testkit"
	"minidocker/step01-process/process"
	"minidocker/step06-networking/network"
)

// These tests race minidocker commands against each other on one container,
// as two shells (or a script and a user) do: the container's lock must
// leave one story, and a PID recorded in the state must never reach a
// process that is not the container's.

// uniqueSleep is a sleep command line no other test (or helper working on
// this machine) runs: its processes can be counted.
func uniqueSleep() []string {
	return []string{"sleep", fmt.Sprint(200000 + rand.IntN(700000))}
}

// processesRunning lists the PIDs whose command line is exactly args and
// that are not zombies.
func processesRunning(t *testing.T, args []string) []int {
	t.Helper()
	want := []byte(strings.Join(args, "\x00") + "\x00")
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Equal(cmdline, want) {
			continue
		}
		if id, err := process.Identify(pid); err == nil && id.Alive() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// monitorsOf lists the monitor processes of container id.
func monitorsOf(t *testing.T, root, id string) []int {
	t.Helper()
	return processesRunning(t, []string{built, "__minidocker_monitor", root, id})
}

// leftOnHost lists what container id left on the host: cgroup directories,
// a host veth, mounts, its directory in the store.
func leftOnHost(t *testing.T, root, id string) []string {
	t.Helper()
	var left []string
	filepath.WalkDir("/sys/fs/cgroup", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if d.Name() == id {
			left = append(left, "cgroup "+path)
			return fs.SkipDir
		}
		if strings.Count(path, "/") > 8 {
			return fs.SkipDir
		}
		return nil
	})
	if _, err := net.InterfaceByName(network.VethName(id)); err == nil {
		left = append(left, "veth "+network.VethName(id))
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, id) {
			left = append(left, "mount "+line)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(root, "containers", "*"+id))
	for _, d := range dirs {
		left = append(left, "directory "+d)
	}
	return left
}

type runningState struct {
	Status string
	Pid    int
}

func (w *world) running(ref string) runningState {
	st := w.state(ref)
	return runningState{Status: st["Status"].(string), Pid: int(st["Pid"].(float64))}
}

// Two "start X" at once, many times, on a stopped container: each round
// leaves exactly one init (one monitor), recorded as running with its PID;
// both starts succeed (docker start of a running container does nothing).
// Before the container's lock, the second start killed the first's
// container (bridge) or ran a second init on the same upper directory
// (none).
func TestStartStartRace(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	for _, mode := range []string{"none", "bridge"} {
		t.Run(mode, func(t *testing.T) {
			sleep := uniqueSleep()
			name := "twice-" + mode
			id := strings.TrimSpace(w.ok(append([]string{"run", "-d", "--name", name, "--network", mode, "busybox"}, sleep...)...))
			for round := range 10 {
				w.ok("stop", "-t", "0", name)
				require.Empty(t, processesRunning(t, sleep), "round %d: stopped", round)
				results := make(chan testkit.Result, 2)
				for range 2 {
					go func() { results <- testkit.Run(t, w.bin, w.env, "start", name) }()
				}
				for range 2 {
					r := <-results
					require.Equal(t, 0, r.Code, "round %d: start: %s", round, r.Stderr)
					require.Equal(t, name+"\n", r.Stdout)
				}
				inits := processesRunning(t, sleep)
				require.Len(t, inits, 1, "round %d: one init", round)
				require.Equal(t, runningState{Status: "running", Pid: inits[0]}, w.running(name), "round %d", round)
				require.Len(t, monitorsOf(t, w.root, id), 1, "round %d: one monitor", round)
				if mode == "bridge" {
					ip := w.inspect(name)["NetworkSettings"].(map[string]any)["IPAddress"].(string)
					require.NotEmpty(t, ip, "round %d: the container kept its address", round)
					_, err := net.InterfaceByName(network.VethName(id))
					require.NoError(t, err, "round %d: the container kept its veth", round)
				}
			}
			start := time.Now()
			w.ok("stop", "-t", "1", name) // sleep as PID 1 ignores SIGTERM
			require.Less(t, time.Since(start), 5*time.Second)
			require.Empty(t, processesRunning(t, sleep))
			st := w.state(name)
			require.Equal(t, "exited", st["Status"])
			require.Equal(t, 137.0, st["ExitCode"])
			require.Empty(t, monitorsOf(t, w.root, id))
			w.ok("rm", name)
			require.Empty(t, leftOnHost(t, w.root, id))
		})
	}
}

// "rm -f X" and "start X" at once: removal wins (docker's "marked for
// removal"), or start finds nothing to start. Never a running init whose
// directory is gone, never a cgroup, veth or mount left behind.
func TestRmForceStartRace(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	for _, mode := range []string{"none", "bridge"} {
		t.Run(mode, func(t *testing.T) {
			for round := range 10 {
				sleep := uniqueSleep()
				name := fmt.Sprintf("doomed-%s-%d", mode, round)
				id := strings.TrimSpace(w.ok(append([]string{"run", "-d", "--name", name, "--network", mode, "busybox"}, sleep...)...))
				if round%2 == 1 {
					w.ok("stop", "-t", "0", name) // a stopped one, which start would start
				}
				rm, start := make(chan testkit.Result, 1), make(chan testkit.Result, 1)
				go func() { rm <- testkit.Run(t, w.bin, w.env, "rm", "-f", name) }()
				go func() { start <- testkit.Run(t, w.bin, w.env, "start", name) }()
				r, s := <-rm, <-start
				require.Equal(t, 0, r.Code, "round %d: rm -f: %s", round, r.Stderr)
				if s.Code != 0 {
					require.Equal(t, 1, s.Code)
					require.Regexp(t, `^Error: (No such container: `+name+`|container is marked for removal and cannot be started)\n$`, s.Stderr, "round %d", round)
				}
				r = w.md("inspect", name)
				require.Equal(t, 1, r.Code, "round %d: the container is gone", round)
				require.Empty(t, processesRunning(t, sleep), "round %d: no init left", round)
				require.Empty(t, monitorsOf(t, w.root, id), "round %d: no monitor left", round)
				require.Empty(t, leftOnHost(t, w.root, id), "round %d", round)
			}
		})
	}
}

// A container being removed (by an rm that still runs) is not started, and
// not removed twice; once that rm is gone, its mark counts for nothing.
func TestStartOfContainerBeingRemoved(t *testing.T) {
	w := newWorld(t)
	id := strings.TrimSpace(w.ok("run", "-d", "--network", "none", "--name", "marked", "busybox", "true"))
	eventually(t, "the container to exit", func() bool { return w.running("marked").Status == "exited" })
	store, err := state.Open(w.root)
	require.NoError(t, err)
	self, err := process.Identify(os.Getpid())
	require.NoError(t, err)
	mark := func(remover process.Identity) {
		require.NoError(t, store.Update(id, func(c *state.Container) error {
			c.State.Removing = &remover
			return nil
		}))
	}
	mark(self)
	r := w.md("start", "marked")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: container is marked for removal and cannot be started\n", r.Stderr)
	r = w.md("rm", "marked")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: removal of container marked is already in progress\n", r.Stderr)

	mark(process.Identity{Pid: self.Pid, StartTime: self.StartTime + 1}) // a remover that died
	require.Equal(t, "marked\n", w.ok("start", "marked"))
	eventually(t, "the container to exit", func() bool { return w.running("marked").Status == "exited" })
	require.Equal(t, "marked\n", w.ok("rm", "marked"))
}

// A state whose PIDs now belong to other processes (the container's init
// and monitor exited, and their numbers were reused): stop, kill and rm -f
// must not signal them, and the container is recorded as exited.
func TestFakePidReuse(t *testing.T) {
	w := newWorld(t)
	id := strings.TrimSpace(w.ok("run", "-d", "--network", "none", "--name", "reused", "busybox", "true"))
	eventually(t, "the container to exit", func() bool { return w.running("reused").Status == "exited" })
	store, err := state.Open(w.root)
	require.NoError(t, err)

	// Two strangers: children of the test, started after the container.
	stranger := func() (process.Identity, <-chan error) {
		cmd := exec.Command("sleep", "60")
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill() })
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		id, err := process.Identify(cmd.Process.Pid)
		require.NoError(t, err)
		return id, exited
	}
	initLike, initExited := stranger()
	monLike, monExited := stranger()
	fake := func() {
		require.NoError(t, store.Update(id, func(c *state.Container) error {
			c.State.Status, c.State.Running = state.Running, true
			// The PIDs are the strangers'; the start times are not.
			c.State.Pid, c.State.PidStart = initLike.Pid, initLike.StartTime-7
			c.State.MonitorPid, c.State.MonitorStart = monLike.Pid, monLike.StartTime-7
			return nil
		}))
	}
	requireUntouched := func(what string) {
		t.Helper()
		select {
		case err := <-initExited:
			t.Fatalf("%s signalled the process that has the init's old PID: %v", what, err)
		case err := <-monExited:
			t.Fatalf("%s signalled the process that has the monitor's old PID: %v", what, err)
		case <-time.After(200 * time.Millisecond):
		}
		require.True(t, initLike.Alive() && monLike.Alive(), "%s: both strangers still run", what)
	}

	fake()
	require.Regexp(t, `Exited \(255\) .*\s+reused\n`, w.ok("ps", "-a"), "ps: neither the init nor the monitor runs")
	requireUntouched("ps")

	fake()
	r := w.md("kill", "reused")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: cannot kill container: reused: container "+id+" is not running\n", r.Stderr)
	requireUntouched("kill")
	require.Equal(t, "exited", w.running("reused").Status)

	fake()
	require.Equal(t, "reused\n", w.ok("stop", "reused"))
	requireUntouched("stop")
	require.Equal(t, runningState{Status: "exited"}, w.running("reused"))

	fake()
	r = w.md("start", "reused")
	require.Equal(t, 0, r.Code, "start: %s", r.Stderr)
	eventually(t, "the restarted container to exit", func() bool { return w.running("reused").Status == "exited" })
	requireUntouched("start")

	fake()
	require.Equal(t, "reused\n", w.ok("rm", "-f", "reused"))
	requireUntouched("rm -f")
	r = w.md("inspect", "reused")
	require.Equal(t, 1, r.Code)
	require.Empty(t, leftOnHost(t, w.root, id))
}

// docker kill: a signal of one's choice to a running container, an error
// for one that is not running.
func TestKill(t *testing.T) {
	w := newWorld(t)
	w.ok("run", "-d", "--network", "none", "--name", "trap", "busybox", "sh", "-c", "trap 'echo got USR1; exit 7' USR1; echo ready; while true; do sleep 0.1; done")
	eventually(t, "the trap", func() bool { return w.ok("logs", "trap") == "ready\n" })
	require.Equal(t, "trap\n", w.ok("kill", "-s", "USR1", "trap"))
	eventually(t, "the exit", func() bool { return w.running("trap").Status == "exited" })
	require.Equal(t, 7.0, w.state("trap")["ExitCode"])
	require.Equal(t, "ready\ngot USR1\n", w.ok("logs", "trap"))
	r := w.md("kill", "trap")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "is not running")
	r = w.md("kill", "-s", "NOPE", "trap")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: invalid signal: NOPE\n", r.Stderr)
	r = w.md("kill", "nope")
	require.Equal(t, "Error: No such container: nope\n", r.Stderr)
}
