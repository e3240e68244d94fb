package namespaces

import (
	"errors"
	"syscall"
)

// A user namespace (an OCI bundle's "user" in linux.namespaces, with
// linux.uidMappings and gidMappings) makes the container's root an
// ordinary user of the host: uid 0 inside is, say, 100000 outside, and
// its capabilities count only for what the user namespace owns.
//
// Created with the other namespaces in one clone(2), the user namespace
// is created first and owns them all, so the init, root in it, may still
// set the hostname, mount a procfs, a sysfs, a tmpfs. What belongs to
// the host stays out of reach: mknod(2) of a device node fails with EPERM
// (step 3 then bind-mounts the host's node instead), and files owned by
// a host ID outside the mappings show as the overflow ID, 65534
// ("nobody"), which no capability inside can override.
//
// The mappings are written to /proc/PID/uid_map and gid_map by the
// parent, after clone and before the child runs anything: Go's os/exec
// does it when SysProcAttr has UidMappings and GidMappings, and holds the
// child on a pipe until then. Writing gid_map needs setgroups(2) allowed
// (GidMappingsEnableSetgroups), as runc leaves it for containers that
// root starts; otherwise "deny" is written to /proc/PID/setgroups first.
//
// The child is still host root then, and host root is mapped to nothing
// in the namespace (it shows as 65534 there): an execve would leave it
// without a capability. So, as runc's nsexec does with setresuid(0, 0, 0),
// the child becomes 0:0 of the namespace (Credential: setgroups, setgid,
// setuid, after the mappings are written) before it executes the init,
// which then gets the namespace's full capability sets.

// mapIDs asks Go's clone for cfg's uid and gid mappings when cfg creates a
// user namespace; CloneFlags has put CLONE_NEWUSER in the flags.
func (c *Config) mapIDs(attr *syscall.SysProcAttr) {
	if !c.Has(UserNS) {
		return
	}
	attr.UidMappings = idMaps(c.UIDMappings)
	attr.GidMappings = idMaps(c.GIDMappings)
	attr.GidMappingsEnableSetgroups = true
	attr.Credential = &syscall.Credential{Uid: 0, Gid: 0}
}

func idMaps(maps []IDMap) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, 0, len(maps))
	for _, m := range maps {
		out = append(out, syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)})
	}
	return out
}

// errJoinUserNS is why Join cannot enter a container's user namespace.
// setns(2) into a user namespace fails with EINVAL unless the caller is
// the only thread of its process (a process's threads share one user
// namespace), and a Go program has several threads before main runs:
// LockOSThread does not help, as it does for the other kinds. runc joins
// it in C, in a constructor that runs before its Go runtime starts
// (libcontainer/nsenter); minidocker is built without cgo, so an exec
// into a container with a user namespace is refused by name rather than
// left to fail with a bare EINVAL. (Joining the other namespaces only,
// as host root, would run the command outside the container's user
// namespace, with capabilities over the host's: never.)
var errJoinUserNS = errors.New("exec: joining the container's user namespace is not supported: " +
	"setns(2) of a user namespace needs a single-threaded caller, which a Go program without cgo never is")
