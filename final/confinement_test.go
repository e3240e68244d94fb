package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/require"

	"minidocker/internal/imagebuild"
	"minidocker/internal/testkit"
)

// TestDefaultCredentials checks the init's result in /proc/self/status:
// Docker's 14 capabilities in the bounding, permitted and effective sets,
// none inheritable or ambient, a seccomp filter; and the flags that change
// them.
func TestDefaultCredentials(t *testing.T) {
	w := newWorld(t)
	w.registry.Push(t, "library/probe:latest", testkit.ProbeImage(t))
	status := func(opts ...string) map[string]string {
		out := w.ok(append(append([]string{"run", "--rm", "--network", "none"}, opts...), "probe", "/probe", "status")...)
		m := map[string]string{}
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) == 2 {
				m[strings.TrimSuffix(f[0], ":")] = f[1]
			}
		}
		return m
	}
	// Docker's 14: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
	// NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
	const docker = "00000000a80425fb"
	got := status()
	for k, want := range map[string]string{"CapBnd": docker, "CapPrm": docker, "CapEff": docker,
		"CapInh": "0000000000000000", "CapAmb": "0000000000000000", "NoNewPrivs": "0", "Seccomp": "2"} {
		require.Equal(t, want, got[k], "%s by default (all: %v)", k, got)
	}
	got = status("--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--security-opt", "no-new-privileges")
	require.Equal(t, "0000000000000400", got["CapEff"], "only NET_BIND_SERVICE")
	require.Equal(t, "0000000000000400", got["CapBnd"])
	require.Equal(t, "1", got["NoNewPrivs"])
	got = status("--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined")
	require.Equal(t, "00000000a82425fb", got["CapEff"], "the 14 and SYS_ADMIN")
	require.Equal(t, "0", got["Seccomp"])
	// A non-root user has the bounding set, and nothing effective once it
	// runs: execve by a non-root user keeps only ambient capabilities, and
	// Docker sets none (moby#52830 proposes them for --cap-add).
	got = status("-u", "nobody")
	require.Equal(t, docker, got["CapBnd"])
	require.Equal(t, "0000000000000000", got["CapEff"])
	require.Equal(t, "0000000000000000", got["CapPrm"])

	r := w.md("run", "--rm", "--cap-add", "FLY", "probe", "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, `unknown capability: "CAP_FLY"`)
	r = w.md("run", "--rm", "--security-opt", "seccomp=/nonexistent.json", "probe", "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, "opening seccomp profile (/nonexistent.json) failed")
}

// TestNoInheritedDescriptors: a descriptor the caller had open (a shell's
// "7</secret") reaches neither a foreground nor a detached container.
func TestNoInheritedDescriptors(t *testing.T) {
	w := newWorld(t)
	w.registry.Push(t, "library/probe:latest", testkit.ProbeImage(t))
	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte("host-secret"), 0o600))
	f, err := os.Open(secret)
	require.NoError(t, err)
	defer f.Close()
	run := func(args ...string) string {
		cmd := exec.Command(w.bin, args...)
		cmd.Env = append(os.Environ(), w.env...)
		cmd.ExtraFiles = []*os.File{nil, nil, nil, nil, f} // fd 7 in the CLI, as "7<secret"
		out, err := cmd.Output()
		require.NoError(t, err, "minidocker %v", args)
		return string(out)
	}
	out := run("run", "--rm", "--network", "none", "probe", "/probe", "fd", "7")
	require.Equal(t, "fd: EBADF\n", out, "the foreground container read the caller's fd 7")
	id := strings.TrimSpace(run("run", "-d", "--network", "none", "probe", "sh", "-c", "/probe fd 7; ls /proc/self/fd"))
	eventually(t, "the detached container to exit", func() bool { return w.state(id)["Status"] == "exited" })
	logs := w.ok("logs", id)
	require.Contains(t, logs, "fd: EBADF", "the detached container read the caller's fd 7")
	require.NotContains(t, logs, "host-secret")
}

