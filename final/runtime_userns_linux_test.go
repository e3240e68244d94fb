//go:build linux

package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step03-rootfs-layers/rootfs"
)

// usernsProbe is what a process tells about its user namespace: the
// mappings it sees, who it is, and who owns a file of the image (unpacked
// by host root, which the mappings leave out: the overflow ID, 65534),
// that /dev/null is a working character device, and that
// /sys/fs/cgroup/pids is its own cgroup (pids.max: not the host's root).
const usernsProbe = `cat /proc/self/uid_map /proc/self/gid_map; id; ls -ln /bin/busybox | awk '{print $3, $4}'; ` +
	`ls -l /dev/null | cut -c1; echo hi > /dev/null && echo null-ok; ` +
	`test -f /sys/fs/cgroup/pids/pids.max && echo own-cgroup`

// userns maps container 0 to host 100000, 65536 IDs, for users and groups.
func userns(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
}

// TestRuntimeUserNamespace runs the same bundle, with a user namespace
// that maps container 0 to host 100000, under minidocker's runtime and
// under runc: the mappings, id, the owner of an image file and /dev/null
// (a bound host node) must read the same, and on the host the
// container's process must be user 100000; a terminal sent to a console
// socket works as runc's does. exec into it is runc's only:
// minidocker's runtime refuses it by name (see namespaces.Join).
func TestRuntimeUserNamespace(t *testing.T) {
	rts := runtimesUnderTest(t)
	bundle, parent := busyboxBundle(t)
	rootfsDir := filepath.Join(bundle, "rootfs")
	// The container's root is host 100000, and meets the bundle as such:
	// the test's directories (0700, host root's) must let others through,
	// and the mount points must be there, as an image's are (neither
	// runtime may mkdir in a directory of host root's).
	for dir := rootfsDir; dir != "/"; dir = filepath.Dir(dir) {
		if strings.HasPrefix(dir, os.TempDir()+"/") {
			require.NoError(t, os.Chmod(dir, 0o755))
		}
	}
	for _, dir := range []string{"proc", "dev", "sys", "tmp"} {
		require.NoError(t, os.MkdirAll(filepath.Join(rootfsDir, dir), 0o755))
	}
	var outs []string
	for _, rt := range rts {
		// Without a cgroup namespace (runc spec's), the cgroup
		// filesystems cannot be mounted in the user namespace and are
		// bound; with one, they are mounted.
		b := runcSpecBundle(t, rootfsDir, filepath.Join(parent, rt.name), "sh", "-c", usernsProbe)
		editSpec(t, b, userns)
		res := rt.run("run", "--bundle", b, "userns")
		require.Equal(t, 0, res.Code, "%s run: %s", rt.name, res.Stderr)
		b = runcSpecBundle(t, rootfsDir, filepath.Join(parent, rt.name+"-cgns"), "sh", "-c", usernsProbe)
		editSpec(t, b, func(s *specs.Spec) {
			userns(s)
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
		})
		withCgroupNS := rt.run("run", "--bundle", b, "userns-cgns")
		require.Equal(t, 0, withCgroupNS.Code, "%s run with a cgroup namespace: %s", rt.name, withCgroupNS.Stderr)
		require.Equal(t, res.Stdout, withCgroupNS.Stdout, "%s: with and without a cgroup namespace", rt.name)
		outs = append(outs, res.Stdout)

		// On the host, the container's root is user 100000.
		lc := runcSpecBundle(t, rootfsDir, filepath.Join(parent, rt.name+"-lc"), "sleep", "60")
		editSpec(t, lc, userns)
		rt.create(lc, "userns-lc")
		pid := rt.state("userns-lc").Pid
		status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
		require.NoError(t, err)
		var ids []string
		for line := range strings.SplitSeq(string(status), "\n") {
			if strings.HasPrefix(line, "Uid:") || strings.HasPrefix(line, "Gid:") {
				ids = append(ids, strings.Join(strings.Fields(line), " "))
			}
		}
		require.Equal(t, []string{"Uid: 100000 100000 100000 100000", "Gid: 100000 100000 100000 100000"}, ids,
			"%s: the init's IDs on the host (real, effective, saved, filesystem)", rt.name)
		// exec: runc joins the user namespace (in C, before its Go
		// runtime starts); minidocker's runtime, built without cgo,
		// cannot, and must say so rather than run the command outside it.
		res = rt.run("exec", "userns-lc", "sh", "-c", "id; cat /proc/self/uid_map")
		if rt.name == "runc" {
			require.Equal(t, 0, res.Code, "runc exec: %s", res.Stderr)
			require.True(t, strings.HasPrefix(res.Stdout, "uid=0(root) gid=0(root)"), "runc exec: %q", res.Stdout)
			require.Contains(t, res.Stdout, "100000", "runc exec: %q", res.Stdout)
		} else {
			require.NotEqual(t, 0, res.Code, "%s exec into a user namespace: %s", rt.name, res.Stdout)
			require.Contains(t, res.Stderr, "joining the container's user namespace is not supported", rt.name)
		}
		rt.ok("delete", "--force", "userns-lc")

		// A terminal: the console socket sits in a directory of host
		// root's (0700) that the container's root cannot reach.
		tb := runcSpecBundle(t, rootfsDir, filepath.Join(parent, rt.name+"-tty"), "sh", "-c", "tty; id -u")
		editSpec(t, tb, func(s *specs.Spec) { userns(s); s.Process.Terminal = true })
		sock := filepath.Join(t.TempDir(), "console.sock")
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
		require.NoError(t, err)
		got := make(chan string, 1)
		go func() { got <- readConsole(ln) }()
		rt.create(tb, "userns-tty", "--console-socket", sock)
		rt.ok("start", "userns-tty")
		require.Equal(t, "/dev/pts/0\r\n0\r\n", <-got, "%s: the terminal in a user namespace", rt.name)
		ln.Close()
	}
	t.Logf("minidocker:\n%s", outs[0])
	require.Equal(t, outs[1], outs[0], "the probe in a user namespace: minidocker's runtime (got) differs from runc (want)")
	want := "         0     100000      65536\n         0     100000      65536\nuid=0(root) gid=0(root)"
	require.True(t, strings.HasPrefix(outs[0], want), "the probe's start: got %q, want %q", outs[0], want)
	require.Contains(t, outs[0], "\n65534 65534\n", "an image file owned by host root")
	require.Contains(t, outs[0], "\nc\nnull-ok\nown-cgroup\n", "/dev/null and the cgroups")
}

