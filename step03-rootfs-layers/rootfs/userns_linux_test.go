package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOwnCgroupDir: the host directory bound for a hierarchy in a user
// namespace is our own cgroup's in that hierarchy, found by the same
// controller list the host's mount has.
func TestOwnCgroupDir(t *testing.T) {
	procCgroup := filepath.Join(t.TempDir(), "cgroup")
	data := "12:cpu,cpuacct:/mdk/a\n9:name=systemd:/s\n4:memory:/mdk/m\n0::/unified/u\n"
	if err := os.WriteFile(procCgroup, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		h    cgroupMount
		want string
	}{
		{cgroupMount{dir: "cpu,cpuacct", fstype: "cgroup", options: "cpu,cpuacct"}, "/sys/fs/cgroup/cpu,cpuacct/mdk/a"},
		{cgroupMount{dir: "memory", fstype: "cgroup", options: "memory"}, "/sys/fs/cgroup/memory/mdk/m"},
		{cgroupMount{dir: "systemd", fstype: "cgroup", options: "name=systemd"}, "/sys/fs/cgroup/systemd/s"},
		{cgroupMount{dir: "unified", fstype: "cgroup2"}, "/sys/fs/cgroup/unified/unified/u"},
		{cgroupMount{dir: "", fstype: "cgroup2"}, "/sys/fs/cgroup/unified/u"},
	} {
		got, err := ownCgroupDir(procCgroup, tc.h)
		if err != nil || got != tc.want {
			t.Errorf("ownCgroupDir(%+v) = %q, %v; want %q", tc.h, got, err, tc.want)
		}
	}
	if got, err := ownCgroupDir(procCgroup, cgroupMount{dir: "pids", fstype: "cgroup", options: "pids"}); err == nil {
		t.Errorf("ownCgroupDir(pids) = %q, want an error: no pids hierarchy listed", got)
	}
}
