package rootfs

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"minidocker/internal/testkit"
	"minidocker/step02-namespaces/namespaces"
)

// runcSpecMounts is the mount list of the config.json that "runc spec"
// (runc 1.1) writes, as it writes it: what containerd, podman and Docker
// hand a runtime, give or take a few.
var runcSpecMounts = []SpecMount{
	{Destination: "/proc", Type: "proc", Source: "proc"},
	{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
	{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
	{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
	{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
	{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
	{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
}

// mountEntry is one line of mountinfo(5): the per-mount options (ro,
// nosuid...), the type, and the superblock's options (size=...).
type mountEntry struct {
	opts, fstype, super []string
	optional            []string // propagation: shared:N, master:N...
}

// parseMountinfo maps each mount point to its topmost mount.
func parseMountinfo(t *testing.T, text string) map[string]mountEntry {
	t.Helper()
	out := map[string]mountEntry{}
	for line := range strings.SplitSeq(text, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		fields, super := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 6 || len(super) < 3 {
			continue
		}
		out[fields[4]] = mountEntry{strings.Split(fields[5], ","), []string{super[0]}, strings.Split(super[2], ","), fields[6:]}
	}
	require.NotEmpty(t, out, "no mountinfo in %q", text)
	return out
}

// TestSpecMounts runs a container on runc's default mount list plus a
// read-only bind of a host directory, a bind of a file, a tmpfs with a
// size and an extra device, and checks from inside that each mount is there
// with the flags asked, that /dev was filled, and that the sysctls were
// written.
func TestSpecMounts(t *testing.T) {
	testkit.RequireRoot(t)
	root := busyboxDir(t)
	vol := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(vol, "hello"), []byte("from the host\n"), 0o644))
	file := filepath.Join(t.TempDir(), "motd")
	require.NoError(t, os.WriteFile(file, []byte("motd from the host\n"), 0o644))
	hostShmmax, err := os.ReadFile("/proc/sys/kernel/shmmax")
	require.NoError(t, err)

	mounts := append(slices.Clone(runcSpecMounts),
		SpecMount{Destination: "/data", Type: "bind", Source: vol, Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec", "rprivate"}},
		SpecMount{Destination: "/etc/motd", Type: "none", Source: file, Options: []string{"bind", "nosuid"}},
		SpecMount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "noexec", "size=1m", "mode=1770", "shared"}},
	)
	cfg := Config{
		Root: root, SpecMounts: mounts,
		Devices: []Device{{Path: "/dev/mdk/null", Type: "c", Major: 1, Minor: 3, FileMode: 0o640, GID: 5}},
		Sysctl:  map[string]string{"kernel.shmmax": "123456789", "net.ipv4.ip_default_ttl": "42"},
	}
	script := `cat /proc/self/mountinfo; echo ===; ` +
		`stat -c '%F %t:%T %a %u:%g' /dev/null /dev/mdk/null; readlink /dev/ptmx; readlink /dev/fd; ` +
		`ls /dev | tr '\n' ' '; echo; ` +
		`cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_default_ttl /data/hello /etc/motd; ` +
		`touch /data/new 2>/dev/null && echo written || echo refused; ` +
		`echo mdk > /proc/sys/kernel/shmmax 2>/dev/null && echo written || echo refused`
	out := mustRun(t, cfg, script)
	info, rest, ok := strings.Cut(out, "===\n")
	require.True(t, ok, "output %q", out)

	mi := parseMountinfo(t, info)
	for _, tc := range []struct {
		dest, fstype string
		opts         []string // per-mount flags that must be there
		notOpts      []string // and must not
		super        []string // superblock options that must be there
	}{
		{"/proc", "proc", []string{"rw"}, []string{"nosuid"}, nil},
		{"/dev", "tmpfs", []string{"rw", "nosuid"}, []string{"nodev", "noexec"}, []string{"mode=755"}},
		{"/dev/pts", "devpts", []string{"nosuid", "noexec"}, []string{"nodev"}, []string{"gid=5", "mode=620", "ptmxmode=666"}},
		{"/dev/shm", "tmpfs", []string{"nosuid", "nodev", "noexec"}, nil, []string{"size=65536k"}},
		{"/dev/mqueue", "mqueue", []string{"nosuid", "nodev", "noexec"}, nil, nil},
		{"/sys", "sysfs", []string{"ro", "nosuid", "nodev", "noexec"}, nil, nil},
		{"/data", "", []string{"ro", "nosuid", "nodev", "noexec"}, nil, nil},
		{"/etc/motd", "", []string{"rw", "nosuid"}, []string{"noexec"}, nil},
		{"/scratch", "tmpfs", []string{"rw", "nosuid", "noexec"}, []string{"nodev"}, []string{"size=1024k", "mode=1770"}},
	} {
		e, ok := mi[tc.dest]
		if !ok {
			t.Errorf("%s is not mounted in the container:\n%s", tc.dest, info)
			continue
		}
		if tc.fstype != "" && e.fstype[0] != tc.fstype {
			t.Errorf("%s: type %s, want %s", tc.dest, e.fstype[0], tc.fstype)
		}
		for _, o := range tc.opts {
			if !slices.Contains(e.opts, o) {
				t.Errorf("%s: options %v, want %s", tc.dest, e.opts, o)
			}
		}
		for _, o := range tc.notOpts {
			if slices.Contains(e.opts, o) {
				t.Errorf("%s: options %v, want no %s", tc.dest, e.opts, o)
			}
		}
		for _, o := range tc.super {
			if !slices.Contains(e.super, o) {
				t.Errorf("%s: superblock options %v, want %s", tc.dest, e.super, o)
			}
		}
	}
	// Propagation: only /scratch asked to be shared (a mount namespace's
	// mounts are private otherwise, step 2 made them so).
	for dest, e := range mi {
		shared := slices.ContainsFunc(e.optional, func(f string) bool { return strings.HasPrefix(f, "shared:") })
		if shared != (dest == "/scratch") {
			t.Errorf("%s: propagation fields %v", dest, e.optional)
		}
	}
	// The cgroup view: read-only, whichever layout the host has.
	cg, ok := mi["/sys/fs/cgroup"]
	if !ok || !slices.Contains(cg.opts, "ro") {
		t.Errorf("/sys/fs/cgroup is not mounted read-only: %+v", cg)
	}

	want := strings.Join([]string{
		"character special file 1:3 666 0:0",
		"character special file 1:3 640 0:5",
		"pts/ptmx",
		"/proc/self/fd",
		kcoreLink() + "fd full mdk mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero ",
		"123456789",
		"42", // the host's is 64; ip_forward would not do: a new netns may inherit the host's 1
		"from the host",
		"motd from the host",
		"refused",
		"refused", // /proc/sys is read-only once the sysctls are written
	}, "\n")
	require.Equal(t, want, rest)
	after, err := os.ReadFile("/proc/sys/kernel/shmmax")
	require.NoError(t, err)
	require.Equal(t, string(hostShmmax), string(after), "the host's kernel.shmmax changed")
}

// TestSpecMountsOnlyWhatIsListed: a spec without /dev/pts, /dev/shm,
// /dev/mqueue or /sys gets none of them, but its /dev is still filled.
// (Under /proc are the masked and read-only paths.)
func TestSpecMountsOnlyWhatIsListed(t *testing.T) {
	testkit.RequireRoot(t)
	cfg := Config{Root: busyboxDir(t), SpecMounts: runcSpecMounts[:2]}
	out := mustRun(t, cfg, `awk '$5 !~ "^/proc/" { print $5 }' /proc/self/mountinfo | sort | tr '\n' ' '; echo; stat -c '%t:%T' /dev/zero`)
	require.Equal(t, "/ /dev /proc \n1:5", out)
}

// TestSpecRecursiveAndCopyUp: "rro" makes an rbind and the mounts it
// brought along read-only (plain "ro" only the top one), and "tmpcopyup"
// starts a tmpfs with the image's files at its destination.
func TestSpecRecursiveAndCopyUp(t *testing.T) {
	testkit.RequireRoot(t)
	vol := t.TempDir()
	sub := filepath.Join(vol, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	require.NoError(t, unix.Mount("tmpfs", sub, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() {
		if err := unix.Unmount(sub, unix.MNT_DETACH); err != nil {
			t.Errorf("umount %s: %v", sub, err)
		}
	})
	root := busyboxDir(t)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "opt/app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "opt/app/file"), []byte("from the image\n"), 0o644))
	mounts := append(slices.Clone(runcSpecMounts),
		SpecMount{Destination: "/rdata", Type: "bind", Source: vol, Options: []string{"rbind", "rro"}},
		SpecMount{Destination: "/ronly", Type: "bind", Source: vol, Options: []string{"rbind", "ro"}},
		SpecMount{Destination: "/opt/app", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "nosuid", "size=1m"}},
	)
	out := mustRun(t, Config{Root: root, SpecMounts: mounts},
		`awk '$5 ~ "^/(rdata|ronly)" { print $5, substr($6, 1, 2) } `+
			`$5 == "/opt/app" { split($0, a, " - "); split(a[2], s, " "); print $5, s[1] }' /proc/self/mountinfo; `+
			`cat /opt/app/file; echo new > /opt/app/new && echo written`)
	require.Equal(t, "/rdata ro\n/rdata/sub ro\n/ronly ro\n/ronly/sub rw\n/opt/app tmpfs\nfrom the image\nwritten", out)
	_, err := os.Stat(filepath.Join(root, "opt/app/new"))
	require.ErrorIs(t, err, os.ErrNotExist, "the write went to the image's directory, not to the tmpfs")
}

// TestSpecNoMounts: an empty list (not nil) is a spec without mounts:
// no /proc, yet the nodes of /dev, made in the image's own directory.
func TestSpecNoMounts(t *testing.T) {
	testkit.RequireRoot(t)
	out := mustRun(t, Config{Root: busyboxDir(t), SpecMounts: []SpecMount{}, MaskedPaths: []string{}, ReadonlyPaths: []string{}},
		`test -e /proc/self && echo proc || echo no proc; stat -c '%t:%T' /dev/null`)
	require.Equal(t, "no proc\n1:3", out)
}

// TestSpecReadOnlyDev: a read-only /dev still gets its nodes (mounted
// writable first, made read-only after), and stays read-only.
func TestSpecReadOnlyDev(t *testing.T) {
	testkit.RequireRoot(t)
	mounts := slices.Clone(runcSpecMounts[:2])
	mounts[1].Options = append(slices.Clone(mounts[1].Options), "ro")
	out := mustRun(t, Config{Root: busyboxDir(t), SpecMounts: mounts},
		`awk '$5 == "/dev" { print $6 }' /proc/self/mountinfo; stat -c '%t:%T' /dev/null; readlink /dev/ptmx; `+
			`touch /dev/mdk 2>/dev/null && echo written || echo refused`)
	require.Equal(t, "ro,nosuid\n1:3\npts/ptmx\nrefused", out)
}

// TestSpecSysfsHostNetwork: without a network namespace of its own the
// container's /sys is the host's, bound read-only, as runc falls back
// (where the container may not mount a sysfs of that namespace). A new
// sysfs would look the same from inside; the mount's source tells them
// apart: the spec's label for a new one, the host's for a bind.
func TestSpecSysfsHostNetwork(t *testing.T) {
	testkit.RequireRoot(t)
	mounts := slices.Clone(runcSpecMounts)
	i := slices.IndexFunc(mounts, func(m SpecMount) bool { return m.Type == "sysfs" })
	mounts[i].Source = "mdk-sysfs"
	script := `awk '$5 == "/sys" { split($0, a, " - "); split(a[2], s, " "); print s[2], substr($6, 1, 2) } ` +
		`$5 ~ "^/sys" && $6 !~ /^ro/ { print "writable:", $5 }' /proc/self/mountinfo`
	hostNet := []namespaces.Namespace{namespaces.UTS, namespaces.PID, namespaces.Mnt, namespaces.IPC, namespaces.Cgroup}
	out := mustRunNS(t, hostNet, Config{Root: busyboxDir(t), SpecMounts: mounts}, script)
	require.NotEqual(t, "mdk-sysfs ro", out, "a new sysfs, not the host's /sys")
	require.Regexp(t, `^\S+ ro$`, out)
	out = mustRun(t, Config{Root: busyboxDir(t), SpecMounts: mounts}, script)
	require.Equal(t, "mdk-sysfs ro", out)
}

// TestSpecMountErrors: the init refuses what Setup cannot or must not
// mount, naming the mount, and a sysctl without its namespace.
func TestSpecMountErrors(t *testing.T) {
	testkit.RequireRoot(t)
	root := busyboxDir(t)
	// The image makes /kern a symlink into /proc: resolved, the target is
	// inside /proc, which a spec may not cover.
	require.NoError(t, os.Symlink("/proc/sys", filepath.Join(root, "kern")))
	// The sysctls that must be refused are the host's own: should the check
	// fail, the init would write them on the host, so they are given the
	// values the host has.
	hostValue := func(file string) string {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		return strings.TrimSpace(string(b))
	}
	shmmax, swappiness := hostValue("/proc/sys/kernel/shmmax"), hostValue("/proc/sys/vm/swappiness")
	withMount := func(m SpecMount) Config {
		return Config{Root: root, SpecMounts: append(slices.Clone(runcSpecMounts), m)}
	}
	for _, tc := range []struct {
		name    string
		ns      []namespaces.Namespace
		cfg     Config
		wantErr string
	}{
		{"unsupported type", namespaces.Default, withMount(SpecMount{Destination: "/x", Type: "nfs", Source: "srv:/x"}),
			`mount /x: type "nfs" is not supported`},
		{"relative destination", namespaces.Default, withMount(SpecMount{Destination: "x", Type: "tmpfs"}),
			"mount x: destination must be an absolute path"},
		{"missing bind source", namespaces.Default, withMount(SpecMount{Destination: "/x", Type: "bind", Source: "/nonexistent/mdk"}),
			"mount /x: bind source path does not exist: /nonexistent/mdk"},
		{"into /proc through a symlink", namespaces.Default, withMount(SpecMount{Destination: "/kern/x", Type: "tmpfs"}),
			`mount /kern/x: resolves to /proc/sys/x: "/proc/sys/x" cannot be mounted because it is inside /proc`},
		{"ipc sysctl without an ipc namespace", []namespaces.Namespace{namespaces.PID, namespaces.Mnt, namespaces.Net},
			Config{Root: root, SpecMounts: runcSpecMounts, Sysctl: map[string]string{"kernel.shmmax": shmmax}},
			`sysctl "kernel.shmmax" is not allowed in the host's ipc namespace`},
		{"host sysctl", namespaces.Default,
			Config{Root: root, SpecMounts: runcSpecMounts, Sysctl: map[string]string{"vm.swappiness": swappiness}},
			`sysctl "vm.swappiness" is not in a separate kernel namespace`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := runInNS(t, tc.ns, tc.cfg, "true")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestDefaultsWithDevices: without a spec, Devices are made in the default
// /dev too.
func TestDefaultsWithDevices(t *testing.T) {
	testkit.RequireRoot(t)
	cfg := Config{Root: busyboxDir(t), Devices: []Device{
		{Path: "/dev/mdk-zero", Type: "c", Major: 1, Minor: 5, UID: 65534},
		{Path: "/dev/mdk-fifo", Type: "p", FileMode: 0o600},
	}}
	out := mustRun(t, cfg, `stat -c '%F %t:%T %a %u' /dev/mdk-zero /dev/mdk-fifo`)
	require.Equal(t, "character special file 1:5 666 65534\nfifo 0:0 600 0", out)
}

// TestRuncSpecMountsAreRuncs: runcSpecMounts is what the installed runc's
// "runc spec" writes. SpecMount's JSON names are the spec's, so the
// config.json's mounts decode into it as they are.
func TestRuncSpecMountsAreRuncs(t *testing.T) {
	runc, err := exec.LookPath("runc")
	testkit.RequireFeature(t, err == nil, "runc")
	dir := t.TempDir()
	cmd := exec.Command(runc, "spec")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "runc spec: %s", out)
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	var spec struct {
		Mounts []SpecMount `json:"mounts"`
	}
	require.NoError(t, json.Unmarshal(data, &spec))
	require.Equal(t, runcSpecMounts, spec.Mounts)
}
