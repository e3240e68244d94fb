package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// fakeV2 lays out a pure cgroup v2 host in a temp dir (format tests: no
// kernel involved): mountinfo with /sys/fs/cgroup as cgroup2, FSRoot at
// the temp dir, our own cgroup self, and the leaf pre-populated with the
// files the kernel would create in it. A plain directory takes no BPF
// program: attachDevices does nothing until the test ends (a test may
// replace it again to see the calls).
func fakeV2(t *testing.T, self, rootControllers string) (cfg Config, root, leaf string) {
	t.Helper()
	attachDevices = func(string, []DeviceRule) error { return nil }
	t.Cleanup(func() { attachDevices = attachDeviceProgram })
	dir := t.TempDir()
	root = filepath.Join(dir, "cgroup")
	require.NoError(t, os.MkdirAll(filepath.Join(root, self), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte(rootControllers+"\n"), 0o644))
	mi := filepath.Join(dir, "mountinfo")
	require.NoError(t, os.WriteFile(mi, []byte("30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"), 0o644))
	pc := filepath.Join(dir, "self-cgroup")
	require.NoError(t, os.WriteFile(pc, []byte("0::"+self+"\n"), 0o644))
	cfg = Config{ID: "mdk-fake", FSRoot: root, ProcSelfCgroup: pc, ProcSelfMountinfo: mi}
	leaf = filepath.Join(root, self, "minidocker", cfg.ID)
	require.NoError(t, os.MkdirAll(leaf, 0o755))
	for _, f := range []string{"memory.swap.max", "cgroup.procs", "cgroup.kill"} {
		require.NoError(t, os.WriteFile(filepath.Join(leaf, f), nil, 0o644))
	}
	return cfg, root, leaf
}

func readAll(t *testing.T, files []string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			got[f] = "<" + err.Error() + ">"
			continue
		}
		got[f] = string(data)
	}
	return got
}

func TestV2Format_Limits(t *testing.T) {
	tests := []struct {
		name string
		res  Resources
		want map[string]string // leaf file -> content
	}{
		{
			name: "docker run -m 64m --cpus 0.5 --cpu-shares 1024 --pids-limit 20",
			res:  Resources{Memory: 64 << 20, CPUQuota: 50000, CPUShares: 1024, PidsLimit: 20},
			want: map[string]string{"memory.max": "67108864", "memory.swap.max": "67108864",
				"cpu.max": "50000 100000", "cpu.weight": "39", "pids.max": "20"},
		},
		{
			name: "--memory-swap -1 is unlimited swap",
			res:  Resources{Memory: 64 << 20, MemorySwap: -1},
			want: map[string]string{"memory.max": "67108864", "memory.swap.max": "max"},
		},
		{
			name: "--memory-swap is memory plus swap",
			res:  Resources{Memory: 64 << 20, MemorySwap: 96 << 20},
			want: map[string]string{"memory.max": "67108864", "memory.swap.max": "33554432"},
		},
		{
			name: "--cpu-period and the largest --cpu-shares",
			res:  Resources{CPUQuota: 100000, CPUPeriod: 200000, CPUShares: 262144},
			want: map[string]string{"cpu.max": "100000 200000", "cpu.weight": "10000"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, leaf := fakeV2(t, "/user.slice/mdk-session", "cpuset cpu io memory hugetlb pids")
			cfg.Resources = tc.res
			m, err := New(cfg)
			require.NoError(t, err)
			require.Equal(t, 2, m.Version())
			var files []string
			want := map[string]string{}
			for f, v := range tc.want {
				files = append(files, filepath.Join(leaf, f))
				want[filepath.Join(leaf, f)] = v
			}
			if diff := cmp.Diff(want, readAll(t, files)); diff != "" {
				t.Errorf("New(%+v) wrote (-want +got):\n%s", tc.res, diff)
			}
			for _, c := range []string{"memory", "cpu", "cpuacct", "pids", "freezer"} {
				if got := m.Paths()[c]; got != leaf {
					t.Errorf("Paths()[%q] = %q, want the one v2 leaf %q", c, got, leaf)
				}
			}
		})
	}
}

func TestV2Format_SubtreeControl(t *testing.T) {
	tests := []struct {
		name        string
		self        string
		parent      string
		controllers string
		dirs        []string // relative to the root, each gets subtree_control
		want        string
	}{
		{"our own cgroup down to minidocker/", "/user.slice/mdk-session", "", "cpuset cpu io memory hugetlb pids",
			[]string{"user.slice/mdk-session", "user.slice/mdk-session/minidocker"}, "+memory +cpu +pids +io +cpuset"},
		{"--cgroup-parent: from the root down", "/user.slice/mdk-session", "/mdk-parent/web", "memory pids cpu",
			[]string{".", "mdk-parent", "mdk-parent/web", "mdk-parent/web/minidocker"}, "+memory +cpu +pids"},
		{"only the controllers the host has", "/", "", "memory io",
			[]string{".", "minidocker"}, "+memory +io"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, root, _ := fakeV2(t, tc.self, tc.controllers)
			cfg.Parent = tc.parent
			m, err := New(cfg)
			require.NoError(t, err)
			want, files := map[string]string{}, []string{}
			for _, d := range tc.dirs {
				f := filepath.Join(root, d, "cgroup.subtree_control")
				want[f] = tc.want
				files = append(files, f)
			}
			if diff := cmp.Diff(want, readAll(t, files)); diff != "" {
				t.Errorf("cgroup.subtree_control (-want +got):\n%s", diff)
			}
			leaf := filepath.Join(root, tc.parent, "minidocker", cfg.ID)
			if tc.parent == "" {
				leaf = filepath.Join(root, tc.self, "minidocker", cfg.ID)
			}
			require.Equal(t, leaf, m.Paths()["memory"])
			fd, ok := m.CgroupFD()
			require.True(t, ok, "a pure v2 host must offer CLONE_INTO_CGROUP")
			require.Greater(t, fd, 2)
			require.NoError(t, m.Destroy())
		})
	}
}

