package rootfs

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
)

// busyboxDir makes a directory with /bin/busybox and its applets: the
// smallest root filesystem that runs sh.
func busyboxDir(t *testing.T) string {
	t.Helper()
	_, err := os.Stat("/bin/busybox")
	testkit.RequireFeature(t, err == nil, "/bin/busybox (Debian's busybox-static)")
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	data, err := os.ReadFile("/bin/busybox")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bin/busybox"), data, 0o755))
	out, err := exec.Command("/bin/busybox", "--list").Output()
	require.NoError(t, err)
	for _, applet := range strings.Fields(string(out)) {
		if applet != "busybox" {
			require.NoError(t, os.Symlink("busybox", filepath.Join(dir, "bin", applet)))
		}
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etc/passwd"),
		[]byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"), 0o644))
	return dir
}

// runIn runs script with sh in a container whose root is cfg.
func runIn(t *testing.T, cfg Config, script string) (stdout, stderr string, code int, err error) {
	t.Helper()
	raw, err := json.Marshal(cfg)
	require.NoError(t, err)
	var out, errb bytes.Buffer
	status, err := namespaces.Run(namespaces.Config{
		Args: []string{"sh", "-c", script}, Env: []string{"PATH=" + process.DefaultPath},
		Namespaces: namespaces.Default, Hostname: "mdk-rootfs",
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
	out := mustRun(t, Config{Root: root}, "test -e "+marker+" && echo reachable || echo unreachable; ls /")
	lines := strings.Split(out, "\n")
	if lines[0] != "unreachable" {
		t.Errorf("the host's %s is %s from inside", marker, lines[0])
	}
	if got := strings.Join(lines[1:], " "); got != "bin dev etc proc sys" {
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
	want := "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \n5\n3\n3\npts/ptmx\n/proc/self/fd"
	if out != want {
		t.Errorf("/dev inside:\n%s\nwant:\n%s", out, want)
	}
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
		{"target is a symlink out of the root", Mount{Source: vol, Destination: "/data/sub"}, "path escapes from parent"},
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
	if _, err := os.Stat("/etc/sub"); err == nil {
		t.Errorf("/etc/sub was created on the host")
	}
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
