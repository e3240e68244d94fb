package rootfs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
)

// busyboxDir is the smallest root filesystem that runs sh.
func busyboxDir(t *testing.T) string { return testkit.BusyboxRoot(t) }

// runIn runs script with sh in a container whose root is cfg.
func runIn(t *testing.T, cfg Config, script string) (stdout, stderr string, code int, err error) {
	t.Helper()
	return runInNS(t, namespaces.Default, cfg, script)
}

// runInNS is runIn with the namespaces ns (without Net: --network host).
func runInNS(t *testing.T, ns []namespaces.Namespace, cfg Config, script string) (stdout, stderr string, code int, err error) {
	t.Helper()
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	var out, errb bytes.Buffer
	// Each container has a deadline: a bug that hangs it fails the test.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	status, err := namespaces.RunContext(ctx, namespaces.Config{
		Args: []string{"sh", "-c", script}, Env: []string{"PATH=" + process.DefaultPath},
		Namespaces: ns, Hostname: "mdk-rootfs",
		Stages: map[string]json.RawMessage{StageName: raw},
	}, namespaces.Options{Stdout: &out, Stderr: &errb})
	return strings.TrimSpace(out.String()), errb.String(), status.ExitCode(), err
}

func mustRun(t *testing.T, cfg Config, script string) string {
	t.Helper()
	out, stderr, code, err := runIn(t, cfg, script)
	require.NoError(t, err)
	require.Equal(t, 0, code, "script %q: stdout %q stderr %q", script, out, stderr)
	return out
}

func TestHostNotReachable(t *testing.T) {
	testkit.RequireRoot(t)
	marker := filepath.Join(t.TempDir(), "host-marker")
	require.NoError(t, os.WriteFile(marker, []byte("host"), 0o644))
	root := busyboxDir(t)
	// pivot_root(".", ".") stacks the host's / on the new one: no path
	// leads there, but until it is detached it is still mounted in the
	// container (with every host mount under it): one mount on / only.
	out := mustRun(t, Config{Root: root}, "test -e "+marker+" && echo reachable || echo unreachable; "+
		`awk '$5 == "/"' /proc/self/mountinfo | wc -l; ls /`)
	lines := strings.Split(out, "\n")
	if lines[0] != "unreachable" {
		t.Errorf("the host's %s is %s from inside", marker, lines[0])
	}
	if lines[1] != "1" {
		t.Errorf("%s mounts on / inside, want 1: the host's old root is still mounted", lines[1])
	}
	if got := strings.Join(lines[2:], " "); got != "bin dev etc proc sys" {
		t.Errorf("ls / = %q, want the image's own tree plus dev proc sys", got)
	}
}

func TestProcShowsOnlyTheContainer(t *testing.T) {
	testkit.RequireRoot(t)
	// Only shell built-ins: no other process exists while the loop runs.
	out := mustRun(t, Config{Root: busyboxDir(t)}, `for p in /proc/[0-9]*; do echo ${p#/proc/}; done`)
	if out != "1" {
		t.Errorf("processes in /proc inside: %q, want only 1 (sh)", out)
	}
}

func TestDev(t *testing.T) {
	testkit.RequireRoot(t)
	out := mustRun(t, Config{Root: busyboxDir(t)}, `ls /dev | tr '\n' ' '; echo; `+
		`echo x > /dev/null && head -c 5 /dev/urandom | wc -c && head -c 3 /dev/zero | wc -c; `+
		`grep -E ' /dev/(pts|shm|mqueue) ' /proc/self/mountinfo | wc -l; readlink /dev/ptmx; readlink /dev/fd`)
	want := kcoreLink() + "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \n5\n3\n3\npts/ptmx\n/proc/self/fd"
	if out != want {
		t.Errorf("/dev inside:\n%s\nwant:\n%s", out, want)
	}
}

// kcoreLink is "core " when /dev/core is expected in ls /dev: only where
// the kernel has a /proc/kcore (CONFIG_PROC_KCORE), as runc makes it.
func kcoreLink() string {
	if _, err := os.Stat("/proc/kcore"); err != nil {
		return ""
	}
	return "core "
}

