package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/layers"
)

// Setup builds the container's filesystem and moves into it. It runs in
// the container's own (private) mount namespace, so none of these mounts is
// seen by the host, and all of them vanish with the namespace:
//
//  1. the root: an overlay of the layers (or a bind of the directory)
//  2. /proc, /dev (+ pts, shm, mqueue), /sys and /sys/fs/cgroup inside it
//  3. the volumes (-v, --mount) and tmpfs mounts (--tmpfs)
//  4. pivot_root into it, and detach the old root
//  5. mask and write-protect what runc does
//  6. --read-only: the root itself, last
//
// With cfg.SpecMounts (an OCI bundle's config.json), steps 2 and 3 are the
// spec's mounts instead, in its order, then the device nodes (mountSpecs).
// cfg.Sysctl is written between steps 4 and 5, while /proc/sys is still
// writable.
//
// newNet says the container has its own network namespace (then a fresh
// sysfs shows only its devices; otherwise the host's /sys is bound read-only).
func Setup(cfg *Config, newNet bool) error {
	if err := mountRoot(cfg); err != nil {
		return err
	}
	root, err := os.OpenRoot(cfg.Root)
	if err != nil {
		return fmt.Errorf("open root %s: %w", cfg.Root, err)
	}
	defer root.Close()
	if cfg.SpecMounts != nil {
		if err := mountSpecs(root, cfg.SpecMounts, cfg.Devices, newNet); err != nil {
			return err
		}
	} else if err := mountDefaults(root, cfg, newNet); err != nil {
		return err
	}
	if err := PivotRoot(cfg.Root); err != nil {
		return err
	}
	if err := writeSysctls(cfg.Sysctl); err != nil {
		return err
	}
	masked, readonly := cfg.MaskedPaths, cfg.ReadonlyPaths
	if masked == nil {
		masked = DefaultMaskedPaths
	}
	if readonly == nil {
		readonly = DefaultReadonlyPaths
	}
	if cfg.Privileged {
		masked, readonly = nil, nil
	}
	for _, p := range masked {
		if err := maskPath(p); err != nil {
			return err
		}
	}
	for _, p := range readonly {
		if err := readonlyPath(p); err != nil {
			return err
		}
	}
	if cfg.RootPropagation != "" {
		flag, ok := propagationFlags[cfg.RootPropagation]
		if !ok {
			return fmt.Errorf("root propagation %q: not a propagation mode", cfg.RootPropagation)
		}
		if err := namespaces.Mount("", "/", "", flag, ""); err != nil {
			return fmt.Errorf("root propagation: %w", err)
		}
	}
	if cfg.ReadOnly {
		return readonlyRoot()
	}
	return nil
}

// mountDefaults mounts Setup's own set (no spec), then the volumes.
func mountDefaults(root *os.Root, cfg *Config, newNet bool) error {
	if err := mountProc(root); err != nil {
		return err
	}
	if err := mountDev(root, cfg.Devices); err != nil {
		return err
	}
	if err := mountSys(root, newNet, cfg.Privileged); err != nil {
		return err
	}
	if err := mountCgroups(root, "sys/fs/cgroup", cfg.Privileged); err != nil {
		return fmt.Errorf("/sys/fs/cgroup: %w", err)
	}
	for _, m := range cfg.Mounts {
		mount := bindVolume
		if m.Tmpfs {
			mount = mountTmpfs
		}
		if err := mount(root, m); err != nil {
			return fmt.Errorf("volume %s: %w", m, err)
		}
	}
	return nil
}

