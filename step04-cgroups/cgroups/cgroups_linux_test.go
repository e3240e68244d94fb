package cgroups

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"minidocker/internal/testkit"
)

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "mdk-test-" + hex.EncodeToString(b)
}

// newManager creates a container's cgroups with r beneath our own cgroup
// and destroys them when the test ends, also when it fails.
func newManager(t *testing.T, r Resources) Manager {
	t.Helper()
	testkit.RequireRoot(t)
	m, err := New(Config{ID: newID(), Resources: r})
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		requireGone(t, m)
	})
	return m
}

// requireGone fails t if any of m's directories is left.
func requireGone(t *testing.T, m Manager) {
	t.Helper()
	for c, dir := range m.Paths() {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s cgroup %s remains after Destroy (stat: %v)", c, dir, err)
		}
	}
}

// startPlaced starts cmd with a pipe as its stdin, places it in m, then
// sends the go-ahead byte: the process reads it before doing anything, so
// nothing it does happens outside the cgroup.
func startPlaced(t *testing.T, m Manager, cmd *exec.Cmd) (wait func() error) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var res error
	done := false
	wait = func() error {
		if !done {
			res, done = <-exited, true
		}
		return res
	}
	t.Cleanup(func() { cmd.Process.Kill(); wait() })
	require.NoError(t, m.Apply(cmd.Process.Pid))
	_, err = stdin.Write([]byte("g\n"))
	require.NoError(t, err)
	return wait
}

// helperCmd re-executes the test binary as one of TestMain's helpers.
func helperCmd(mode string) (*exec.Cmd, *strings.Builder) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "MDK_CGTEST="+mode)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

// TestThisHostsDriverRan asserts which branch ran here, so that CI can
// never run neither: on a pure v2 host (/sys/fs/cgroup is cgroup2) the
// v2 driver writes memory.max; on a v1 or hybrid host like the course VM
// the v1 driver writes memory.limit_in_bytes.
func TestThisHostsDriverRan(t *testing.T) {
	m := newManager(t, Resources{Memory: 64 << 20})
	var st unix.Statfs_t
	require.NoError(t, unix.Statfs(DefaultFSRoot, &st))
	pureV2 := st.Type == unix.CGROUP2_SUPER_MAGIC
	dir := m.Paths()["memory"]
	file, wantVersion := "memory.limit_in_bytes", []int{1, 12}
	if pureV2 {
		file, wantVersion = "memory.max", []int{2}
	}
	require.Contains(t, wantVersion, m.Version(), "statfs(%s) magic %#x", DefaultFSRoot, st.Type)
	got, err := readFile(dir, file)
	require.NoError(t, err, "the driver for this host did not write %s", file)
	require.Equal(t, strconv.Itoa(64<<20), got, file)
	t.Logf("cgroup version %d (pure v2: %v); memory cgroup %s", m.Version(), pureV2, dir)
}

// TestUnderOwnCgroup: each controller's cgroup is <own>/minidocker/<id>.
func TestUnderOwnCgroup(t *testing.T) {
	m := newManager(t, Resources{})
	own, err := readOwnCgroups("/proc/self/cgroup")
	require.NoError(t, err)
	for c, dir := range m.Paths() {
		key := c
		if m.Version() == 2 {
			key = ""
		}
		if want := filepath.Join(own[key], "minidocker") + "/"; !strings.Contains(dir, want) {
			t.Errorf("%s cgroup %s is not beneath our own %s", c, dir, want)
		}
	}
}

// TestCgroupParent: --cgroup-parent puts minidocker/<id> under that path,
// from the root of each tree when it starts with "/", beneath our own
// cgroup when it does not (as Docker reads it); Destroy leaves the parent,
// as Docker does. ".." is refused.
func TestCgroupParent(t *testing.T) {
	testkit.RequireRoot(t)
	own, err := readOwnCgroups("/proc/self/cgroup")
	require.NoError(t, err)
	for _, abs := range []bool{true, false} {
		t.Run(fmt.Sprintf("absolute=%v", abs), func(t *testing.T) {
			parent := newID() + "-parent/sub"
			if abs {
				parent = "/" + parent
			}
			m, err := New(Config{ID: newID(), Parent: parent, Resources: Resources{PidsLimit: 10}})
			require.NoError(t, err)
			t.Cleanup(func() {
				require.NoError(t, m.Destroy())
				for _, dir := range m.Paths() {
					// the parents: ours to remove in a test
					os.Remove(filepath.Dir(filepath.Dir(dir)))
					os.Remove(filepath.Dir(filepath.Dir(filepath.Dir(dir))))
				}
			})
			for c, dir := range m.Paths() {
				want := parent
				if !abs {
					key := c
					if m.Version() == 2 {
						key = ""
					}
					want = filepath.Join(own[key], parent)
				}
				mount := dir[:strings.Index(dir, want+"/minidocker/")+1]
				if !strings.HasSuffix(dir, want+"/minidocker/"+filepath.Base(dir)) || !strings.HasPrefix(mount, DefaultFSRoot) {
					t.Errorf("%s cgroup %s is not at <mount>%s/minidocker/<id>", c, dir, want)
				}
			}
			got, err := readFile(m.Paths()["pids"], "pids.max")
			require.NoError(t, err)
			require.Equal(t, "10", got)
		})
	}
	_, err = New(Config{ID: newID(), Parent: "a/../../escape"})
	require.ErrorContains(t, err, `invalid --cgroup-parent "a/../../escape"`)
}

