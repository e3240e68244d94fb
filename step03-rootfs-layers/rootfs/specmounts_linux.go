package rootfs

import (
	"fmt"
	"maps"
	"os"
	"path"
	"slices"

	"golang.org/x/sys/unix"

	"minidocker/step02-namespaces/namespaces"
)

// mountSpecs mounts a spec's mounts inside root, in the spec's order (a
// later one may sit on an earlier: /dev/pts on /dev), then fills /dev as
// runc does: DefaultDevices and devices, the ptmx link to the devpts's own,
// fd, stdin, stdout, stderr and core. Only a spec that binds the host's
// /dev keeps what it has. Nothing is mounted that the spec does not list:
// no /dev/pts, no /dev/shm of our own.
func mountSpecs(root *os.Root, mounts []SpecMount, devices []Device, newNet bool) error {
	setupDev, devFlags := true, uintptr(0)
	for _, m := range mounts {
		if err := CheckSpecMount(m); err != nil {
			return err
		}
		if err := mountSpec(root, m, newNet); err != nil {
			return fmt.Errorf("mount %s: %w", m.Destination, err)
		}
		if path.Clean(m.Destination) == "/dev" {
			setupDev = !isBind(m)
			devFlags = parseMountOptions(m.Options).flags
		}
	}
	if !setupDev {
		return nil
	}
	if err := makeDevices(root, append(slices.Clip(DefaultDevices), devices...)); err != nil {
		return err
	}
	if err := devLinks(root); err != nil {
		return fmt.Errorf("/dev: %w", err)
	}
	if devFlags&unix.MS_RDONLY == 0 {
		return nil
	}
	// A read-only /dev was mounted writable, for the nodes: now it is
	// made read-only (runc does the same in finalizeRootfs).
	f, err := root.OpenFile("dev", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return namespaces.Mount("", fdPath(f), "", unix.MS_BIND|unix.MS_REMOUNT|devFlags&^(unix.MS_BIND|unix.MS_REC|unix.MS_REMOUNT), "")
}

// mountSpec mounts one of a spec's mounts (CheckSpecMount has passed): its
// destination resolved inside root as a volume's is, then by type. A
// sysfs without a network namespace of our own is the host's /sys, bound;
// a cgroup or cgroup2 is mountCgroups's view, read-only unless the options
// say "rw". Propagation modes come last, after the mount.
func mountSpec(root *os.Root, m SpecMount, newNet bool) error {
	name, err := resolveIn(root.Name(), m.Destination)
	if err != nil {
		return fmt.Errorf("mount target: %w", err)
	}
	if err := checkProcMount("/"+name, m); err != nil {
		return fmt.Errorf("resolves to /%s: %w", name, err)
	}
	o := parseMountOptions(m.Options)
	if isBind(m) {
		fi, err := statBindSource(m.Source)
		if err != nil {
			return err
		}
		remount := o.flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
		return bindAt(root, name, m.Source, fi.IsDir(), o.flags&unix.MS_REC, o.propagation, remount)
	}
	source := m.Source
	if source == "" {
		source = m.Type
	}
	switch m.Type {
	case "sysfs":
		err = mountSysfs(root, name, source, newNet, o.flags)
	case "cgroup", "cgroup2":
		err = mountCgroups(root, name, o.writable)
	default: // proc, tmpfs, devpts, mqueue
		flags := o.flags
		if name == "dev" {
			flags &^= unix.MS_RDONLY // until the device nodes are made
		}
		err = mountAt(root, name, source, m.Type, flags, o.data)
	}
	if err != nil || len(o.propagation) == 0 {
		return err
	}
	f, err := root.OpenFile(name, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return propagate(f, o.propagation)
}

// writeSysctls writes each sysctl to its file under /proc/sys (the
// container's own /proc by now), in the keys' order. A key that CheckSysctl
// would refuse has been refused before the container started.
func writeSysctls(sysctl map[string]string) error {
	for _, key := range slices.Sorted(maps.Keys(sysctl)) {
		p, err := sysctlPath(key)
		if err != nil {
			return err
		}
		if err := writeSysctl("/proc/sys/"+p, sysctl[key]); err != nil {
			return fmt.Errorf("write sysctl key %s: %w", key, err)
		}
	}
	return nil
}

func writeSysctl(file, value string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(value); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
