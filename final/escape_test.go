//go:build linux

package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"minidocker/internal/testkit"
)

// probes are escape attempts that a container with Docker's default
// confinement must fail, and that the same container with --privileged
// gets past (so the test can fail): each line is the probe's arguments
// (internal/testkit/probe). %s in an argument is filled by the test.
var probes = []struct {
	name string
	args []string
}{
	{"mount", []string{"mount"}},
	{"cgroup v1 mount (release_agent)", []string{"mount-cgroup", "memory"}},
	{"unshare -U", []string{"userns"}},
	{"remount /proc/sys rw", []string{"remount-proc-sys"}},
	{"write core_pattern", []string{"open-write", "/proc/sys/kernel/core_pattern"}},
	{"unmask /sys/firmware", []string{"umount", "/sys/firmware"}},
	{"open /dev/kmsg", []string{"kmsg"}},
	{"open a host block device", []string{"disk", "%major", "%minor"}},
	{"open_by_handle_at", []string{"handle", "/vol/x", "%type", "%handle"}},
	{"join the root pids cgroup", []string{"cgroup-move", "/sys/fs/cgroup/pids/cgroup.procs"}},
	{"make a cgroup", []string{"mkdir", "/sys/fs/cgroup/memory/probe"}},
	{"keyctl", []string{"keyctl"}},
	{"bpf", []string{"bpf"}},
	{"reboot", []string{"reboot"}},
	{"swapon", []string{"swapon"}},
	{"kexec_load", []string{"kexec_load"}},
	{"init_module", []string{"init_module"}},
	{"settimeofday", []string{"settimeofday"}},
}

// refused is how the kernel says no to a permission check.
func refused(answer string) bool {
	return answer == "EPERM" || answer == "EACCES" || answer == "EROFS"
}

// runProbes runs every probe in one container and returns the answers by
// probe name.
func runProbes(t *testing.T, w *world, fill func(string) string, opts ...string) map[string]string {
	t.Helper()
	var script []string
	for _, p := range probes {
		var args []string
		for _, a := range p.args {
			args = append(args, fill(a))
		}
		script = append(script, "/probe "+strings.Join(args, " "))
	}
	out := w.ok(append(append([]string{"run", "--rm"}, opts...), "probe", "sh", "-c", strings.Join(script, "; "))...)
	// One answer line per probe, in order ("read: ..." lines are extra).
	got := map[string]string{}
	i := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "read: ") || i >= len(probes) {
			continue
		}
		if k, v, ok := strings.Cut(line, ": "); ok && k == probes[i].args[0] {
			got[probes[i].name] = v
		}
		i++
	}
	return got
}

// TestEscapes is the escape suite: the attacks of the security issue, each
// refused by default and possible with --privileged, with host-side
// canaries that nothing changed.
func TestEscapes(t *testing.T) {
	w := newWorld(t)
	w.registry.Push(t, "library/probe:latest", testkit.ProbeImage(t))

	// The "shocker" attack reads a host file through a handle: the
	// container only needs any file on the same filesystem (a volume), and
	// the handle, which the test takes here on the host.
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(secret, []byte("host-secret"), 0o600))
	vol := filepath.Join(dir, "vol")
	require.NoError(t, os.Mkdir(vol, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(vol, "x"), nil, 0o644))
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, secret, 0)
	require.NoError(t, err)
	// A block device of the host (a loop device: opening one for reading
	// changes nothing). A container that may open the host's disks reads
	// the host's files raw; the devices cgroup lets it mknod, not open.
	var st unix.Stat_t
	testkit.RequireFeature(t, unix.Stat("/dev/loop0", &st) == nil, "/dev/loop0")
	disk := st.Rdev
	fill := func(a string) string {
		switch a {
		case "%type":
			return fmt.Sprint(h.Type())
		case "%handle":
			return hex.EncodeToString(h.Bytes())
		case "%major":
			return fmt.Sprint(unix.Major(disk))
		case "%minor":
			return fmt.Sprint(unix.Minor(disk))
		}
		return a
	}
	// Host-side canaries: what the attacks would change.
	canaries := []string{"/proc/sys/kernel/core_pattern", "/sys/fs/cgroup/memory/release_agent", "/proc/keys"}
	read := func(c string) string {
		b, err := os.ReadFile(c)
		require.NoError(t, err)
		if c != "/proc/keys" {
			return string(b)
		}
		// The keys by serial and description (usage counts move on their own).
		var keys []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(l); len(f) >= 9 {
				keys = append(keys, f[0]+" "+f[7]+" "+strings.TrimSuffix(f[8], ":"))
			}
		}
		return strings.Join(keys, "\n")
	}
	before := map[string]string{}
	for _, c := range canaries {
		before[c] = read(c)
	}

	for _, mode := range [][]string{{"--network", "none"}, {"--network", "host"}, {}} {
		t.Run("network "+strings.Join(mode, " "), func(t *testing.T) {
			confined := runProbes(t, w, fill, append(mode, "-v", vol+":/vol:ro")...)
			privileged := runProbes(t, w, fill, append(mode, "--privileged", "-v", vol+":/vol:ro")...)
			for _, p := range probes {
				t.Logf("%-32s default %-8s privileged %s", p.name, confined[p.name], privileged[p.name])
				if !refused(confined[p.name]) {
					t.Errorf("%s: by default the kernel answered %q, want EPERM, EACCES or EROFS", p.name, confined[p.name])
				}
				if refused(privileged[p.name]) || privileged[p.name] == "" {
					t.Errorf("%s: with --privileged the kernel answered %q: the probe cannot tell confinement from failure", p.name, privileged[p.name])
				}
			}
		})
	}

	for _, c := range canaries {
		require.Equal(t, before[c], read(c), "%s changed on the host", c)
	}
}

// TestNoPtraceOfAnotherContainer: a container cannot trace a process of
// another one, even knowing its PID on the host (its PID namespace has no
// such process), while it can trace a child of its own, so the probe works.
func TestNoPtraceOfAnotherContainer(t *testing.T) {
	w := newWorld(t)
	w.registry.Push(t, "library/probe:latest", testkit.ProbeImage(t))
	victim := strings.TrimSpace(w.ok("run", "-d", "--network", "none", "probe", "sleep", "60"))
	pid := fmt.Sprint(int(w.state(victim)["Pid"].(float64)))
	require.NotEqual(t, "0", pid)
	out := w.ok("run", "--rm", "--network", "none", "probe", "sh", "-c", "/probe ptrace "+pid+"; /probe ptrace child")
	require.Equal(t, "ptrace: ESRCH\nptrace: ok\n", out)
}