// TestV2Format_NoInternalProcesses: our own cgroup holds processes, so v2
// cannot give its controllers to a child; the error says what to do.
func TestV2Format_NoInternalProcesses(t *testing.T) {
	cfg, root, leaf := fakeV2(t, "/busy", "memory pids cpu")
	base := filepath.Join(root, "busy")
	require.NoError(t, os.RemoveAll(leaf))
	require.NoError(t, os.WriteFile(filepath.Join(base, "cgroup.procs"), []byte("1234\n"), 0o644))
	// Like the kernel (EBUSY), refuse the write into subtree_control.
	require.NoError(t, os.Mkdir(filepath.Join(base, "cgroup.subtree_control"), 0o755))
	_, err := New(cfg)
	require.ErrorIs(t, err, ErrInternalProcesses)
	require.Contains(t, err.Error(), "--cgroup-parent")
	_, err = os.Stat(leaf)
	require.ErrorIs(t, err, os.ErrNotExist, "a failed New must leave nothing behind")
}

// TestV2Format_DestroyWritesCgroupKill: Destroy writes cgroup.kill and
// waits until cgroup.procs is empty (the test plays the kernel).
func TestV2Format_DestroyWritesCgroupKill(t *testing.T) {
	cfg, _, leaf := fakeV2(t, "/user.slice/mdk-session", "memory pids cpu io")
	m, err := New(cfg)
	require.NoError(t, err)
	const pid = 4194304 // above pid_max's largest value: no real process
	require.NoError(t, m.Apply(pid))
	done := make(chan error, 1)
	go func() { done <- m.Destroy() }()

	kill := filepath.Join(leaf, "cgroup.kill")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if data, _ := os.ReadFile(kill); string(data) == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Destroy did not write 1 to %s", kill)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Destroy returned (%v) while cgroup.procs still listed %d", err, pid)
	case <-time.After(50 * time.Millisecond):
	}
	require.NoError(t, os.WriteFile(filepath.Join(leaf, "cgroup.procs"), nil, 0o644)) // the kernel killed it
	require.NoError(t, <-done)
	_, err = os.Stat(leaf)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestV2Format_Stats(t *testing.T) {
	cfg, _, leaf := fakeV2(t, "/user.slice/mdk-session", "memory pids cpu io")
	m, err := New(cfg)
	require.NoError(t, err)
	for f, v := range map[string]string{
		"memory.current": "1000\n", "memory.peak": "5000\n", "pids.current": "3\n",
		"memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n",
		"cpu.stat":      "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n",
		"io.stat":       "254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(leaf, f), []byte(v), 0o644))
	}
	s, err := m.Stats()
	require.NoError(t, err)
	if diff := cmp.Diff(&Stats{MemoryUsage: 1000, MemoryPeak: 5000, OOMKills: 1, CPUUsage: 2500 * time.Millisecond, Pids: 3,
		IORead: 4096, IOWrite: 8192}, s); diff != "" {
		t.Errorf("Stats() mismatch (-want +got):\n%s", diff)
	}
	oom, err := m.OOMKilled()
	require.NoError(t, err)
	require.True(t, oom, "memory.events says oom_kill 1")
}

// fakeHybrid is a host laid out like the course VM: memory, cpu, cpuacct,
// cpuset, pids and freezer on v1, and a v2 tree holding only hugetlb. The
// cpuset root has CPUs 0-1 and memory node 0, as the kernel fills it.
func fakeHybrid(t *testing.T) (cfg Config, root string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "cgroup")
	var mi strings.Builder
	for i, c := range []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "freezer"} {
		fmt.Fprintf(&mi, "%d 25 0:%d / /sys/fs/cgroup/%s rw,relatime - cgroup cgroup rw,%s\n", 30+i, 30+i, c, c)
	}
	mi.WriteString("40 25 0:40 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n")
	mi.WriteString("41 25 0:41 / /elsewhere rw - cgroup cgroup rw,memory\n")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "unified"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "unified", "cgroup.controllers"), []byte("hugetlb\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mountinfo"), []byte(mi.String()), 0o644))
	self := "9:name=systemd:/\n6:cpuset:/\n5:memory:/process_api/ab12\n4:pids:/\n3:cpu:/\n2:cpuacct:/\n1:freezer:/\n0::/\n"
	require.NoError(t, os.MkdirAll(filepath.Join(root, "cpuset"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "cpuset", "cpuset.cpus"), []byte("0-1\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "cpuset", "cpuset.mems"), []byte("0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "self-cgroup"), []byte(self), 0o644))
	return Config{ID: "mdk-fake", FSRoot: root, ProcSelfCgroup: filepath.Join(dir, "self-cgroup"),
		ProcSelfMountinfo: filepath.Join(dir, "mountinfo")}, root
}