func TestLimitsReadBack(t *testing.T) {
	m := newManager(t, Resources{Memory: 32 << 20, CPUQuota: 50000, CPUShares: 512, PidsLimit: 20})
	p := m.Paths()
	type file struct{ dir, name string }
	want := map[file]string{
		{p["memory"], "memory.limit_in_bytes"}: "33554432", {p["memory"], "memory.memsw.limit_in_bytes"}: "67108864",
		{p["cpu"], "cpu.cfs_quota_us"}: "50000", {p["cpu"], "cpu.cfs_period_us"}: "100000",
		{p["cpu"], "cpu.shares"}: "512", {p["pids"], "pids.max"}: "20",
	}
	if m.Version() == 2 {
		want = map[file]string{
			{p["memory"], "memory.max"}: "33554432", {p["memory"], "memory.swap.max"}: "33554432",
			{p["cpu"], "cpu.max"}: "50000 100000", {p["cpu"], "cpu.weight"}: "20", {p["pids"], "pids.max"}: "20",
		}
	}
	for f, v := range want {
		got, err := readFile(f.dir, f.name)
		require.NoError(t, err, "read %s", f.name)
		if got != v {
			t.Errorf("%s = %q, want %q", filepath.Join(f.dir, f.name), got, v)
		}
	}
	// Raising the limit past the old memsw needs memsw first (v1).
	r := Resources{Memory: 128 << 20}
	require.NoError(t, m.Set(r), "raise -m from 32m to 128m")
	limitFile := "memory.limit_in_bytes"
	if m.Version() == 2 {
		limitFile = "memory.max"
	}
	got, err := readFile(p["memory"], limitFile)
	require.NoError(t, err)
	require.Equal(t, "134217728", got, "%s after raising -m to 128m", limitFile)
}

func TestOOMKill(t *testing.T) {
	tests := []struct {
		name    string
		memory  int64
		wantOOM bool
	}{
		{"64 MB under -m 32m is OOM-killed", 32 << 20, true},
		{"64 MB under -m 128m exits 0", 128 << 20, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newManager(t, Resources{Memory: tc.memory})
			cmd, out := helperCmd("alloc:64")
			err := startPlaced(t, m, cmd)()
			oom, serr := m.OOMKilled()
			require.NoError(t, serr)
			if !tc.wantOOM {
				require.NoError(t, err, "allocating 64 MB under %d MB: %s", tc.memory>>20, out)
				require.False(t, oom, "OOMKilled() = true, but nothing was killed")
				s, err := m.Stats()
				require.NoError(t, err)
				require.Greater(t, s.MemoryPeak, uint64(64<<20), "peak memory %d: was the helper charged to the cgroup?", s.MemoryPeak)
				return
			}
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Errorf("allocating 64 MB under 32 MB: %v (%s), want death by SIGKILL", err, out)
			}
			require.True(t, oom, "OOMKilled() = false after an OOM kill")
		})
	}
}

