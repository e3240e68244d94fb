package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// inUserNamespace reports whether the init runs in a user namespace of its
// own (an OCI bundle's "user" namespace), as runc's userns.RunningInUserNS
// does: the initial user namespace maps all 2^32-1 IDs onto themselves,
// "0 0 4294967295" in /proc/self/uid_map; any other map is a namespace's.
func inUserNamespace() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false // no user namespaces in this kernel
	}
	return strings.Join(strings.Fields(string(data)), " ") != "0 0 4294967295"
}

// bindDevice gives the container device d in a user namespace: root there
// may not mknod(2) a device node (EPERM: a node would open the host's
// device whatever the namespace), so, as runc does, an empty file is made
// at d.Path and the host's own node at the same path is bind-mounted onto
// it. The node keeps the host's owner and mode: d's are not applied (runc
// does not either). A node that exists already is kept, as makeDevice
// keeps it.
func bindDevice(root *os.Root, d Device) error {
	if !filepath.IsAbs(d.Path) {
		return fmt.Errorf("device %s: path must be absolute", d.Path)
	}
	name, err := resolveIn(root.Name(), d.Path)
	if err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	if _, err := root.Lstat(name); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	if err := bindAt(root, name, d.Path, false, 0, nil, 0); err != nil {
		return fmt.Errorf("device %s: bind the host's node (no mknod in a user namespace): %w", d.Path, err)
	}
	return nil
}

// mountCgroup mounts the host's cgroup hierarchy h at name inside root
// (mountCgroups). In a user namespace the kernel allows mount(2) of a
// cgroup filesystem only in a cgroup namespace that the user namespace
// owns; without one (the bundle lists no "cgroup" namespace) it says
// EPERM. Then, as runc does, the host's directory of the init's own
// cgroup in that hierarchy is bound there instead: the container sees its
// cgroup and what is below it, as a cgroup namespace would show it.
func mountCgroup(root *os.Root, name string, h cgroupMount, flags uintptr) error {
	err := mountAt(root, name, h.fstype, h.fstype, flags, h.options)
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EPERM) || !inUserNamespace() {
		return fmt.Errorf("mount -t %s -o %s: %w", h.fstype, h.options, err)
	}
	source, err := ownCgroupDir("/proc/self/cgroup", h)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := bindAt(root, name, source, true, 0, nil, flags); err != nil {
		return fmt.Errorf("%s: bind %s (no cgroup mount in a user namespace without a cgroup namespace): %w", name, source, err)
	}
	return nil
}

// ownCgroupDir is the host's directory of our cgroup in hierarchy h, from
// cgroups(7)'s /proc/self/cgroup ("4:memory:/minidocker/abc": the
// hierarchy's controllers as h.options names them, "0::" for cgroup2) and
// the host's mount of h under /sys/fs/cgroup.
func ownCgroupDir(procCgroup string, h cgroupMount) (string, error) {
	data, err := os.ReadFile(procCgroup)
	if err != nil {
		return "", err
	}
	want := h.options
	if h.fstype == "cgroup2" {
		want = ""
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[1] == want {
			return filepath.Join("/sys/fs/cgroup", h.dir, parts[2]), nil
		}
	}
	return "", fmt.Errorf("no %q hierarchy in %s", want, procCgroup)
}
