package rootfs

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"minidocker/step02-namespaces/namespaces"
)

// specTypes are the filesystem types Setup mounts from a spec: the
// kernel's own views, and binds. Anything else (overlay, nfs, a disk's
// ext4...) would need a source that only the host can give.
var specTypes = []string{"bind", "proc", "tmpfs", "devpts", "mqueue", "sysfs", "cgroup", "cgroup2"}

// procBindable are the files of /proc that a spec may bind over: the
// ones lxcfs emulates (runc's checkProcMount allows these and no others).
var procBindable = []string{
	"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat", "/proc/swaps",
	"/proc/uptime", "/proc/loadavg", "/proc/slabinfo", "/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
}

// isBind says whether m is a bind mount: type "bind", or any type with a
// "bind" or "rbind" option (runc reads the spec so; Docker writes type
// "bind" with "rbind", others type "none" with "bind").
func isBind(m SpecMount) bool {
	return m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
}

// CheckSpecMount checks one of a spec's mounts before the container is
// made, with the message the init would give later: the destination is an
// absolute path other than "/", a bind's source is an absolute host path
// (the runtime makes a relative one absolute from the bundle), the type is
// one Setup mounts, and nothing but a proc goes on /proc (checkProcMount).
func CheckSpecMount(m SpecMount) error {
	if !path.IsAbs(m.Destination) {
		return fmt.Errorf("mount %s: destination must be an absolute path", m.Destination)
	}
	dest := path.Clean(m.Destination)
	if dest == "/" {
		return fmt.Errorf("mount %s: cannot mount over /", m.Destination)
	}
	if isBind(m) {
		if !path.IsAbs(m.Source) {
			return fmt.Errorf("mount %s: bind source %q must be an absolute path", m.Destination, m.Source)
		}
	} else if !slices.Contains(specTypes, m.Type) {
		return fmt.Errorf("mount %s: type %q is not supported", m.Destination, m.Type)
	}
	if err := checkProcMount(dest, m); err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	return nil
}

// checkProcMount keeps a spec's mounts off /proc as runc does: /proc itself
// takes only a proc filesystem, and below it only the files of
// procBindable may be covered (by lxcfs's binds, typically); a mount over
// /proc/sys or /proc/sysrq-trigger would undo the read-only paths. dest is
// absolute and clean; the init checks it again once resolved through the
// image's symlinks.
//
// /sys is not refused, unlike CheckDestination's rule for -v: the spec
// itself mounts cgroups at /sys/fs/cgroup, and runc lets the rest through.
func checkProcMount(dest string, m SpecMount) error {
	switch {
	case dest == "/proc":
		if m.Type == "proc" && !isBind(m) {
			return nil
		}
		return fmt.Errorf("%q cannot be mounted because it is not of type proc", dest)
	case !strings.HasPrefix(dest, "/proc/"), slices.Contains(procBindable, dest):
		return nil
	}
	return fmt.Errorf("%q cannot be mounted because it is inside /proc", dest)
}

// ipcSysctls are the kernel.* sysctls that belong to the IPC namespace
// (System V message queues, semaphores, shared memory); fs.mqueue.* (POSIX
// message queues) do too.
var ipcSysctls = []string{
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
}

// CheckSysctl refuses a sysctl that would change the host rather than the
// container, as runc's validator does: /proc/sys is one tree, but only
// some of its files belong to a namespace. has says whether the container
// has a namespace of its own of that kind; for Net, a network namespace
// that is not the host's. key is written with dots (net.ipv4.ip_forward)
// or slashes (net/ipv4/ip_forward).
//
//	kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*  need IPC
//	net.*                                             needs Net
//	kernel.domainname                                 needs UTS
//	kernel.hostname                                   never: the spec's "hostname" sets it
//	anything else (vm.*, kernel.pid_max...)           never: it is the host's
func CheckSysctl(key string, has func(namespaces.Namespace) bool) error {
	p, err := sysctlPath(key)
	if err != nil {
		return err
	}
	s := strings.ReplaceAll(p, "/", ".") // dots, for the rules (an interface's dots are lost: no rule needs them)
	switch {
	case slices.Contains(ipcSysctls, s) || strings.HasPrefix(s, "fs.mqueue."):
		if !has(namespaces.IPC) {
			return fmt.Errorf("sysctl %q is not allowed in the host's ipc namespace", key)
		}
		return nil
	case strings.HasPrefix(s, "net."):
		if !has(namespaces.Net) {
			return fmt.Errorf("sysctl %q is not allowed in the host's network namespace", key)
		}
		return nil
	case s == "kernel.domainname" && has(namespaces.UTS):
		return nil
	case s == "kernel.hostname" && has(namespaces.UTS):
		return fmt.Errorf("sysctl %q is not allowed as it conflicts with the OCI %q field", key, "hostname")
	}
	return fmt.Errorf("sysctl %q is not in a separate kernel namespace", key)
}

// sysctlPath turns a sysctl's key into its file under /proc/sys, as
// sysctl(8) does: dots separate the levels (net.ipv4.ip_forward is
// net/ipv4/ip_forward), unless the key starts with a slash-separated level,
// when slashes do and a dot is part of a name (net/ipv4/conf/eth0.100/...
// written as net.ipv4.conf.eth0/100.rp_filter). No level may be empty,
// "." or "..": the file stays under /proc/sys.
func sysctlPath(key string) (string, error) {
	p := key
	if i := strings.IndexAny(key, "./"); i >= 0 && key[i] == '.' {
		p = strings.Map(func(r rune) rune {
			switch r {
			case '.':
				return '/'
			case '/':
				return '.'
			}
			return r
		}, key)
	}
	for level := range strings.SplitSeq(p, "/") {
		if level == "" || level == "." || level == ".." {
			return "", fmt.Errorf("sysctl %q: %w", key, errInvalidSysctl)
		}
	}
	return p, nil
}

var errInvalidSysctl = errors.New("not a sysctl key")
