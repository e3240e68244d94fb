package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/internal/imagebuild"
	"minidocker/internal/testkit"
)

// fixture is the step's binary, a busybox image and a data directory.
type fixture struct {
	bin, image, root string
}

func setup(t *testing.T) fixture {
	t.Helper()
	testkit.RequireRoot(t)
	f := fixture{
		bin:   testkit.Build(t, "minidocker/step04-cgroups"),
		image: filepath.Join(t.TempDir(), "busybox.tar"),
		root:  testkit.DataRoot(t, "step04"),
	}
	testkit.WriteDockerArchive(t, f.image, "busybox:latest", testkit.Image(t, imagebuild.BusyboxConfig(), testkit.BusyboxLayer(t)))
	return f
}

// run runs a container; flags go before "--", cmd after.
func (f fixture) run(t *testing.T, flags []string, cmd ...string) testkit.Result {
	t.Helper()
	args := append([]string{"run", "--image", f.image}, flags...)
	return testkit.Run(t, f.bin, []string{"MINIDOCKER_ROOT=" + f.root}, append(append(args, "--"), cmd...)...)
}

// cgroupParent is a --cgroup-parent of the test's own, beneath the cgroup
// the test runs in (a relative path, as Docker reads it). dirs finds it in
// every tree; it is removed when the test ends.
type cgroupParent string

func newParent(t *testing.T) cgroupParent {
	b := make([]byte, 6)
	rand.Read(b)
	p := cgroupParent("mdk-step04-" + hex.EncodeToString(b))
	t.Cleanup(func() {
		// A test that failed half-way may have left a container: kill
		// what is in its cgroups and remove them, then the parent, which is
		// ours (the test's) to remove. What was left was already reported.
		for _, dir := range p.containers(t) {
			data, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			for _, pid := range strings.Fields(string(data)) {
				n, _ := strconv.Atoi(pid)
				syscall.Kill(n, syscall.SIGKILL)
			}
			for range 100 {
				if os.Remove(dir) == nil || os.IsNotExist(os.Remove(dir)) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		for _, dir := range p.dirs(t) {
			os.Remove(filepath.Join(dir, "minidocker"))
			if err := os.Remove(dir); err != nil {
				t.Errorf("remove the test's cgroup parent: %v", err)
			}
		}
	})
	return p
}

// dirs are the parent's directories in each cgroup tree.
func (p cgroupParent) dirs(t *testing.T) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir("/sys/fs/cgroup", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if d.Name() == string(p) {
			found = append(found, path)
			return filepath.SkipDir
		}
		if strings.Count(path, "/") > 7 {
			return filepath.SkipDir
		}
		return nil
	})
	require.NoError(t, err)
	return found
}

// containers are the container cgroups beneath the parent, in any tree.
func (p cgroupParent) containers(t *testing.T) []string {
	var out []string
	for _, dir := range p.dirs(t) {
		entries, _ := os.ReadDir(filepath.Join(dir, "minidocker"))
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, filepath.Join(dir, "minidocker", e.Name()))
			}
		}
	}
	return out
}

func (p cgroupParent) requireEmpty(t *testing.T) {
	t.Helper()
	require.Empty(t, p.containers(t), "container cgroups left behind")
}

