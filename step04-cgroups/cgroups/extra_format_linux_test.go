package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func swappiness(v uint64) *uint64 { return &v }

// TestV1Format_CpusetAndMemory: on v1 every cpuset directory New creates
// gets its parent's cpus and mems (or no process could join it), from the
// top down, asked for a cpuset or not; then the container's own values
// and the extra memory files.
func TestV1Format_CpusetAndMemory(t *testing.T) {
	tests := []struct {
		name   string
		path   string            // Config.Path
		preset map[string]string // file (relative to root) -> content before New
		res    Resources
		want   map[string]string // file (relative to root) -> content after New
	}{
		{
			name: "no cpuset asked: minidocker/ and the leaf still get the parent's",
			want: map[string]string{
				"cpuset/minidocker/cpuset.cpus": "0-1", "cpuset/minidocker/cpuset.mems": "0",
				"cpuset/minidocker/mdk-fake/cpuset.cpus": "0-1", "cpuset/minidocker/mdk-fake/cpuset.mems": "0",
				"memory/process_api/ab12/minidocker/mdk-fake/memory.soft_limit_in_bytes": "<missing>",
				"memory/process_api/ab12/minidocker/mdk-fake/memory.swappiness":          "<missing>",
				"memory/process_api/ab12/minidocker/mdk-fake/memory.oom_control":         "<missing>",
			},
		},
		{
			name: "--cpuset-cpus 1 --cpuset-mems 0 --memory-reservation 32m --memory-swappiness 0 --oom-kill-disable",
			res: Resources{CpusetCpus: "1", CpusetMems: "0", MemoryReservation: 32 << 20,
				MemorySwappiness: swappiness(0), OOMKillDisable: true},
			want: map[string]string{
				"cpuset/minidocker/cpuset.cpus": "0-1", "cpuset/minidocker/cpuset.mems": "0",
				"cpuset/minidocker/mdk-fake/cpuset.cpus": "1", "cpuset/minidocker/mdk-fake/cpuset.mems": "0",
				"memory/process_api/ab12/minidocker/mdk-fake/memory.soft_limit_in_bytes": "33554432",
				"memory/process_api/ab12/minidocker/mdk-fake/memory.swappiness":          "0",
				"memory/process_api/ab12/minidocker/mdk-fake/memory.oom_control":         "1",
			},
		},
		{
			name: "cgroupsPath /a/b/c: each level copies its own parent, a set one is kept",
			path: "/a/b/c",
			// The engine above us pinned /a to CPU 1 already.
			preset: map[string]string{"cpuset/a/cpuset.cpus": "1\n"},
			res:    Resources{CpusetMems: "0"},
			want: map[string]string{
				"cpuset/a/cpuset.cpus": "1\n", "cpuset/a/cpuset.mems": "0",
				"cpuset/a/b/cpuset.cpus": "1", "cpuset/a/b/cpuset.mems": "0",
				"cpuset/a/b/c/cpuset.cpus": "1", "cpuset/a/b/c/cpuset.mems": "0",
				"cpuset/minidocker/cpuset.cpus": "<missing>",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, root := fakeHybrid(t)
			cfg.Path = tc.path
			cfg.Resources = tc.res
			cfg.Resources.Devices.AllowAll = true // the fake host has no devices tree
			for f, v := range tc.preset {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(root, f), []byte(v), 0o644))
			}
			m, err := New(cfg)
			require.NoError(t, err)
			got := map[string]string{}
			for f := range tc.want {
				data, err := os.ReadFile(filepath.Join(root, f))
				switch {
				case errors.Is(err, os.ErrNotExist):
					got[f] = "<missing>"
				case err != nil:
					got[f] = "<" + err.Error() + ">"
				default:
					got[f] = string(data)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("New(Path %q, %+v) wrote (-want +got):\n%s", tc.path, tc.res, diff)
			}
			leaf := filepath.Join(root, "cpuset", tc.path)
			if tc.path == "" {
				leaf = filepath.Join(root, "cpuset/minidocker/mdk-fake")
			}
			require.Equal(t, leaf, m.Paths()["cpuset"])
		})
	}
}

// TestV2Format_CpusetAndMemory: v2 has memory.low and cpuset.cpus/mems but
// nothing to copy (an empty cpuset is the parent's); swappiness and the
// OOM switch do not exist there, and asking for them is an error naming
// them, before anything is written.
func TestV2Format_CpusetAndMemory(t *testing.T) {
	cfg, root, leaf := fakeV2(t, "/user.slice/mdk-session", "cpuset cpu io memory pids")
	cfg.Resources = Resources{MemoryReservation: 32 << 20, CpusetCpus: "0-1", CpusetMems: "0"}
	m, err := New(cfg)
	require.NoError(t, err)
	require.Equal(t, leaf, m.Paths()["cpuset"])
	parent := filepath.Join(root, "user.slice/mdk-session/minidocker")
	files := []string{filepath.Join(leaf, "memory.low"), filepath.Join(leaf, "cpuset.cpus"), filepath.Join(leaf, "cpuset.mems"),
		filepath.Join(parent, "cpuset.cpus"), filepath.Join(parent, "cgroup.subtree_control")}
	want := map[string]string{files[0]: "33554432", files[1]: "0-1", files[2]: "0",
		files[3]: "<open " + files[3] + ": no such file or directory>", files[4]: "+memory +cpu +pids +io +cpuset"}
	if diff := cmp.Diff(want, readAll(t, files)); diff != "" {
		t.Errorf("New wrote (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name string
		res  Resources
		want string
	}{
		{"--memory-swappiness", Resources{MemoryReservation: 1 << 20, MemorySwappiness: swappiness(10)}, "memory.swappiness"},
		{"--oom-kill-disable", Resources{MemoryReservation: 1 << 20, OOMKillDisable: true}, "memory.oom_control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, os.Remove(files[0]))
			err := m.Set(tc.res)
			require.ErrorIs(t, err, errors.ErrUnsupported)
			require.ErrorContains(t, err, tc.want)
			_, err = os.Stat(files[0])
			require.ErrorIs(t, err, os.ErrNotExist, "a refused Set must write nothing")
			require.NoError(t, os.WriteFile(files[0], nil, 0o644))
		})
	}
}

func TestV1Format_BadSwappiness(t *testing.T) {
	cfg, _ := fakeHybrid(t)
	cfg.Resources = Resources{MemorySwappiness: swappiness(101), Devices: Devices{AllowAll: true}}
	_, err := New(cfg)
	require.ErrorContains(t, err, "invalid memory swappiness 101")
}