// readConsole receives the pty master on ln and reads it to the end of
// the command's output (EIO once the last slave is closed).
func readConsole(ln *net.UnixListener) string {
	master, err := rootfs.ReceiveConsole(ln)
	if err != nil {
		return err.Error()
	}
	defer master.Close()
	master.SetReadDeadline(time.Now().Add(10 * time.Second))
	all, _ := io.ReadAll(master)
	return string(all)
}

// TestRuntimeUserNamespaceRefuses: what a user namespace needs and what
// minidocker's runtime does not do with one are refused at create, naming
// the field, and leave no state behind.
func TestRuntimeUserNamespaceRefuses(t *testing.T) {
	testkit.RequireRoot(t)
	rt := &ociRT{t: t, name: "minidocker", bin: ociRuntimeBinary(t), root: t.TempDir()}
	bundle, parent := busyboxBundle(t)
	b := runcSpecBundle(t, filepath.Join(bundle, "rootfs"), filepath.Join(parent, "refuses"), "true")
	onlyUIDs := func(s *specs.Spec) { userns(s); s.Linux.GIDMappings = nil }
	for _, tc := range []struct {
		name, want string
		edit       func(*specs.Spec)
	}{
		{"mappings without a user namespace", "linux.uidMappings/gidMappings: mappings need a user namespace", func(s *specs.Spec) {
			userns(s)
			s.Linux.Namespaces = s.Linux.Namespaces[:len(s.Linux.Namespaces)-1]
		}},
		{"a user namespace without mappings", "linux.namespaces: a new user namespace needs linux.uidMappings", func(s *specs.Spec) {
			userns(s)
			s.Linux.UIDMappings, s.Linux.GIDMappings = nil, nil
		}},
		{"no gid mappings", "linux.gidMappings: a new user namespace needs it", onlyUIDs},
		{"root unmapped", "linux.uidMappings: container ID 0 is not mapped", func(s *specs.Spec) {
			userns(s)
			s.Linux.UIDMappings[0].ContainerID = 1
		}},
		{"a namespace by path with a user namespace", "joining a network namespace by path with a new user namespace", func(s *specs.Spec) {
			userns(s)
			for i, n := range s.Linux.Namespaces {
				if n.Type == specs.NetworkNamespace {
					s.Linux.Namespaces[i].Path = "/proc/self/ns/net"
				}
			}
		}},
		{"a user namespace by path", "joining a user namespace by path", func(s *specs.Spec) {
			userns(s)
			s.Linux.Namespaces[len(s.Linux.Namespaces)-1].Path = "/proc/1/ns/user"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.CopyFS(dir, os.DirFS(b)))
			editSpec(t, dir, tc.edit)
			res := rt.run("create", "--bundle", dir, "refused")
			require.NotEqual(t, 0, res.Code)
			require.Contains(t, res.Stderr, tc.want)
			require.NotEqual(t, 0, rt.run("state", "refused").Code, "a refused create left its state")
		})
	}
}
