package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// Restart policies: the monitor runs the container again when it exits,
// as --restart says, with Docker's back-off, until the policy or a user
// says no more.

// within polls cond every 50 ms for up to d; it reports whether cond held.
func within(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// settled waits (up to 20 s) until the container's loop is over: exited,
// not restarting.
func (w *world) settled(ref string) map[string]any {
	w.t.Helper()
	var st map[string]any
	require.True(w.t, within(20*time.Second, func() bool {
		st = w.state(ref)
		return st["Status"] == "exited" && st["Restarting"] == false
	}), "container %s still runs or restarts: %v", ref, st)
	return st
}

// logTimes are the times of the container's log lines (logs -t: each
// line as the monitor read it).
func logTimes(t *testing.T, w *world, ref string) []time.Time {
	t.Helper()
	var times []time.Time
	for _, line := range strings.Split(strings.TrimSpace(w.ok("logs", "-t", ref)), "\n") {
		stamp, _, _ := strings.Cut(line, " ")
		at, err := time.Parse(time.RFC3339Nano, stamp)
		require.NoError(t, err, "logs -t line %q", line)
		times = append(times, at)
	}
	return times
}

// A command that fails twice, then succeeds (its count is on a bind
// mount, which every run sees): on-failure restarts it twice, each after
// the back-off (100 ms, then 200 ms: lower bounds only), and stops at the
// success.
func TestRestartOnFailure(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	script := `n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo run $n; [ $n -ge 3 ]`
	w.ok("run", "-d", "--name", "flaky", "--restart", "on-failure", "-v", dir+":/data", "busybox", "sh", "-c", script)
	st := w.settled("flaky")
	require.Equal(t, 0.0, st["ExitCode"])
	in := w.inspect("flaky")
	require.Equal(t, 2.0, in["RestartCount"])
	require.Equal(t, map[string]any{"Name": "on-failure", "MaximumRetryCount": 0.0}, in["HostConfig"].(map[string]any)["RestartPolicy"])
	require.Equal(t, "run 1\nrun 2\nrun 3\n", w.ok("logs", "flaky"))
	n, err := os.ReadFile(filepath.Join(dir, "n"))
	require.NoError(t, err)
	require.Equal(t, "3\n", string(n))

	// Each line was logged before its run's exit, and the next run
	// started after the back-off: the gaps are at least the delays.
	times := logTimes(t, w, "flaky")
	require.Len(t, times, 3)
	require.GreaterOrEqual(t, times[1].Sub(times[0]), 100*time.Millisecond, "first back-off")
	require.GreaterOrEqual(t, times[2].Sub(times[1]), 200*time.Millisecond, "second back-off")

	// The loop is over: nothing runs it again.
	time.Sleep(time.Second)
	require.Equal(t, 2.0, w.inspect("flaky")["RestartCount"])
	require.Equal(t, "run 1\nrun 2\nrun 3\n", w.ok("logs", "flaky"))
}

// on-failure:1 restarts once, then leaves the container exited.
func TestRestartOnFailureMaxRetries(t *testing.T) {
	w := newWorld(t)
	w.ok("run", "-d", "--name", "once", "--restart", "on-failure:1", "--network", "none", "busybox", "sh", "-c", "echo try; exit 3")
	st := w.settled("once")
	require.Equal(t, 3.0, st["ExitCode"])
	require.Equal(t, 1.0, w.inspect("once")["RestartCount"])
	time.Sleep(time.Second) // a second restart would have come after 200 ms
	require.Equal(t, "try\ntry\n", w.ok("logs", "once"))
	require.Equal(t, 1.0, w.inspect("once")["RestartCount"])
}

// always: ps shows the container Restarting between its runs, all run by
// one monitor, each on the bridge again; stop ends the loop for good, and
// rm leaves nothing on the host.
func TestRestartAlwaysStopRm(t *testing.T) {
	w := newWorld(t)
	id := strings.TrimSpace(w.ok("run", "-d", "--name", "loop", "--restart", "always", "busybox", "sh", "-c",
		"if ip -4 addr show eth0 | grep -q inet; then echo net; else echo nonet; fi; exit 2"))
	monitors := map[int]bool{}
	sawRestarting := within(20*time.Second, func() bool {
		for _, pid := range monitorsOf(t, w.root, id) {
			monitors[pid] = true
		}
		// Listed without -a: docker counts it as running.
		return strings.Contains(w.ok("ps", "--filter", "name=loop"), "Restarting (2) ")
	})
	require.True(t, sawRestarting, "ps never showed the container restarting: %s", w.ok("ps", "-a"))
	st := w.state("loop")
	require.Equal(t, "restarting", st["Status"])
	require.Equal(t, true, st["Restarting"])
	require.True(t, within(20*time.Second, func() bool {
		for _, pid := range monitorsOf(t, w.root, id) {
			monitors[pid] = true
		}
		return w.inspect("loop")["RestartCount"].(float64) >= 3
	}), "fewer than 3 restarts in 20 s")
	require.Len(t, monitors, 1, "one monitor for every run")
	// Every run had its network: the veth was plugged again each time.
	logs := w.ok("logs", "loop")
	require.NotContains(t, logs, "nonet")
	require.GreaterOrEqual(t, strings.Count(logs, "net\n"), 3)

	require.Equal(t, "loop\n", w.ok("stop", "-t", "1", "loop"))
	st = w.state("loop")
	require.Equal(t, "exited", st["Status"])
	require.Equal(t, 2.0, st["ExitCode"])
	count := w.inspect("loop")["RestartCount"]
	require.Empty(t, monitorsOf(t, w.root, id), "the monitor is gone after stop")
	time.Sleep(2 * time.Second) // longer than any back-off so far: it stays stopped
	require.Equal(t, "exited", w.state("loop")["Status"])
	require.Equal(t, count, w.inspect("loop")["RestartCount"])

	w.ok("rm", "loop")
	require.Empty(t, leftOnHost(t, w.root, id))
}

// A running always container that a user stops stays stopped; restart
// clears that, and a crash (the init killed from outside) restarts it.
func TestRestartAfterStopAndCrash(t *testing.T) {
	w := newWorld(t)
	sleep := uniqueSleep()
	w.ok(append([]string{"run", "-d", "--name", "keep", "--restart", "unless-stopped", "--network", "none", "busybox"}, sleep...)...)
	w.ok("stop", "-t", "1", "keep")
	time.Sleep(time.Second)
	st := w.state("keep")
	require.Equal(t, "exited", st["Status"])
	require.Equal(t, 137.0, st["ExitCode"])
	require.Equal(t, 0.0, w.inspect("keep")["RestartCount"])

	w.ok("restart", "-t", "1", "keep")
	require.Equal(t, "running", w.running("keep").Status)
	first := w.running("keep").Pid
	require.NoError(t, syscall.Kill(first, syscall.SIGKILL)) // a crash, not a user's stop
	require.True(t, within(20*time.Second, func() bool {
		r := w.running("keep")
		return r.Status == "running" && r.Pid != first
	}), "not restarted after the crash: %v", w.state("keep"))
	require.Equal(t, 1.0, w.inspect("keep")["RestartCount"])
	// (Recorded running once the init exists, a moment before it execs
	// the command.)
	require.True(t, within(10*time.Second, func() bool { return len(processesRunning(t, sleep)) == 1 }))
}

// kill and rm -f end the loop of a container between two runs.
func TestRestartingKillAndRm(t *testing.T) {
	w := newWorld(t)
	for _, name := range []string{"kill-me", "rm-me"} {
		w.ok("run", "-d", "--name", name, "--restart", "always", "--network", "none", "busybox", "sh", "-c", "exit 4")
	}
	for _, name := range []string{"kill-me", "rm-me"} {
		require.True(t, within(20*time.Second, func() bool { return w.state(name)["Restarting"] == true }), "%s never restarting", name)
	}
	// Refused between two runs, in dockerd's words (tried until one falls
	// between two runs: refused in a run too, with other words).
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"rm", "rm-me"}, "You cannot remove a restarting container"},
		{[]string{"exec", "rm-me", "true"}, "is restarting, wait until the container is running"},
	} {
		var r testkit.Result
		require.True(t, within(20*time.Second, func() bool {
			r = w.md(c.args...)
			return strings.Contains(r.Stderr, c.msg)
		}), "%v: %s", c.args, r.Stderr)
		require.NotEqual(t, 0, r.Code)
	}
	id := w.inspect("rm-me")["Id"].(string)
	require.Equal(t, "rm-me\n", w.ok("rm", "-f", "rm-me"))
	require.True(t, within(10*time.Second, func() bool { return len(monitorsOf(t, w.root, id)) == 0 }), "rm-me's monitor stays")
	require.Empty(t, leftOnHost(t, w.root, id))

	// Between two runs, or in one (then SIGKILL's 137): either way the
	// loop ends.
	require.Equal(t, "kill-me\n", w.ok("kill", "kill-me"))
	st := w.settled("kill-me")
	require.Contains(t, []any{4.0, 137.0}, st["ExitCode"])
	count := w.inspect("kill-me")["RestartCount"]
	time.Sleep(2 * time.Second)
	require.Equal(t, "exited", w.state("kill-me")["Status"])
	require.Equal(t, count, w.inspect("kill-me")["RestartCount"])
}