func TestMaskedAndReadonlyPaths(t *testing.T) {
	testkit.RequireRoot(t)
	tests := []struct {
		name, script, want string
	}{
		{"kcore is empty (if the kernel has one)", "test ! -e /proc/kcore && echo 0 || wc -c < /proc/kcore", "0"},
		{"keys is empty", "wc -c < /proc/keys", "0"},
		{"timer_list is empty", "wc -c < /proc/timer_list", "0"},
		{"firmware is empty", "ls -A /sys/firmware | wc -l", "0"},
		{"/proc/sys is read-only", "echo mdk > /proc/sys/kernel/hostname 2>/dev/null && echo written || echo refused", "refused"},
		{"sysrq-trigger is read-only", "echo h > /proc/sysrq-trigger 2>/dev/null && echo written || echo refused", "refused"},
		{"/sys is read-only", "touch /sys/mdk 2>/dev/null && echo written || echo refused", "refused"},
		// touch fails on sysfs's root anyway (no file can be created there):
		// the mount's own flags say whether /sys/kernel/mm/ksm/run and the
		// like could be written.
		{"/sys is mounted ro", `awk '$5 == "/sys" { split($6, o, ","); print o[1] }' /proc/self/mountinfo`, "ro"},
	}
	root := busyboxDir(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustRun(t, Config{Root: root}, tc.script); got != tc.want {
				t.Errorf("%s: got %q, want %q", tc.script, got, tc.want)
			}
		})
	}
}

// TestMaskedPathsList: the list is Docker's (moby's oci defaults), whether
// or not this kernel has each file: a check at run time alone passes
// without /proc/kcore on a kernel built without it. And every masked path
// that this host has reads empty in a container.
func TestMaskedPathsList(t *testing.T) {
	docker := []string{"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap"}
	for _, p := range docker {
		require.Contains(t, DefaultMaskedPaths, p, "Docker masks %s", p)
	}
	require.Subset(t, DefaultReadonlyPaths, []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"})

	testkit.RequireRoot(t)
	var script []string
	for _, p := range DefaultMaskedPaths {
		if _, err := os.Stat(p); err == nil {
			script = append(script, fmt.Sprintf(`[ -d %[1]s ] && n=$(ls -A %[1]s | wc -l) || n=$(head -c 1 %[1]s | wc -c); [ "$n" = 0 ] || echo "readable: %[1]s"`, p))
			// A directory is masked by an empty tmpfs, which must be
			// read-only too: nothing may be planted where the kernel's
			// files were.
			script = append(script, fmt.Sprintf(`[ -d %[1]s ] && touch %[1]s/mdk 2>/dev/null && echo "writable: %[1]s"`, p))
		}
	}
	require.NotEmpty(t, script, "no masked path exists on this host")
	out := mustRun(t, Config{Root: busyboxDir(t)}, strings.Join(script, "; ")+"; echo done")
	require.Equal(t, "done", out)
}

func TestVolumes(t *testing.T) {
	testkit.RequireRoot(t)
	root := busyboxDir(t)
	vol := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(vol, "index.html"), []byte("<h1>hello</h1>\n"), 0o644))

	// rw: the container reads the host's file and its write lands on the host.
	out := mustRun(t, Config{Root: root, Mounts: []Mount{{Source: vol, Destination: "/usr/local/apache2/htdocs"}}},
		"cat /usr/local/apache2/htdocs/index.html; echo from-container > /usr/local/apache2/htdocs/new")
	require.Equal(t, "<h1>hello</h1>", out)
	got, err := os.ReadFile(filepath.Join(vol, "new"))
	require.NoError(t, err, "the container's write did not reach the host directory")
	require.Equal(t, "from-container\n", string(got))

	// ro: reads work, writes are refused.
	out = mustRun(t, Config{Root: root, Mounts: []Mount{{Source: vol, Destination: "/data", ReadOnly: true}}},
		"cat /data/new; echo x > /data/other 2>/dev/null && echo written || echo refused")
	require.Equal(t, "from-container\nrefused", out)
	_, err = os.Stat(filepath.Join(vol, "other"))
	require.ErrorIs(t, err, os.ErrNotExist, ":ro volume was written")

	// A file volume.
	file := filepath.Join(vol, "index.html")
	out = mustRun(t, Config{Root: root, Mounts: []Mount{{Source: file, Destination: "/etc/motd"}}}, "cat /etc/motd")
	require.Equal(t, "<h1>hello</h1>", out)
}

func TestVolumeErrors(t *testing.T) {
	testkit.RequireRoot(t)
	root := busyboxDir(t)
	// The image makes /data a symlink to the host's /etc: the mount must
	// not follow it out of the root.
	require.NoError(t, os.Symlink("/etc", filepath.Join(root, "data")))
	vol := t.TempDir()
	tests := []struct {
		name    string
		mount   Mount
		wantErr string
	}{
		{"missing host path", Mount{Source: "/nonexistent/mdk", Destination: "/x"}, "bind source path does not exist: /nonexistent/mdk"},
		{"a file over a directory", Mount{Source: "/etc/hostname", Destination: "/bin"}, "is a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := runIn(t, Config{Root: root, Mounts: []Mount{tc.mount}}, "true")
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
			}
			if process.ExitCode(err) != 125 {
				t.Errorf("exit code %d, want 125", process.ExitCode(err))
			}
		})
	}
	_ = vol
}

