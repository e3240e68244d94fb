// Package rootfs gives a container its own root filesystem: the image's
// layers stacked with overlayfs, the kernel filesystems a program expects,
// the volumes, and pivot_root into all of it.
//
// # The idea
//
// After step 2 the container still saw the host's files. Here its init,
// inside its private mount namespace, builds a new tree and makes it "/":
// the image's read-only layers under one writable layer of its own (so two
// containers of one image never see each other's writes), a fresh /proc,
// a /dev with only harmless devices, a read-only /sys, and the -v volumes.
// Then the host's tree is detached, not merely hidden.
//
// # The syscalls, in order
//
//  1. mount("overlay", root, "overlay", 0, "lowerdir=L2:L1,upperdir=U,workdir=W")
//     (or mount(dir, dir, MS_BIND|MS_REC) for a plain directory)
//  2. mount("proc", root/proc), mount("tmpfs", root/dev) + mknod of null,
//     zero, full, random, urandom, tty; devpts (newinstance), shm, mqueue;
//     mount("sysfs", root/sys, MS_RDONLY)
//  3. for each volume: mount(src, root/dst, MS_BIND|MS_REC), then for :ro
//     mount("", root/dst, MS_BIND|MS_REMOUNT|MS_RDONLY)
//  4. chdir(root); pivot_root(".", "."); umount2(".", MNT_DETACH); chdir("/")
//  5. mount("/dev/null", "/proc/kcore", MS_BIND) and the rest of the masked
//     paths; bind + remount read-only /proc/sys and the other read-only paths
//
// Targets inside the new root are resolved with os.Root and mounted through
// /proc/self/fd/N, so a symlink in the image cannot send a mount outside.
//
// # An OCI bundle's mounts
//
// A runtime driven by containerd, dockerd or podman (final's runtime mode)
// gets the whole mount list from the bundle's config.json, /proc and /dev
// included: Config.SpecMounts replaces steps 2 and 3, mounted in the
// spec's order with the options turned into mount(2) flags and data as
// runc's specconv turns them (mountFlags). /dev is then filled with the
// default device nodes and the spec's linux.devices (Config.Devices), and
// after pivot_root the spec's linux.sysctl (Config.Sysctl) is written to
// /proc/sys, before /proc/sys is made read-only. CheckSpecMount and
// CheckSysctl refuse, before the container is made, what the init would.
//
// # What goes wrong
//
// pivot_root fails with EINVAL when the new root is not a mount point (step
// 1 binds it) or when the mounts are shared (step 2 made them private). A
// volume whose target is a symlink to an absolute path is refused rather
// than followed onto the host. MS_RDONLY on a first MS_BIND is silently
// ignored by the kernel: read-only binds need the second, remount call.
//
// # See also
//
// pivot_root(2), mount(2), mount_namespaces(7); runc
// libcontainer/rootfs_linux.go (prepareRoot, pivotRoot, maskPath).
package rootfs