// TestPidsLimit runs a fork bomb under --pids-limit 20: pids.current never
// passes 20, the kernel refuses forks (pids.events max), the host can still
// fork, and Destroy kills everything.
func TestPidsLimit(t *testing.T) {
	m := newManager(t, Resources{PidsLimit: 20})
	cmd := exec.Command("/bin/sh", "-c", `read go; while :; do sleep 30 & done 2>/dev/null`)
	wait := startPlaced(t, m, cmd)

	var peak uint64
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
		s, err := m.Stats()
		require.NoError(t, err)
		peak = max(peak, s.Pids)
		time.Sleep(2 * time.Millisecond)
	}
	if peak > 20 {
		t.Errorf("pids.current reached %d, over the limit of 20", peak)
	}
	if peak < 15 {
		t.Errorf("pids.current peaked at %d: the fork bomb never pressed the limit", peak)
	}
	refused, err := readKey(m.Paths()["pids"], "pids.events", "max")
	require.NoError(t, err)
	require.NotZero(t, refused, "pids.events max: the kernel never refused a fork")
	require.NoError(t, exec.Command("/bin/true").Run(), "the host cannot fork any more")

	require.NoError(t, m.Destroy())
	requireGone(t, m)
	if err := wait(); err == nil {
		t.Errorf("the fork bomb's shell exited 0, want killed")
	}
}

func TestCPUQuota(t *testing.T) {
	cpus, err := ParseCPUs("0.5")
	require.NoError(t, err)
	m := newManager(t, Resources{CPUQuota: cpus})
	cmd, out := helperCmd("spin:2")
	start := time.Now()
	require.NoError(t, startPlaced(t, m, cmd)(), "spin: %s", out)
	wall := time.Since(start)
	s, err := m.Stats()
	require.NoError(t, err)
	// The quota is a ceiling: at most half a CPU of the wall time (some
	// slack for the period's edges). Other tests share this machine, so the
	// loop may get less than its half; it must have run at all, though.
	if ratio := float64(s.CPUUsage) / float64(wall); ratio > 0.6 || s.CPUUsage < 250*time.Millisecond {
		t.Errorf("2 s of busy loop under --cpus 0.5 used %v of CPU in %v wall (%.2f CPUs), want at most 0.6 CPUs and some use", s.CPUUsage, wall, ratio)
	}
	t.Logf("CPU %v in %v wall", s.CPUUsage, wall)
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}

func TestDestroy(t *testing.T) {
	testkit.RequireRoot(t)
	tests := []struct {
		name string
		// destroy gets the container's shell; it kills what it wants and
		// destroys the cgroups its own way.
		destroy func(t *testing.T, m Manager, cmd *exec.Cmd, wait func() error) error
	}{
		{"with live processes", func(t *testing.T, m Manager, _ *exec.Cmd, _ func() error) error {
			return m.Destroy()
		}},
		{"after SIGKILL of the processes", func(t *testing.T, m Manager, cmd *exec.Cmd, wait func() error) error {
			pids, err := m.(*manager).procs()
			require.NoError(t, err)
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			wait()
			return m.Destroy()
		}},
		{"rm -f: Load from the stored paths after SIGKILL of the init", func(t *testing.T, m Manager, cmd *exec.Cmd, wait func() error) error {
			cmd.Process.Kill()
			wait()
			l, err := Load(Config{ID: filepath.Base(m.Paths()["memory"]), Paths: m.Paths()})
			require.NoError(t, err)
			return l.Destroy()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(Config{ID: newID(), Resources: Resources{PidsLimit: 50}})
			require.NoError(t, err)
			t.Cleanup(func() { m.Destroy() })
			cmd := exec.Command("/bin/sh", "-c", "read go; sleep 60 & sleep 60 & wait")
			wait := startPlaced(t, m, cmd)
			var pids []int
			for end := time.Now().Add(5 * time.Second); len(pids) < 3 && time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
				pids, err = m.(*manager).procs()
				require.NoError(t, err)
			}
			require.Len(t, pids, 3, "the shell and its two sleepers in the cgroup")

			require.NoError(t, tc.destroy(t, m, cmd, wait))
			requireGone(t, m)
			for _, pid := range pids {
				if alive(pid) {
					t.Errorf("process %d is alive after Destroy", pid)
				}
			}
			require.NoError(t, m.Destroy(), "a second Destroy")
		})
	}
}

// BenchmarkLifecycle: New with three limits, Apply a sleeping process,
// Destroy (which kills it).
func BenchmarkLifecycle(b *testing.B) {
	testkit.RequireRoot(b)
	for b.Loop() {
		b.StopTimer()
		cmd := exec.Command("sleep", "600")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		m, err := New(Config{ID: newID(), Resources: Resources{Memory: 64 << 20, CPUQuota: 50000, PidsLimit: 100}})
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatal(err)
		}
		if err := m.Apply(cmd.Process.Pid); err != nil {
			cmd.Process.Kill()
			m.Destroy()
			b.Fatal(err)
		}
		err = m.Destroy()
		b.StopTimer()
		cmd.Process.Kill()
		cmd.Wait()
		b.StartTimer()
		if err != nil {
			b.Fatal(err)
		}
	}
}