// TestVolumeTargetThroughSymlinks: a -v target under a symlink of the image
// is resolved inside the container's root, as Docker does: an absolute link
// (var/run -> /run, as in Debian images) from the container's "/", and a
// hostile relative one (vol -> ../../../etc) stops at the root. Nothing
// lands on the host's /etc or /run.
func TestVolumeTargetThroughSymlinks(t *testing.T) {
	testkit.RequireRoot(t)
	root := busyboxDir(t)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "var"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "run"), 0o755))
	require.NoError(t, os.Symlink("/run", filepath.Join(root, "var/run")))
	require.NoError(t, os.Symlink("../../../etc", filepath.Join(root, "vol")))
	require.NoError(t, os.Symlink("/etc", filepath.Join(root, "data")))
	tests := []struct {
		dest   string
		inRoot string // where the mount point must be, relative to root
	}{
		{"/var/run/mdk-sock", "run/mdk-sock"},
		{"/vol/mdk-hostile", "etc/mdk-hostile"},
		{"/data/mdk-sub", "etc/mdk-sub"},
	}
	for _, tc := range tests {
		t.Run(tc.dest, func(t *testing.T) {
			vol := t.TempDir()
			mustRun(t, Config{Root: root, Mounts: []Mount{{Source: vol, Destination: tc.dest}}},
				"echo hello > "+tc.dest+"/file")
			got, err := os.ReadFile(filepath.Join(vol, "file"))
			require.NoError(t, err, "the write through %s did not reach the volume", tc.dest)
			require.Equal(t, "hello\n", string(got))
			fi, err := os.Stat(filepath.Join(root, tc.inRoot))
			require.NoError(t, err, "the mount point was not made at %s inside the root", tc.inRoot)
			require.True(t, fi.IsDir())
			host := filepath.Join("/", tc.inRoot)
			if _, err := os.Stat(host); err == nil {
				t.Errorf("%s exists on the host", host)
			}
		})
	}
}

// TestVolumeTargetIntoKernelFS: a target that only resolves to /proc or
// /sys through an image's symlink is refused as ParseVolume refuses the
// path itself.
func TestVolumeTargetIntoKernelFS(t *testing.T) {
	testkit.RequireRoot(t)
	root := busyboxDir(t)
	require.NoError(t, os.Symlink("/proc/sys", filepath.Join(root, "kern")))
	_, _, _, err := runIn(t, Config{Root: root, Mounts: []Mount{{Source: t.TempDir(), Destination: "/kern/x"}}}, "true")
	require.Error(t, err)
	require.Contains(t, err.Error(), "mount target /kern/x resolves to /proc/sys/x: cannot mount over /proc")
}

func TestUserFromImage(t *testing.T) {
	testkit.RequireRoot(t)
	root := busyboxDir(t)
	raw, err := json.Marshal(Config{Root: root})
	require.NoError(t, err)
	var out bytes.Buffer
	_, err = namespaces.Run(namespaces.Config{
		Args: []string{"sh", "-c", "echo $(id -u) $HOME"}, Env: []string{"PATH=" + process.DefaultPath},
		Namespaces: namespaces.Default, User: "nobody",
		Stages: map[string]json.RawMessage{StageName: raw},
	}, namespaces.Options{Stdout: &out})
	require.NoError(t, err)
	// The image's passwd says nobody's home is /home; the host's says /nonexistent.
	require.Equal(t, "65534 /home", strings.TrimSpace(out.String()))
}

// TestCgroupView: in its cgroup namespace the container sees its own cgroup
// as "/" in every hierarchy, and /sys/fs/cgroup is read-only: no file can be
// made in it or in any hierarchy (on v1 that would be a new cgroup, or a
// release_agent the host runs).
func TestCgroupView(t *testing.T) {
	testkit.RequireRoot(t)
	own, err := os.ReadFile("/proc/self/cgroup")
	require.NoError(t, err)
	root := busyboxDir(t)
	// A cgroup the container manages to make is a real one on the host,
	// in the cgroups of this test process: find it by its unique name, to
	// fail the test and remove it, also when an assertion stops the test.
	escape := fmt.Sprintf("mdk-escape-%d", os.Getpid())
	leaked := func() []string {
		var found []string
		for _, pattern := range []string{"", "*/", "*/*/", "*/*/*/", "*/*/*/*/"} {
			m, _ := filepath.Glob("/sys/fs/cgroup/" + pattern + escape)
			found = append(found, m...)
		}
		return found
	}
	t.Cleanup(func() {
		for _, d := range leaked() {
			t.Errorf("the container made the cgroup %s on the host", d)
			os.Remove(d)
		}
	})
	script := `cut -d: -f3 /proc/self/cgroup | sort -u; ` +
		`touch /sys/fs/cgroup/mdk 2>/dev/null && echo written || echo refused; ` +
		`for d in /sys/fs/cgroup/*/; do mkdir ${d}` + escape + ` 2>/dev/null && echo "made $d"; done; ` +
		`ls /sys/fs/cgroup | wc -l`
	for _, tc := range []struct {
		name string
		ns   []namespaces.Namespace
	}{
		{"own network", namespaces.Default},
		{"host network", []namespaces.Namespace{namespaces.UTS, namespaces.PID, namespaces.Mnt, namespaces.IPC, namespaces.Cgroup}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code, err := runInNS(t, tc.ns, Config{Root: root}, script)
			require.NoError(t, err)
			require.Equal(t, 0, code, "stderr %q", stderr)
			lines := strings.Split(out, "\n")
			require.GreaterOrEqual(t, len(lines), 3, "output %q", out)
			require.Equal(t, []string{"/", "refused"}, lines[:2], "host's /proc/self/cgroup:\n%s", own)
			require.NotEqual(t, "0", lines[len(lines)-1], "no hierarchy under /sys/fs/cgroup")
			require.Len(t, lines, 3, "a directory was made in a cgroup hierarchy: %q", out)
		})
	}
}

