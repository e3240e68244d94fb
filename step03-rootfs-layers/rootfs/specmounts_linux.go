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
// say "rw". Propagation modes come after the mount, recursive attributes
// ("rro"...) last.
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
		if err := bindAt(root, name, m.Source, fi.IsDir(), o.flags&unix.MS_REC, o.propagation, remount); err != nil {
			return err
		}
		return setRecursive(root, name, o.recursive)
	}
	source := m.Source
	if source == "" {
		source = m.Type
	}
	switch {
	case m.Type == "sysfs":
		err = mountSysfs(root, name, source, newNet, o.flags)
	case m.Type == "cgroup" || m.Type == "cgroup2":
		err = mountCgroups(root, name, o.writable)
	case m.Type == "tmpfs" && o.copyUp:
		err = mountTmpfsCopyUp(root, name, source, o.flags, o.data)
	default: // proc, tmpfs, devpts, mqueue
		flags := o.flags
		if name == "dev" {
			flags &^= unix.MS_RDONLY // until the device nodes are made
		}
		err = mountAt(root, name, source, m.Type, flags, o.data)
	}
	if err != nil {
		return err
	}
	if len(o.propagation) > 0 {
		f, err := root.OpenFile(name, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := propagate(f, o.propagation); err != nil {
			return err
		}
	}
	return setRecursive(root, name, o.recursive)
}

// setRecursive sets and clears attr's MOUNT_ATTR_* bits on the mount at
// name inside root and on every mount below it, with one mount_setattr(2).
func setRecursive(root *os.Root, name string, attr unix.MountAttr) error {
	if attr.Attr_set == 0 && attr.Attr_clr == 0 {
		return nil
	}
	f, err := root.OpenFile(name, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.MountSetattr(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return &os.PathError{Op: fmt.Sprintf("mount_setattr AT_RECURSIVE set %#x clear %#x", attr.Attr_set, attr.Attr_clr), Path: name, Err: err}
	}
	return nil
}

// mountTmpfsCopyUp mounts a tmpfs at name inside root that starts with the
// image's files there ("tmpcopyup"), as runc does: the tmpfs is mounted on
// a temporary directory first (in this mount namespace only), the image's
// files are copied into it (copyUp), and it is moved (MS_MOVE) over them.
func mountTmpfsCopyUp(root *os.Root, name, source string, flags uintptr, data string) error {
	tmp, err := os.MkdirTemp("", "minidocker-tmpcopyup-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := namespaces.Mount(source, tmp, "tmpfs", flags&^unix.MS_RDONLY, data); err != nil {
		return err
	}
	moved := false
	defer func() {
		if !moved {
			unix.Unmount(tmp, unix.MNT_DETACH)
		}
	}()
	if err := copyUp(root, name, tmp); err != nil {
		return fmt.Errorf("copy the image's files into the tmpfs: %w", err)
	}
	target, err := at(root, name, true)
	if err != nil {
		return fmt.Errorf("mount target: %w", err)
	}
	defer target.Close()
	if err := namespaces.Mount(tmp, fdPath(target), "", unix.MS_MOVE, ""); err != nil {
		return err
	}
	moved = true
	if flags&unix.MS_RDONLY == 0 {
		return nil
	}
	mounted, err := root.OpenFile(name, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer mounted.Close()
	return namespaces.Mount("", fdPath(mounted), "", unix.MS_BIND|unix.MS_REMOUNT|flags, "")
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