// readonlyRoot remounts "/" read-only (--read-only), as runc does last: the
// mounts above are separate mounts and keep their own flags, so /dev,
// /dev/shm, /proc and the volumes stay writable. MS_BIND|MS_REMOUNT changes
// only this mount's flags, not the overlay's superblock; the flags it
// already has (nosuid, nodev...) are passed again, or the kernel would drop
// them (EPERM where they are locked).
func readonlyRoot() error {
	var st unix.Statfs_t
	if err := unix.Statfs("/", &st); err != nil {
		return &os.PathError{Op: "statfs", Path: "/", Err: err}
	}
	keep := uintptr(0)
	for _, f := range []struct{ st, ms uintptr }{
		{unix.ST_NOSUID, unix.MS_NOSUID}, {unix.ST_NODEV, unix.MS_NODEV}, {unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME}, {unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if uintptr(st.Flags)&f.st != 0 {
			keep |= f.ms
		}
	}
	if err := namespaces.Mount("", "/", "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|keep, ""); err != nil {
		return fmt.Errorf("read-only root: %w", err)
	}
	return nil
}

// mountRoot makes cfg.Root a mount point holding the container's files:
// pivot_root needs the new root to be a mount of its own.
func mountRoot(cfg *Config) error {
	if len(cfg.Lower) > 0 {
		return layers.MountOverlay(cfg.Root, cfg.Lower, cfg.Upper, cfg.Work)
	}
	return namespaces.Mount(cfg.Root, cfg.Root, "", unix.MS_BIND|unix.MS_REC, "")
}

// at returns a path for mount(2) that names the entry name inside root
// without following any symlink out of it: the image's files are not to be
// trusted (a layer may make /proc a symlink to /etc). os.Root resolves name
// inside root, and /proc/self/fd/N names the resolved directory.
func at(root *os.Root, name string, dir bool) (*os.File, error) {
	if dir {
		if err := root.MkdirAll(name, 0o755); err != nil {
			return nil, err
		}
	} else {
		// A file's directories first, as runc makes them (podman binds
		// /run/.containerenv, and busybox has no /run).
		if parent := filepath.Dir(name); parent != "." {
			if err := root.MkdirAll(parent, 0o755); err != nil {
				return nil, err
			}
		}
		f, err := root.OpenFile(name, os.O_CREATE|os.O_RDONLY, 0o644)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	return root.OpenFile(name, unix.O_PATH|unix.O_CLOEXEC, 0)
}

// mountAt mounts onto name inside root (created as a directory if missing).
func mountAt(root *os.Root, name, source, fstype string, flags uintptr, data string) error {
	f, err := at(root, name, true)
	if err != nil {
		return fmt.Errorf("mount target %s: %w", name, err)
	}
	defer f.Close()
	if err := namespaces.Mount(source, fdPath(f), fstype, flags, data); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func fdPath(f *os.File) string { return "/proc/self/fd/" + strconv.Itoa(int(f.Fd())) }

func mountProc(root *os.Root) error {
	return mountAt(root, "proc", "proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// mountDev gives the container a /dev of its own: a tmpfs with only the
// harmless devices (not the host's disks) and the extra ones asked for, a
// private devpts for its terminals, and shm and mqueue for IPC.
func mountDev(root *os.Root, extra []Device) error {
	if err := mountAt(root, "dev", "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_STRICTATIME, "mode=755,size=65536k"); err != nil {
		return err
	}
	if err := makeDevices(root, append(slices.Clip(DefaultDevices), extra...)); err != nil {
		return err
	}
	mounts := []struct {
		name, fstype string
		flags        uintptr
		data         string
	}{
		// newinstance: the container's ptys are its own, not the host's.
		{"dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"dev/shm", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "mode=1777,size=65536k"},
		{"dev/mqueue", "mqueue", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, ""},
	}
	for _, m := range mounts {
		if err := mountAt(root, m.name, m.fstype, m.fstype, m.flags, m.data); err != nil {
			return err
		}
	}
	return devLinks(root)
}

// mountSys mounts /sys, read-only unless privileged. sysfs shows the
// network devices of the network namespace that mounts it, so without a
// network namespace of our own we bind the host's instead (as runc does).
// That bind is recursive: it brings the host's submounts of /sys along
// (/sys/fs/cgroup and its hierarchies, /sys/kernel/tracing, debug,
// security...), and a remount with MS_RDONLY changes only the top one. So
// the read-only flag goes on the whole tree at once with mount_setattr(2):
// AT_RECURSIVE and MOUNT_ATTR_RDONLY (kernel 5.12+).
func mountSys(root *os.Root, newNet, privileged bool) error {
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if !privileged {
		flags |= unix.MS_RDONLY
	}
	return mountSysfs(root, "sys", "sysfs", newNet, flags)
}

// mountSysfs mounts a sysfs at name inside root with flags (source is only
// a label, shown in mountinfo), or, without a network namespace of our
// own, binds the host's /sys there (read-only as a whole tree when flags
// have MS_RDONLY).
func mountSysfs(root *os.Root, name, source string, newNet bool, flags uintptr) error {
	if newNet {
		return mountAt(root, name, source, "sysfs", flags, "")
	}
	if err := mountAt(root, name, "/sys", "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if flags&unix.MS_RDONLY == 0 {
		return nil
	}
	return readonlyTree(root, name)
}

// readonlyTree makes the mount at name inside root, and every mount below
// it, read-only.
func readonlyTree(root *os.Root, name string) error {
	f, err := root.OpenFile(name, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC}
	err = unix.MountSetattr(int(f.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr)
	if errors.Is(err, unix.ENOSYS) {
		// Before Linux 5.12: one remount per mount, found in mountinfo.
		return readonlyEach(filepath.Join(root.Name(), name))
	}
	if err != nil {
		return &os.PathError{Op: "mount_setattr AT_RECURSIVE MOUNT_ATTR_RDONLY", Path: name, Err: err}
	}
	return nil
}

// readonlyEach remounts read-only the mount at dir and every mount below
// it, one bind remount each, in mountinfo's order (parents first).
func readonlyEach(dir string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 || (fields[4] != dir && !strings.HasPrefix(fields[4], dir+"/")) {
			continue
		}
		// mountinfo escapes spaces and the like as \040; such a path is
		// not one of ours to guess at.
		if strings.Contains(fields[4], "\\") {
			return fmt.Errorf("read-only %s: cannot remount %q", dir, fields[4])
		}
		if err := namespaces.Mount("", fields[4], "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
			return err
		}
	}
	return nil
}

// cgroupMount is a cgroup filesystem the host has mounted under
// /sys/fs/cgroup.
type cgroupMount struct {
	dir     string // relative to /sys/fs/cgroup: "memory", "unified", or "" (pure v2)
	fstype  string // cgroup or cgroup2
	options string // v1: its controllers or name=, as mount(2) wants them
}

// hostCgroupMounts lists the cgroup mounts under /sys/fs/cgroup in
// mountinfo(5), which the init still sees as the host's before pivot_root:
//
//	35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
//	41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
func hostCgroupMounts(mountinfo string) ([]cgroupMount, error) {
	data, err := os.ReadFile(mountinfo)
	if err != nil {
		return nil, err
	}
	var out []cgroupMount
	for line := range strings.SplitSeq(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		fields, super := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(super) < 3 {
			continue
		}
		dir, ok := strings.CutPrefix(fields[4], "/sys/fs/cgroup")
		if !ok || (dir != "" && dir[0] != '/') {
			continue
		}
		dir = strings.TrimPrefix(dir, "/")
		switch super[0] {
		case "cgroup2":
			out = append(out, cgroupMount{dir: dir, fstype: "cgroup2"})
		case "cgroup":
			// Only the controllers (and a name=) identify a v1
			// hierarchy: mounting it again with the same set gives the
			// same hierarchy. Other options (rw, clone_children...) are
			// the host's mount's business.
			var opts []string
			for o := range strings.SplitSeq(super[2], ",") {
				if o != "rw" && o != "ro" && (!strings.Contains(o, "=") || strings.HasPrefix(o, "name=")) &&
					o != "clone_children" && o != "xattr" && o != "noprefix" && o != "cpuset_v2_mode" {
					opts = append(opts, o)
				}
			}
			if dir != "" && len(opts) > 0 {
				out = append(out, cgroupMount{dir: dir, fstype: "cgroup", options: strings.Join(opts, ",")})
			}
		}
	}
	return out, nil
}

// mountCgroups gives the container its own view of the cgroup trees at
// /sys/fs/cgroup, read-only unless writable (privileged), as Docker does. In the
// container's cgroup namespace (step 2 unshares it once the init is in its
// cgroups) a cgroup filesystem shows the tree from the namespace's root: the
// container's own cgroup is "/", and nothing of the host's tree above it is
// visible. Read-only, because a process that can write cgroup files can
// raise its own limits (or, on v1, set a release_agent that the host runs).
//
// On a pure v2 host that is one cgroup2 mount. On a v1 or hybrid host, as
// on the host: a tmpfs with one mount per hierarchy (cgroup -o memory, ...).
// dir is where, inside root: sys/fs/cgroup.
func mountCgroups(root *os.Root, dir string, writable bool) error {
	hosts, err := hostCgroupMounts("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	if len(hosts) == 0 {
		return nil // no cgroups on this host: nothing to show
	}
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	if !writable {
		flags |= unix.MS_RDONLY
	}
	// With the host's /sys bound (no network namespace), its cgroup tree
	// came along: detach it, ours goes in its place.
	if f, err := root.OpenFile(dir, unix.O_PATH|unix.O_CLOEXEC, 0); err == nil {
		err := unix.Unmount(fdPath(f), unix.MNT_DETACH)
		f.Close()
		if err != nil && err != unix.EINVAL { // EINVAL: not a mount point (a fresh sysfs)
			return &os.PathError{Op: "umount2 MNT_DETACH", Path: dir, Err: err}
		}
	}
	if len(hosts) == 1 && hosts[0].dir == "" {
		return mountCgroup(root, dir, hosts[0], flags)
	}
	if err := mountAt(root, dir, "tmpfs", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755"); err != nil {
		return err
	}
	for _, h := range hosts {
		if h.dir == "" || strings.Contains(h.dir, "/") {
			continue
		}
		name := dir + "/" + h.dir
		if err := mountCgroup(root, name, h, flags); err != nil {
			return err
		}
		// "cpu,cpuacct" is also reachable as cpu and cpuacct on most hosts.
		if strings.Contains(h.dir, ",") {
			for part := range strings.SplitSeq(h.dir, ",") {
				if err := root.Symlink(h.dir, dir+"/"+part); err != nil && !errors.Is(err, os.ErrExist) {
					return err
				}
			}
		}
	}
	if writable {
		return nil
	}
	f, err := root.OpenFile(dir, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return namespaces.Mount("", fdPath(f), "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// resolveIn resolves dest (absolute, in the container) inside the
// directory dir the way Docker does, with the semantics of runc's
// filepath-securejoin: each symlink of the image is followed as if dir were
// "/", so an absolute link (var/run -> /run) lands on dir/run, and ".."
// stops at dir (vol -> ../../../etc lands on dir/etc). It returns the
// result relative to dir, for os.Root, which checks once more that no
// component leads out (another process may change the links meanwhile).
func resolveIn(dir, dest string) (string, error) {
	full, err := securejoin.SecureJoin(dir, dest)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(dir, full)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s resolves outside the container (%s)", dest, full)
	}
	return rel, nil
}

// resolveTarget resolves a mount's destination inside root (resolveIn)
// and refuses one that lands on /proc, /sys or beneath them.
func resolveTarget(root *os.Root, dest string) (string, error) {
	name, err := resolveIn(root.Name(), dest)
	if err != nil {
		return "", fmt.Errorf("mount target: %w", err)
	}
	if kernel, ok := underKernelFS("/" + name); ok {
		return "", fmt.Errorf("mount target %s resolves to /%s: cannot mount over %s", dest, name, kernel)
	}
	return name, nil
}

// bindVolume bind-mounts m.Source on m.Destination inside root (bindAt),
// copying the image's files into an empty volume first when m.CopyUp.
func bindVolume(root *os.Root, m Mount) error {
	fi, err := statBindSource(m.Source)
	if err != nil {
		return err
	}
	name, err := resolveTarget(root, m.Destination)
	if err != nil {
		return err
	}
	if m.CopyUp && fi.IsDir() {
		if err := copyUp(root, name, m.Source); err != nil {
			return fmt.Errorf("copy the image's %s into the volume: %w", m.Destination, err)
		}
	}
	var propagation []uintptr
	if m.Propagation != "" {
		flag, ok := propagationFlags[m.Propagation]
		if !ok {
			return fmt.Errorf("invalid propagation mode: %s", m.Propagation)
		}
		propagation = append(propagation, flag)
	}
	var remount uintptr
	if m.ReadOnly {
		remount = unix.MS_RDONLY
	}
	return bindAt(root, name, m.Source, fi.IsDir(), unix.MS_REC, propagation, remount)
}

// statBindSource stats a bind's host path, with Docker's message when it
// is missing.
func statBindSource(source string) (os.FileInfo, error) {
	fi, err := os.Stat(source)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("bind source path does not exist: %s", source)
	}
	return fi, err
}

// bindAt bind-mounts source (a host path) on name inside root, creating
// the target (a directory, or an empty file for a file) without leaving
// root; rec is MS_REC or 0 (rbind or bind: with or without the mounts
// below source). Each propagation flag is then a mount(2) call of its own,
// and the per-mount flags (MS_RDONLY, MS_NOSUID...) in remount a last one,
// MS_BIND|MS_REMOUNT: the kernel ignores them on the first MS_BIND. That
// remount changes the top mount only, not the ones an rbind brought along.
func bindAt(root *os.Root, name, source string, isDir bool, rec uintptr, propagation []uintptr, remount uintptr) error {
	target, err := at(root, name, isDir)
	if err != nil {
		return fmt.Errorf("mount target: %w", err)
	}
	defer target.Close()
	if err := namespaces.Mount(source, fdPath(target), "", unix.MS_BIND|rec, ""); err != nil {
		return err
	}
	if len(propagation) == 0 && remount == 0 {
		return nil
	}
	// Open the target again: the fd above names the directory the bind now
	// covers, and the remount must name the bind mount itself.
	mounted, err := root.OpenFile(name, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("mount target: %w", err)
	}
	defer mounted.Close()
	if err := propagate(mounted, propagation); err != nil {
		return err
	}
	if remount == 0 {
		return nil
	}
	return namespaces.Mount("", fdPath(mounted), "", unix.MS_BIND|unix.MS_REMOUNT|remount, "")
}

// propagate sets the propagation of the mount at f (an O_PATH fd of the
// mount itself), one mount(2) call per mode, with only that flag: the
// kernel takes one propagation change per call, and no other flag.
func propagate(f *os.File, propagation []uintptr) error {
	for _, flag := range propagation {
		if err := namespaces.Mount("", fdPath(f), "", flag, ""); err != nil {
			return err
		}
	}
	return nil
}

// mountTmpfs mounts a new tmpfs on m.Destination inside root (--tmpfs,
// --mount type=tmpfs): memory-backed, empty, gone with the container. The
// target is resolved as a bind's is, and refused under /proc and /sys.
func mountTmpfs(root *os.Root, m Mount) error {
	name, err := resolveTarget(root, m.Destination)
	if err != nil {
		return err
	}
	o := parseMountOptions(m.Options)
	return mountAt(root, name, "tmpfs", "tmpfs", o.flags, o.data)
}

// PivotRoot makes newRoot the root of this mount namespace and detaches
// the old one, so the host's files are not reachable at all. (chroot only
// changes how "/" is looked up for one process: a root process can chroot
// again into a subdirectory and walk ".." out of it.)
//
// pivot_root(".", ".") stacks the old root on top of the new one at the
// same place; umount2(".", MNT_DETACH) then removes the top one, the old
// root. No put_old directory is needed (runc does the same).
func PivotRoot(newRoot string) error {
	// exercise:begin 03-pivot chdir into newRoot, pivot_root(".", "."), then detach the old root stacked on top (umount2 ".", MNT_DETACH) and chdir to "/"; return *os.PathError values that name each call
	if err := unix.Chdir(newRoot); err != nil {
		return &os.PathError{Op: "chdir", Path: newRoot, Err: err}
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return &os.PathError{Op: "pivot_root", Path: newRoot, Err: err}
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return &os.PathError{Op: "umount2 MNT_DETACH (old root)", Path: newRoot, Err: err}
	}
	return unix.Chdir("/")
	// exercise:end
}

// maskPath hides p: /dev/null over a file, an empty read-only tmpfs over a
// directory. A path this kernel does not have is skipped.
func maskPath(p string) error {
	fi, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return namespaces.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "size=0")
	}
	return namespaces.Mount("/dev/null", p, "", unix.MS_BIND, "")
}

// readonlyPath makes p read-only: bind it on itself, then remount that
// bind read-only.
func readonlyPath(p string) error {
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := namespaces.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	return namespaces.Mount(p, p, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_REC|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// copyUp fills an empty volume directory dst with what the image has at
// name (a directory of root, the container's root before pivot_root), as
// Docker fills a new named volume: modes, owners and symbolic links kept.
// Nothing happens when dst has anything in it, or the image has nothing
// there. The image's files are read through root, so none of its symbolic
// links leads the copy out of the container's tree; what is written goes
// only into dst, created fresh (O_EXCL), never through a link.
func copyUp(root *os.Root, name, dst string) error {
	if entries, err := os.ReadDir(dst); err != nil || len(entries) > 0 {
		return err
	}
	fi, err := root.Lstat(name)
	if err != nil || !fi.IsDir() {
		return nil // nothing there in the image (or not a directory): an empty volume
	}
	return fs.WalkDir(root.FS(), name, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(name, p)
		if rel == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			err = os.Mkdir(out, info.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			var link string
			if link, err = root.Readlink(p); err == nil {
				err = os.Symlink(link, out)
			}
		case d.Type().IsRegular():
			err = copyFile(root, p, out, info.Mode().Perm())
		default:
			return nil // devices, fifos, sockets: not copied
		}
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			if err := os.Lchown(out, int(st.Uid), int(st.Gid)); err != nil {
				return err
			}
		}
		if d.IsDir() || d.Type().IsRegular() {
			return os.Chmod(out, info.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
		}
		return nil
	})
}

func copyFile(root *os.Root, from, to string, perm fs.FileMode) error {
	in, err := root.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