// The flag's errors, in the docker CLI's words; nothing is created.
func TestRestartPolicyErrors(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct{ args, msg string }{
		{"--restart always --rm", "Conflicting options: --restart and --rm"},
		{"--restart always:3", "maximum retry count cannot be used with restart policy 'always'"},
		{"--restart on-failure:1:2", "invalid restart policy format"},
		{"--restart on-failure:x", "invalid restart policy format: maximum retry count must be an integer"},
		{"--restart sometimes", "invalid restart policy 'sometimes'"},
	} {
		r := w.md(append(append([]string{"run", "-d"}, strings.Fields(tc.args)...), "busybox", "true")...)
		require.Equal(t, 125, r.Code, tc.args)
		require.Equal(t, "Error: "+tc.msg+"\n", r.Stderr, tc.args)
	}
	require.Empty(t, w.ok("ps", "-aq"))
}

// After a reboot (simulated: every monitor and init SIGKILLed, the state
// still saying running), start --all-restartable brings back what the
// policies say: always and unless-stopped, not one without a policy, not
// one a user stopped.
func TestStartAllRestartable(t *testing.T) {
	w := newWorld(t)
	sleeps := map[string][]string{}
	for _, c := range []struct{ name, policy string }{{"always", "always"}, {"unless", "unless-stopped"}, {"none", "no"}, {"stopped", "unless-stopped"}} {
		sleeps[c.name] = uniqueSleep()
		w.ok(append([]string{"run", "-d", "--name", c.name, "--restart", c.policy, "busybox"}, sleeps[c.name]...)...)
	}
	w.ok("stop", "-t", "1", "stopped")
	for _, name := range []string{"always", "unless", "none"} {
		id := w.inspect(name)["Id"].(string)
		for _, pid := range monitorsOf(t, w.root, id) {
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		}
		for _, pid := range processesRunning(t, sleeps[name]) {
			require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		}
	}
	for _, name := range []string{"always", "unless", "none"} {
		require.True(t, within(10*time.Second, func() bool { return len(processesRunning(t, sleeps[name])) == 0 }), name)
	}

	out := w.ok("start", "--all-restartable")
	require.ElementsMatch(t, []string{"always", "unless"}, strings.Fields(out))
	for name, want := range map[string]string{"always": "running", "unless": "running", "none": "exited", "stopped": "exited"} {
		require.Equal(t, want, w.running(name).Status, name)
	}
	for _, name := range []string{"always", "unless"} {
		require.True(t, within(10*time.Second, func() bool { return len(processesRunning(t, sleeps[name])) == 1 }), name)
	}
	require.Empty(t, processesRunning(t, sleeps["none"]))
	// Again: nothing more to start.
	require.Empty(t, w.ok("start", "--all-restartable"))
}