func TestHybridDetection(t *testing.T) {
	cfg, root := fakeHybrid(t)
	hs, err := hierarchies(cfg)
	require.NoError(t, err)
	got := map[string]string{}
	for _, h := range hs {
		require.False(t, h.v2, "the v2 tree holds none of our controllers and must not be used")
		for _, c := range h.controllers {
			got[c] = h.dir
		}
	}
	want := map[string]string{
		"memory": root + "/memory/process_api/ab12/minidocker/mdk-fake", "pids": root + "/pids/minidocker/mdk-fake",
		"cpu": root + "/cpu/minidocker/mdk-fake", "cpuacct": root + "/cpuacct/minidocker/mdk-fake",
		"freezer": root + "/freezer/minidocker/mdk-fake", "cpuset": root + "/cpuset/minidocker/mdk-fake",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("controllers -> cgroup dirs mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadPaths(t *testing.T) {
	cfg, root := fakeHybrid(t)
	tests := []struct {
		name    string
		paths   map[string]string
		want    string // memory's dir
		wantErr bool
	}{
		{"recomputed from our own cgroup", nil, root + "/memory/process_api/ab12/minidocker/mdk-fake", false},
		{"from the stored paths", map[string]string{"memory": root + "/memory/process_api/cd34/minidocker/mdk-fake"},
			root + "/memory/process_api/cd34/minidocker/mdk-fake", false},
		{"a stored path outside the tree", map[string]string{"memory": "/etc/minidocker/mdk-fake"}, "", true},
		{"a stored path that is not minidocker/<id>", map[string]string{"memory": root + "/memory/process_api"}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.Paths = tc.paths
			m, err := Load(c)
			if tc.wantErr {
				require.Error(t, err, "Load(Paths: %v)", tc.paths)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, m.Paths()["memory"])
			_, ok := m.CgroupFD()
			require.False(t, ok, "no CLONE_INTO_CGROUP on a v1 host")
			require.Equal(t, 1, m.Version())
		})
	}
}

func TestNoControllers(t *testing.T) {
	dir := t.TempDir()
	mi, pc := filepath.Join(dir, "mountinfo"), filepath.Join(dir, "cgroup")
	require.NoError(t, os.WriteFile(mi, []byte("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"), 0o644))
	require.NoError(t, os.WriteFile(pc, []byte("0::/\n"), 0o644))
	_, err := New(Config{ID: "mdk-fake", FSRoot: dir, ProcSelfCgroup: pc, ProcSelfMountinfo: mi})
	if !errors.Is(err, ErrNoController) {
		t.Errorf("New on a host without cgroups = %v, want ErrNoController", err)
	}
}

// TestPath: an OCI runtime's linux.cgroupsPath names the cgroup itself, as
// runc reads it: from the root of each tree when absolute, beneath our own
// cgroup when relative; never minidocker/<ID>.
func TestPath(t *testing.T) {
	cfg, root := fakeHybrid(t)
	tests := []struct {
		name, path string
		want       map[string]string // controller -> dir
		wantErr    bool
	}{
		{"absolute: from each tree's root", "/mdk-engine/ctr1", map[string]string{
			"memory": root + "/memory/mdk-engine/ctr1", "pids": root + "/pids/mdk-engine/ctr1",
		}, false},
		{"relative: beneath our own cgroup", "mdk-engine/ctr1", map[string]string{
			"memory": root + "/memory/process_api/ab12/mdk-engine/ctr1", "pids": root + "/pids/mdk-engine/ctr1",
		}, false},
		{"no way up", "/mdk-engine/../../etc", nil, true},
		{"not the root itself", "/", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			c.Path = tc.path
			hs, err := hierarchies(c)
			if err == nil {
				err = defaults(&c)
			}
			if tc.wantErr {
				require.Error(t, err, "Path %q", tc.path)
				return
			}
			require.NoError(t, err)
			got := map[string]string{}
			for _, h := range hs {
				for _, ctl := range h.controllers {
					if tc.want[ctl] != "" {
						got[ctl] = h.dir
					}
				}
			}
			require.Equal(t, tc.want, got)
			// Load accepts the same paths back, and nothing else.
			m, err := Load(c)
			require.NoError(t, err)
			require.Equal(t, tc.want["memory"], m.Paths()["memory"])
			c.Paths = map[string]string{"memory": root + "/memory/process_api"}
			_, err = Load(c)
			require.Error(t, err, "a stored path that is not the cgroups path must be refused")
		})
	}
}
