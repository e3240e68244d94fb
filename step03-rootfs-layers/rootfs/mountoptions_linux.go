package rootfs

import (
	"strings"

	"golang.org/x/sys/unix"
)

// propagationFlags are the mount propagation modes as mount(2) flags: an
// "r" applies to the mounts below as well (MS_REC).
var propagationFlags = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// mountFlags are the mount options that are mount(2) flags, as mount(8)
// and runc's specconv spell them: set says whether the word sets the flag
// or clears it ("rw" clears MS_RDONLY). The other options (size=, mode=,
// newinstance...) are the filesystem's own, its data.
var mountFlags = map[string]struct {
	set   bool
	flags uintptr
}{
	"defaults": {true, 0},
	"ro":       {true, unix.MS_RDONLY}, "rw": {false, unix.MS_RDONLY},
	"nosuid": {true, unix.MS_NOSUID}, "suid": {false, unix.MS_NOSUID},
	"nodev": {true, unix.MS_NODEV}, "dev": {false, unix.MS_NODEV},
	"noexec": {true, unix.MS_NOEXEC}, "exec": {false, unix.MS_NOEXEC},
	"sync": {true, unix.MS_SYNCHRONOUS}, "async": {false, unix.MS_SYNCHRONOUS},
	"dirsync": {true, unix.MS_DIRSYNC},
	"remount": {true, unix.MS_REMOUNT},
	"mand":    {true, unix.MS_MANDLOCK}, "nomand": {false, unix.MS_MANDLOCK},
	"noatime": {true, unix.MS_NOATIME}, "atime": {false, unix.MS_NOATIME},
	"nodiratime": {true, unix.MS_NODIRATIME}, "diratime": {false, unix.MS_NODIRATIME},
	"relatime": {true, unix.MS_RELATIME}, "norelatime": {false, unix.MS_RELATIME},
	"strictatime": {true, unix.MS_STRICTATIME}, "nostrictatime": {false, unix.MS_STRICTATIME},
	"bind": {true, unix.MS_BIND}, "rbind": {true, unix.MS_BIND | unix.MS_REC},
	"nosymfollow": {true, unix.MS_NOSYMFOLLOW}, "symfollow": {false, unix.MS_NOSYMFOLLOW},
}

// recursiveAttrs are the options that change a mount and every mount below
// it at once (runc's "rro", "rnosuid"...): MS_* flags on a remount change
// one mount only, so a read-only rbind would leave the mounts it brought
// along writable. mount_setattr(2) with AT_RECURSIVE sets or clears these
// MOUNT_ATTR_* bits on the whole tree (Linux 5.12+).
var recursiveAttrs = map[string]struct {
	set  bool
	attr uint64
}{
	"rro": {true, unix.MOUNT_ATTR_RDONLY}, "rrw": {false, unix.MOUNT_ATTR_RDONLY},
	"rnosuid": {true, unix.MOUNT_ATTR_NOSUID}, "rsuid": {false, unix.MOUNT_ATTR_NOSUID},
	"rnodev": {true, unix.MOUNT_ATTR_NODEV}, "rdev": {false, unix.MOUNT_ATTR_NODEV},
	"rnoexec": {true, unix.MOUNT_ATTR_NOEXEC}, "rexec": {false, unix.MOUNT_ATTR_NOEXEC},
	"rnodiratime": {true, unix.MOUNT_ATTR_NODIRATIME}, "rdiratime": {false, unix.MOUNT_ATTR_NODIRATIME},
	"rnosymfollow": {true, unix.MOUNT_ATTR_NOSYMFOLLOW}, "rsymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW},
}

// mountOptions are a mount's options, sorted out for mount(2).
type mountOptions struct {
	flags       uintptr   // MS_* flags
	propagation []uintptr // each a mount(2) call of its own, after the mount
	data        string    // the rest, comma-separated, for the filesystem
	writable    bool      // "rw" said last (not merely no "ro")
	// recursive are the MOUNT_ATTR_* bits to set and to clear on the
	// mount and all below it (recursiveAttrs).
	recursive unix.MountAttr
	// copyUp is "tmpcopyup" (runc's extension, podman's --tmpfs default):
	// a tmpfs starts with what the image has at its destination.
	copyUp bool
}

// parseMountOptions sorts options into mount(2) flags, propagation modes
// and the filesystem's own data, in order: a later "exec" undoes an
// earlier "noexec".
func parseMountOptions(options []string) mountOptions {
	var o mountOptions
	var data []string
	for _, opt := range options {
		if f, ok := mountFlags[opt]; ok {
			if f.set {
				o.flags |= f.flags
			} else {
				o.flags &^= f.flags
			}
			if f.flags == unix.MS_RDONLY {
				o.writable = !f.set
			}
			continue
		}
		if r, ok := recursiveAttrs[opt]; ok {
			if r.set {
				o.recursive.Attr_set |= r.attr
				o.recursive.Attr_clr &^= r.attr
			} else {
				o.recursive.Attr_clr |= r.attr
				o.recursive.Attr_set &^= r.attr
			}
			continue
		}
		if opt == "tmpcopyup" {
			o.copyUp = true
			continue
		}
		if p, ok := propagationFlags[opt]; ok {
			o.propagation = append(o.propagation, p)
			continue
		}
		data = append(data, opt)
	}
	o.data = strings.Join(data, ",")
	return o
}
