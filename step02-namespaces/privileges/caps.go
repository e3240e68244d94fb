// Package privileges is what a container's root may still do once it is
// set up: its capabilities, the no_new_privs bit and a seccomp filter. Step
// 2's init applies it last, on the thread that calls execve, in runc's
// order (see Apply).
//
// Root in a container is uid 0 like the host's root. What keeps it from
// loading kernel modules, setting the clock, mounting the host's disks or
// reading host files by handle is not the namespaces but this package:
//
//   - capabilities split root's power into ~41 pieces; Docker keeps 14 of
//     them (DefaultCapabilities) in the bounding, permitted and effective
//     sets, and none in the inheritable and ambient ones;
//   - no_new_privs (prctl PR_SET_NO_NEW_PRIVS) stops execve from granting
//     anything more: setuid-root binaries and file capabilities stop
//     working;
//   - seccomp is a classic-BPF program the kernel runs on every system
//     call: Docker's default profile allows about 370 of them, refuses the
//     rest with EPERM, and checks a few arguments (clone may not create
//     namespaces without CAP_SYS_ADMIN).
package privileges

import (
	"fmt"
	"slices"
	"strings"
)

// Capabilities by number, as the kernel numbers them
// (include/uapi/linux/capability.h). A kernel may know fewer: LastCap.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// DefaultCapabilities are the 14 that Docker gives a container (moby's
// daemon/pkg/oci/caps/defaults.go). Everything else (SYS_ADMIN, NET_ADMIN,
// SYS_MODULE, SYS_TIME, SYS_PTRACE, DAC_READ_SEARCH, ...) is gone.
var DefaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// AllCapabilities lists every capability this package knows, in kernel
// order.
func AllCapabilities() []string { return slices.Clone(capNames) }

// CapNumber is the kernel's number of a capability name ("CAP_SYS_ADMIN").
func CapNumber(name string) (int, bool) {
	i := slices.Index(capNames, name)
	return i, i >= 0
}

// NormalizeCapabilities accepts names as docker run's --cap-add does
// ("sys_admin", "CAP_SYS_ADMIN", "ALL") and returns them upper-case with
// the CAP_ prefix ("ALL" stays "ALL").
func NormalizeCapabilities(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		c := strings.ToUpper(strings.TrimSpace(n))
		if c == "ALL" {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !slices.Contains(capNames, c) {
			return nil, fmt.Errorf("unknown capability: %q", c)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Capabilities applies docker run's --privileged, --cap-add and
// --cap-drop to DefaultCapabilities, with moby's rules: privileged gets
// them all; "ALL" in add is every capability but the dropped ones; "ALL"
// in drop leaves only the added ones; otherwise drop, then add.
func Capabilities(add, drop []string, privileged bool) ([]string, error) {
	if privileged {
		return AllCapabilities(), nil
	}
	add, err := NormalizeCapabilities(add)
	if err != nil {
		return nil, err
	}
	drop, err = NormalizeCapabilities(drop)
	if err != nil {
		return nil, err
	}
	var caps []string
	switch {
	case slices.Contains(add, "ALL"):
		for _, c := range capNames {
			if !slices.Contains(drop, c) {
				caps = append(caps, c)
			}
		}
		return caps, nil
	case slices.Contains(drop, "ALL"):
		caps = nil
	default:
		for _, c := range DefaultCapabilities {
			if !slices.Contains(drop, c) {
				caps = append(caps, c)
			}
		}
	}
	for _, c := range add {
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	return caps, nil
}
