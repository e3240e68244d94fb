package rootfs

import (
	"slices"
	"strings"
	"testing"

	"minidocker/step02-namespaces/namespaces"
)

// TestCheckSysctl: runc's validator's rules, each way. has lists the
// namespaces the container has of its own.
func TestCheckSysctl(t *testing.T) {
	all := namespaces.Default
	none := []namespaces.Namespace{namespaces.Mnt, namespaces.PID}
	for _, tc := range []struct {
		key     string
		has     []namespaces.Namespace
		wantErr string // "" for allowed
	}{
		{"kernel.shmmax", all, ""},
		{"kernel.shmmax", none, `sysctl "kernel.shmmax" is not allowed in the host's ipc namespace`},
		{"kernel.msgmnb", none, "ipc namespace"},
		{"kernel.sem", []namespaces.Namespace{namespaces.IPC}, ""},
		{"fs.mqueue.msg_max", all, ""},
		{"fs/mqueue/msg_max", none, "ipc namespace"},
		{"net.ipv4.ip_forward", all, ""},
		{"net/ipv4/ip_forward", all, ""},
		{"net.ipv4.ip_forward", none, `sysctl "net.ipv4.ip_forward" is not allowed in the host's network namespace`},
		{"net.ipv4.conf.eth0/100.rp_filter", []namespaces.Namespace{namespaces.Net}, ""},
		{"kernel.domainname", all, ""},
		{"kernel.domainname", none, "is not in a separate kernel namespace"},
		{"kernel.hostname", all, `conflicts with the OCI "hostname" field`},
		{"kernel.hostname", none, "is not in a separate kernel namespace"},
		{"vm.overcommit_memory", all, `sysctl "vm.overcommit_memory" is not in a separate kernel namespace`},
		{"kernel.pid_max", all, "is not in a separate kernel namespace"},
		{"net..ipv4", all, "not a sysctl key"},
		{"net.ipv4.conf.lo/../../../kernel/core_pattern", all, "not a sysctl key"},
		{"", all, "not a sysctl key"},
	} {
		has := func(ns namespaces.Namespace) bool { return slices.Contains(tc.has, ns) }
		err := CheckSysctl(tc.key, has)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("CheckSysctl(%q, %v) = %v, want allowed", tc.key, tc.has, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("CheckSysctl(%q, %v) = %v, want an error containing %q", tc.key, tc.has, err, tc.wantErr)
		}
	}
}

func TestSysctlPath(t *testing.T) {
	for key, want := range map[string]string{
		"net.ipv4.ip_forward":              "net/ipv4/ip_forward",
		"net/ipv4/ip_forward":              "net/ipv4/ip_forward",
		"kernel.shmmax":                    "kernel/shmmax",
		"net.ipv4.conf.eth0/100.rp_filter": "net/ipv4/conf/eth0.100/rp_filter",
		"net/ipv4/conf/eth0.100/rp_filter": "net/ipv4/conf/eth0.100/rp_filter",
	} {
		if got, err := sysctlPath(key); err != nil || got != want {
			t.Errorf("sysctlPath(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
}

func TestCheckSpecMount(t *testing.T) {
	for _, tc := range []struct {
		m       SpecMount
		wantErr string
	}{
		{SpecMount{Destination: "/proc", Type: "proc", Source: "proc"}, ""},
		{SpecMount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup"}, ""},
		{SpecMount{Destination: "/data", Type: "bind", Source: "/srv/data", Options: []string{"rbind", "ro"}}, ""},
		{SpecMount{Destination: "/data", Type: "none", Source: "/srv/data", Options: []string{"bind"}}, ""},
		{SpecMount{Destination: "/proc/meminfo", Type: "bind", Source: "/var/lib/lxcfs/proc/meminfo", Options: []string{"bind"}}, ""},
		{SpecMount{Destination: "/x", Type: "nfs", Source: "srv:/x"}, `mount /x: type "nfs" is not supported`},
		{SpecMount{Destination: "/x", Type: "overlay", Source: "overlay"}, `mount /x: type "overlay" is not supported`},
		{SpecMount{Destination: "data", Type: "tmpfs"}, "mount data: destination must be an absolute path"},
		{SpecMount{Destination: "/", Type: "tmpfs"}, "mount /: cannot mount over /"},
		{SpecMount{Destination: "/data", Type: "bind", Source: "data"}, `mount /data: bind source "data" must be an absolute path`},
		{SpecMount{Destination: "/proc", Type: "tmpfs"}, `mount /proc: "/proc" cannot be mounted because it is not of type proc`},
		{SpecMount{Destination: "/proc/sys", Type: "bind", Source: "/tmp", Options: []string{"rbind"}}, `mount /proc/sys: "/proc/sys" cannot be mounted because it is inside /proc`},
		{SpecMount{Destination: "/proc/sys/../sysrq-trigger", Type: "tmpfs"}, `"/proc/sysrq-trigger" cannot be mounted because it is inside /proc`},
	} {
		err := CheckSpecMount(tc.m)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("CheckSpecMount(%+v) = %v, want nil", tc.m, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("CheckSpecMount(%+v) = %v, want an error containing %q", tc.m, err, tc.wantErr)
		}
	}
}