func TestLimits(t *testing.T) {
	f := setup(t)

	t.Run("memory: past -m 32m is OOM-killed", func(t *testing.T) {
		p := newParent(t)
		r := f.run(t, []string{"-m", "32m", "--cgroup-parent", string(p)}, "sh", "-c", "tail /dev/zero")
		require.Equal(t, 137, r.Code, "stderr: %s", r.Stderr)
		require.Contains(t, r.Stderr, "OOMKilled")
		p.requireEmpty(t)
	})

	t.Run("memory: under -m 32m runs to the end", func(t *testing.T) {
		r := f.run(t, []string{"-m", "32m", "--stats"}, "sh", "-c", `x=$(head -c 8000000 /dev/zero | tr "\0" a); echo ${#x}`)
		require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
		require.Equal(t, "8000000\n", r.Stdout)
		require.NotContains(t, r.Stderr, "OOMKilled")
		require.Contains(t, r.Stderr, "OOM kills 0")
	})

	t.Run("pids: a fork bomb stops at --pids-limit 20", func(t *testing.T) {
		// Each round forks a sleep and counts the container's processes
		// with a glob (no fork needed): the count stops at the limit, then
		// the fork fails and the shell, PID 1, exits, which ends them all.
		r := f.run(t, []string{"--pids-limit", "20"}, "sh", "-c",
			`for i in $(seq 40); do sleep 3 & set -- /proc/[0-9]*; echo $#; done`)
		require.Equal(t, 2, r.Code, "the shell exits 2 when fork fails; stderr: %s", r.Stderr)
		require.Contains(t, r.Stderr, "can't fork")
		counts := strings.Fields(r.Stdout)
		require.NotEmpty(t, counts)
		most, err := strconv.Atoi(counts[len(counts)-1])
		require.NoError(t, err)
		require.Equal(t, 20, most, "processes at the most: %v", counts)
		require.NoError(t, exec.Command("true").Run(), "the host can still fork")
	})

	t.Run("cpu: --cpus 0.5 for 2 s of wall time is at most about 1 s of CPU", func(t *testing.T) {
		// busybox timeout execs the loop and kills it from a child, so the
		// loop must not be PID 1 (which ignores SIGTERM): sh is.
		r := f.run(t, []string{"--cpus", "0.5", "--stats"}, "sh", "-c", `timeout 2 sh -c "while :; do :; done"; true`)
		require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
		m := regexp.MustCompile(`CPU ([0-9.]+m?s)`).FindStringSubmatch(r.Stderr)
		require.NotNil(t, m, "no CPU in the stats: %s", r.Stderr)
		cpu, err := time.ParseDuration(m[1])
		require.NoError(t, err)
		// A ceiling (other tests share the machine and may leave the loop
		// less than its half CPU), and proof that the loop ran.
		require.True(t, cpu >= 250*time.Millisecond && cpu <= 1200*time.Millisecond,
			"CPU time %v, want 0.25 s to 1.2 s (the cgroup's cpuacct.usage / cpu.stat)", cpu)
	})
}

func TestBadFlags(t *testing.T) {
	f := setup(t)
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{[]string{"-m", "12x"}, `step04-cgroups: invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'` + "\n"},
		{[]string{"--memory", "1k"}, "step04-cgroups: Minimum memory limit allowed is 6MB\n"},
		{[]string{"--cpus", "abc"}, `step04-cgroups: invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number` + "\n"},
		{[]string{"--cgroup-parent", "../x"}, `step04-cgroups: cgroups: invalid --cgroup-parent "../x": ".." is not allowed` + "\n"},
	} {
		t.Run(strings.Join(tt.flags, " "), func(t *testing.T) {
			r := f.run(t, tt.flags, "true")
			require.Equal(t, 125, r.Code)
			require.Equal(t, tt.want, r.Stderr)
		})
	}
}

// TestCgroupsGone: the container's cgroups are removed whichever way it
// ends.
func TestCgroupsGone(t *testing.T) {
	f := setup(t)

	t.Run("after exit", func(t *testing.T) {
		p := newParent(t)
		r := f.run(t, []string{"--pids-limit", "5", "--cgroup-parent", string(p)}, "sh", "-c", "exit 3")
		require.Equal(t, 3, r.Code, "stderr: %s", r.Stderr)
		p.requireEmpty(t)
	})

	t.Run("after a failed start", func(t *testing.T) {
		p := newParent(t)
		r := f.run(t, []string{"-m", "64m", "--cgroup-parent", string(p)}, "no-such-command")
		require.Equal(t, 127, r.Code, "stderr: %s", r.Stderr)
		p.requireEmpty(t)
	})

	t.Run("after SIGKILL of the whole container", func(t *testing.T) {
		p := newParent(t)
		cmd := exec.Command(f.bin, "run", "--image", f.image, "-m", "64m", "--cgroup-parent", string(p),
			"--", "sh", "-c", "sleep 100 & echo started; wait")
		cmd.Env = append(os.Environ(), "MINIDOCKER_ROOT="+f.root)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "started\n", line)

		cgs := p.containers(t)
		require.NotEmpty(t, cgs, "the running container's cgroups are not beneath %s", p)
		// Every process of the container, read before the first kill (the
		// init's death ends the rest of its PID namespace at once).
		pids := map[string]bool{}
		for _, dir := range cgs {
			data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
			require.NoError(t, err)
			for _, pid := range strings.Fields(string(data)) {
				pids[pid] = true
			}
		}
		require.GreaterOrEqual(t, len(pids), 2, "the shell and its sleep")
		for pid := range pids {
			n, _ := strconv.Atoi(pid)
			syscall.Kill(n, syscall.SIGKILL)
		}
		err = cmd.Wait()
		require.Equal(t, 137, cmd.ProcessState.ExitCode(), "wait: %v", err)
		p.requireEmpty(t)
	})
}
