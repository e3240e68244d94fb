package cgroups

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// startSleep starts sleep 60 and places it in m; it is killed when the
// test ends.
func startSleep(t *testing.T, m Manager) int {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	require.NoError(t, m.Apply(cmd.Process.Pid))
	return cmd.Process.Pid
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return strings.TrimSpace(string(data))
}

// cpusAllowed is Cpus_allowed_list of /proc/<pid>/status: where the
// kernel lets the process run.
func cpusAllowed(t *testing.T, pid int) string {
	t.Helper()
	status := readTrim(t, fmt.Sprintf("/proc/%d/status", pid))
	m := regexp.MustCompile(`(?m)^Cpus_allowed_list:\s*(\S+)`).FindStringSubmatch(status)
	require.NotNil(t, m, "no Cpus_allowed_list in /proc/%d/status", pid)
	return m[1]
}

// TestCpusetAndMemoryExtra: --cpuset-cpus 0 pins the process to CPU 0,
// the soft limit, swappiness and the OOM switch land in the memory files
// (v1: this host).
func TestCpusetAndMemoryExtra(t *testing.T) {
	testkit.RequireRoot(t)
	m := newManager(t, Resources{CpusetCpus: "0", MemoryReservation: 32 << 20,
		MemorySwappiness: swappiness(7), OOMKillDisable: true})
	if m.Version() == 2 {
		t.Skipf("this test reads cgroup v1 files; v2 is covered by TestV2Format_CpusetAndMemory")
	}
	pid := startSleep(t, m)
	cs, mem := m.Paths()["cpuset"], m.Paths()["memory"]
	require.NotEmpty(t, cs, "no cpuset cgroup")
	require.Contains(t, strings.Fields(readTrim(t, filepath.Join(cs, "cgroup.procs"))), strconv.Itoa(pid))
	require.Equal(t, "0", readTrim(t, filepath.Join(cs, "cpuset.cpus")))
	require.Equal(t, readTrim(t, filepath.Join(filepath.Dir(cs), "cpuset.mems")), readTrim(t, filepath.Join(cs, "cpuset.mems")),
		"the leaf's memory nodes are its parent's")
	require.Equal(t, "0", cpusAllowed(t, pid))
	require.Equal(t, strconv.Itoa(32<<20), readTrim(t, filepath.Join(mem, "memory.soft_limit_in_bytes")))
	require.Equal(t, "7", readTrim(t, filepath.Join(mem, "memory.swappiness")))
	require.Contains(t, readTrim(t, filepath.Join(mem, "memory.oom_control")), "oom_kill_disable 1")
}

// TestCpusetPathJoinable: with a cgroups path three levels deep and no
// cpuset asked for, every level New made still has CPUs and memory
// nodes, so the process can join (an empty v1 cpuset says ENOSPC), and it
// may run on all of its parent's CPUs.
func TestCpusetPathJoinable(t *testing.T) {
	testkit.RequireRoot(t)
	top := newID()
	path := top + "/b/c" // beneath our own cgroup in each tree
	cfg := Config{ID: top, Path: path}
	// Where New will make them (Load creates nothing): b and top are the
	// engine's to remove, here the test's, also when New fails half-way.
	planned, err := Load(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		for _, dir := range planned.Paths() {
			for _, d := range []string{filepath.Dir(dir), filepath.Dir(filepath.Dir(dir))} {
				if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
					t.Errorf("remove %s: %v", d, err)
				}
			}
		}
	})
	m, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("Destroy: %v", err)
		}
		requireGone(t, m)
	})
	cs := m.Paths()["cpuset"]
	if cs == "" || m.Version() == 2 {
		t.Skipf("no v1 cpuset tree: nothing to copy")
	}
	pid := startSleep(t, m)
	root := readTrim(t, filepath.Join(strings.TrimSuffix(cs, "/"+path), "cpuset.cpus"))
	for d := cs; d != filepath.Dir(strings.TrimSuffix(cs, "/b/c")); d = filepath.Dir(d) {
		require.Equal(t, root, readTrim(t, filepath.Join(d, "cpuset.cpus")), d)
		require.NotEmpty(t, readTrim(t, filepath.Join(d, "cpuset.mems")), d)
	}
	require.Equal(t, root, cpusAllowed(t, pid))
}