// Through the daemon, with the real docker CLI: the policy on create, the
// count in inspect, docker update --restart; and the daemon brings a
// restartable container back at its start, as dockerd does.
func TestDaemonRestartPolicy(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	sock := filepath.Join(t.TempDir(), "d.sock")
	d := startDaemon(t, w, sock)
	d.dockerOK("run", "-d", "--name", "twice", "--network", "none", "--restart", "on-failure:2", "busybox", "sh", "-c", "exit 1")
	require.True(t, within(20*time.Second, func() bool {
		return d.dockerOK("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "twice") == "exited 2\n"
	}), "on-failure:2: %s", d.dockerOK("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", "twice"))
	require.Equal(t, "on-failure 2\n", d.dockerOK("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}", "twice"))
	r := d.docker("run", "-d", "--restart", "always:2", "busybox", "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, "maximum retry count cannot be used with restart policy")

	// minidocker's own CLI through the daemon sends the policy too.
	w.ok("-H", "unix://"+sock, "run", "-d", "--name", "viaH", "--network", "none", "--restart", "on-failure:1", "busybox", "sh", "-c", "exit 5")
	require.True(t, within(20*time.Second, func() bool {
		return d.dockerOK("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", "viaH") == "exited 5 1\n"
	}), "-H run --restart on-failure:1: %s", d.dockerOK("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", "viaH"))

	d.dockerOK("update", "--restart", "always", "twice")
	require.Equal(t, "always\n", d.dockerOK("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", "twice"))

	// The daemon stops; the container's monitor and init die hard (a
	// reboot); the daemon's next start brings it back.
	sleep := uniqueSleep()
	id := strings.TrimSpace(d.dockerOK(append([]string{"run", "-d", "--name", "svc", "--network", "none", "--restart", "always", "busybox"}, sleep...)...))
	d.stop()
	for _, pid := range monitorsOf(t, w.root, id) {
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	}
	for _, pid := range processesRunning(t, sleep) {
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	}
	require.True(t, within(10*time.Second, func() bool { return len(processesRunning(t, sleep)) == 0 }))
	d.start()
	require.True(t, within(20*time.Second, func() bool { return len(processesRunning(t, sleep)) == 1 }), "svc not back: %s", d.log.String())
	require.Equal(t, "running\n", d.dockerOK("inspect", "-f", "{{.State.Status}}", "svc"))
}