// TestNoTerminalInjection: with -i and no -t the container's stdin is a
// pipe, not the caller's terminal, so TIOCSTI cannot push keystrokes into
// the caller's shell, even with --privileged (which would pass TIOCSTI's
// CAP_SYS_ADMIN check on a terminal that is not its own).
func TestNoTerminalInjection(t *testing.T) {
	w := newWorld(t)
	w.registry.Push(t, "library/probe:latest", testkit.ProbeImage(t))
	w.ok("pull", "probe")
	cmd := exec.Command(w.bin, "run", "-i", "--rm", "--privileged", "--network", "none", "probe",
		"sh", "-c", "/probe tiocsti; readlink /proc/self/fd/0 | cut -d: -f1")
	cmd.Env = append(os.Environ(), w.env...)
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer ptmx.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	require.NoError(t, cmd.Start())
	tty.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var seen strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 256)
		for {
			n, err := ptmx.Read(buf)
			seen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	require.NoError(t, cmd.Wait())
	ptmx.Close()
	<-done
	out := strings.ReplaceAll(seen.String(), "\r", "")
	require.Contains(t, out, "tiocsti: ENOTTY\npipe\n", "the container's stdin must be a pipe")
	require.NotContains(t, out, "!", "a keystroke was injected into the caller's terminal")
}

// TestReadOnlyAndVolumeTargets: --read-only refuses writes to the root but
// not to a volume; a -v target under an image's symlink (/var/run -> /run)
// is resolved inside the container's root, as Docker does; and bad -v
// targets are refused before anything is made.
func TestReadOnlyAndVolumeTargets(t *testing.T) {
	w := newWorld(t)
	img := testkit.Image(t, imagebuild.BusyboxConfig(), testkit.BusyboxLayer(t),
		testkit.Layer(t, testkit.Dir("run", 0o755), testkit.Dir("var", 0o755), testkit.Symlink("var/run", "/run")))
	w.registry.Push(t, "library/links:latest", img)
	vol := t.TempDir()

	r := w.md("run", "--rm", "--network", "none", "--read-only", "-v", vol+":/data", "links",
		"sh", "-c", "touch /data/ok && echo data-ok; touch /x")
	require.Equal(t, 1, r.Code, "touch /x on a read-only root must fail: %s", r.Stdout)
	require.Equal(t, "data-ok\n", r.Stdout)
	require.Contains(t, r.Stderr, "Read-only file system")
	require.FileExists(t, filepath.Join(vol, "ok"))

	out := w.ok("run", "--rm", "--network", "none", "-v", vol+":/var/run/app", "links", "ls", "/run/app")
	require.Equal(t, "ok\n", out, "the volume is at /run/app, through the image's /var/run symlink")

	for _, bad := range []string{vol + ":relative", vol + ":/", vol + ":/proc/x", vol + ":/a/../b"} {
		r := w.md("run", "--rm", "--network", "none", "-v", bad, "links", "true")
		require.Equal(t, 125, r.Code, "-v %s: %s", bad, r.Stderr)
		require.Contains(t, r.Stderr, "invalid", "-v %s", bad)
	}
	require.Empty(t, strings.TrimSpace(w.ok("ps", "-aq")), "a refused run left a container")
}

// TestSeccompProfileFile: --security-opt seccomp=FILE is read by the CLI,
// kept with the container, and applied: this profile refuses mkdir with
// EACCES and allows everything else.
func TestSeccompProfileFile(t *testing.T) {
	w := newWorld(t)
	profile := filepath.Join(t.TempDir(), "profile.json")
	require.NoError(t, os.WriteFile(profile, []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}`), 0o644))
	r := w.md("run", "--rm", "--network", "none", "--security-opt", "seccomp="+profile, "busybox", "sh", "-c", "mkdir /x; touch /y && echo touched")
	require.Equal(t, "touched\n", r.Stdout)
	require.Contains(t, r.Stderr, "Permission denied")
	out := w.ok("run", "--rm", "--network", "none", "busybox", "sh", "-c", "mkdir /x && echo made")
	require.Equal(t, "made\n", out, "without the profile mkdir works")
}