// TestHostNetworkSysReadOnly: with --network host, /sys is the host's,
// bound recursively; every mount under it must be read-only, not only the
// top (before mount_setattr, /sys/kernel/tracing and /sys/fs/cgroup/* were
// writable).
func TestHostNetworkSysReadOnly(t *testing.T) {
	testkit.RequireRoot(t)
	ns := []namespaces.Namespace{namespaces.UTS, namespaces.PID, namespaces.Mnt, namespaces.IPC, namespaces.Cgroup}
	// Mount point and options of every mount under /sys whose options do
	// not start with "ro".
	out := mustRunNS(t, ns, Config{Root: busyboxDir(t)},
		`awk '$5 ~ "^/sys" { n++; if ($6 !~ /^ro/) print $5, $6 } END { print n " mounts" }' /proc/self/mountinfo`)
	lines := strings.Split(out, "\n")
	if len(lines) != 1 {
		t.Errorf("writable mounts under /sys with --network host:\n%s", out)
	}
	var n int
	_, err := fmt.Sscanf(lines[len(lines)-1], "%d mounts", &n)
	require.NoError(t, err, "output %q", out)
	require.Greater(t, n, 2, "the host's submounts of /sys (and our cgroup view) were not there: %q", out)
}

func mustRunNS(t *testing.T, ns []namespaces.Namespace, cfg Config, script string) string {
	t.Helper()
	out, stderr, code, err := runInNS(t, ns, cfg, script)
	require.NoError(t, err)
	require.Equal(t, 0, code, "script %q: stdout %q stderr %q", script, out, stderr)
	return out
}

// TestReadOnlyRoot: --read-only refuses writes to the image's files, while
// /dev/shm, /dev and the volumes stay writable.
func TestReadOnlyRoot(t *testing.T) {
	testkit.RequireRoot(t)
	vol := t.TempDir()
	out := mustRun(t, Config{Root: busyboxDir(t), ReadOnly: true, Mounts: []Mount{{Source: vol, Destination: "/data"}}},
		`for f in /mdk /etc/mdk /dev/shm/mdk /data/mdk; do touch $f 2>/dev/null && echo "$f ok" || echo "$f refused"; done; `+
			`mkdir /dev/mdk && echo "/dev ok"`)
	require.Equal(t, "/mdk refused\n/etc/mdk refused\n/dev/shm/mdk ok\n/data/mdk ok\n/dev ok", out)
	// Without ReadOnly the same root is writable: the test can tell.
	out = mustRun(t, Config{Root: busyboxDir(t)}, `touch /mdk && echo ok`)
	require.Equal(t, "ok", out)
}

// TestPrivileged: no masked or read-only paths, /sys and /sys/fs/cgroup
// writable. /proc/sys/kernel/hostname is safe to write: it is the
// container's own UTS namespace.
func TestPrivileged(t *testing.T) {
	testkit.RequireRoot(t)
	script := `echo mdk-priv > /proc/sys/kernel/hostname 2>/dev/null && hostname || echo refused; ` +
		`grep -c ' /proc/keys \| /proc/timer_list ' /proc/self/mountinfo; ` +
		`touch /sys/fs/cgroup/mdk 2>/dev/null && echo written || echo refused; ` +
		`awk '$5 == "/sys" { print substr($6, 1, 2) }' /proc/self/mountinfo`
	root := busyboxDir(t)
	require.Equal(t, "mdk-priv\n0\nwritten\nrw", mustRun(t, Config{Root: root, Privileged: true}, script))
	require.Equal(t, "refused\n2\nrefused\nro", mustRun(t, Config{Root: root}, script))
}
