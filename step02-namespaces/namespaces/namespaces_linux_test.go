package namespaces

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"minidocker/step02-namespaces/privileges"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"minidocker/internal/testkit"
	"minidocker/step01-process/process"
)

var hostEnv = []string{"PATH=" + process.DefaultPath}

// run runs a shell script in a container and returns its stdout and exit code.
func run(t *testing.T, cfg Config, script string) (string, int) {
	t.Helper()
	cfg.Args = []string{"sh", "-c", script}
	cfg.Env = hostEnv
	var stdout, stderr bytes.Buffer
	status, err := RunContext(bounded(t), cfg, Options{Stdout: &stdout, Stderr: &stderr})
	require.NoError(t, err, "run %q (stderr: %s)", script, stderr.String())
	return strings.TrimSpace(stdout.String()), status.ExitCode()
}

// bounded is the deadline of one container in a test: a bug that hangs
// the container fails the test instead of hanging it until go test's
// timeout.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestPID1(t *testing.T) {
	testkit.RequireRoot(t)
	out, _ := run(t, Config{Namespaces: Default}, "echo $$")
	if out != "1" {
		t.Errorf("PID of the command = %s, want 1", out)
	}
}

// TestInitIsPID1 checks --init: our init is PID 1 and the command is its
// child. (The command is not PID 2: the Go runtime's threads of the init,
// sysmon first, take the next IDs of the new namespace before it can fork.)
func TestInitIsPID1(t *testing.T) {
	testkit.RequireRoot(t)
	out, code := run(t, Config{Namespaces: Default, Init: true},
		`echo $$ $PPID; tr '\0' ' ' </proc/1/cmdline; exit 5`)
	fields := strings.Fields(out)
	require.GreaterOrEqual(t, len(fields), 3, "output %q", out)
	if fields[0] == "1" {
		t.Errorf("under --init the command is PID 1; want our init as PID 1")
	}
	if fields[1] != "1" {
		t.Errorf("parent of the command = %s, want 1 (our init)", fields[1])
	}
	if fields[3] != InitArg {
		t.Errorf("PID 1 is %q, want the init (%s)", strings.Join(fields[2:], " "), InitArg)
	}
	if code != 5 {
		t.Errorf("exit code = %d, want the command's 5", code)
	}
}

func TestHostname(t *testing.T) {
	testkit.RequireRoot(t)
	before, err := os.Hostname()
	require.NoError(t, err)
	out, _ := run(t, Config{Namespaces: Default, Hostname: "mdk-test-host"}, "hostname")
	if out != "mdk-test-host" {
		t.Errorf("hostname inside = %q, want %q", out, "mdk-test-host")
	}
	after, err := os.Hostname()
	require.NoError(t, err)
	if after != before {
		t.Errorf("host's hostname changed from %q to %q", before, after)
	}
}

// TestNamespaceInodes checks /proc/self/ns/<name>: each namespace asked for
// is a new one (another inode), each one not asked for is the host's.
func TestNamespaceInodes(t *testing.T) {
	testkit.RequireRoot(t)
	names := []Namespace{UTS, PID, Mnt, IPC, Net, Cgroup}
	host := map[Namespace]string{}
	for _, ns := range names {
		link, err := os.Readlink("/proc/self/ns/" + string(ns))
		require.NoError(t, err)
		host[ns] = link
	}
	sets := [][]Namespace{{}, Default}
	for _, ns := range names {
		sets = append(sets, []Namespace{ns})
	}
	for _, set := range sets {
		t.Run(fmt.Sprint(set), func(t *testing.T) {
			out, _ := run(t, Config{Namespaces: set},
				"for n in uts pid mnt ipc net cgroup; do readlink /proc/self/ns/$n; done")
			got := strings.Fields(out)
			require.Len(t, got, len(names), "output %q", out)
			for i, ns := range names {
				asked := false
				for _, s := range set {
					asked = asked || s == ns
				}
				if differs := got[i] != host[ns]; differs != asked {
					t.Errorf("%s: inside %s, host %s; asked for a new one: %v", ns, got[i], host[ns], asked)
				}
			}
		})
	}
}

func TestOnlyLoopback(t *testing.T) {
	testkit.RequireRoot(t)
	out, _ := run(t, Config{Namespaces: Default},
		`tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; cat /sys/class/net/lo/operstate 2>/dev/null; ip -o link show lo`)
	lines := strings.Split(out, "\n")
	if lines[0] != "lo" || (len(lines) > 1 && !strings.Contains(out, "UP")) {
		t.Errorf("devices inside the network namespace:\n%s\nwant only lo, and up", out)
	}
	for _, l := range lines[1:] {
		if !strings.Contains(l, "lo") && !strings.Contains(l, "UP") && l != "unknown" {
			t.Errorf("unexpected device line %q", l)
		}
	}
}

// TestMountsStayInside checks that neither the container's /proc nor a
// mount made by the command shows in the host's mount table. The command
// mounts under a shared mount the test makes itself: whatever the host's
// own propagation (a systemd host makes / shared, this VM does not), only
// the init's MS_PRIVATE|MS_REC keeps that mount from propagating back.
func TestMountsStayInside(t *testing.T) {
	testkit.RequireRoot(t)
	shared := t.TempDir()
	require.NoError(t, unix.Mount("mdk-test-shared", shared, "tmpfs", 0, "size=1m"))
	t.Cleanup(func() { unix.Unmount(shared, unix.MNT_DETACH) })
	require.NoError(t, unix.Mount("", shared, "", unix.MS_SHARED, ""))
	target := filepath.Join(shared, "inner")
	require.NoError(t, os.Mkdir(target, 0o755))
	before, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)

	// Mounting needs CAP_SYS_ADMIN, which a container lacks by default: this
	// one is privileged (docker run --privileged).
	cfg := Config{Namespaces: Default, Env: hostEnv, Privileges: &privileges.Config{Capabilities: privileges.AllCapabilities()},
		Args: []string{"sh", "-c", "mount -t tmpfs mdk-test " + target + " && grep -c ' - proc ' /proc/self/mountinfo && cat >/dev/null"}}
	stdin, feed, err := os.Pipe()
	require.NoError(t, err)
	defer stdin.Close()
	var stdout bytes.Buffer
	c, err := Start(cfg, Options{Stdin: stdin, Stdout: &stdout, Stderr: os.Stderr})
	require.NoError(t, err)
	t.Cleanup(func() { feed.Close(); _ = c.Signal(syscall.SIGKILL); _, _ = c.Wait() })

	// While the container runs, the host must see neither mount.
	time.Sleep(300 * time.Millisecond)
	during, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	feed.Close()
	status, err := c.Wait()
	require.NoError(t, err)
	require.Equal(t, 0, status.ExitCode(), "container: %s", stdout.String())

	if n, _ := strconv.Atoi(strings.TrimSpace(stdout.String())); n < 1 {
		t.Errorf("no proc mount inside the container (count %q)", stdout.String())
	}
	if strings.Contains(string(during), target) {
		t.Errorf("the container's tmpfs on %s shows in the host's mountinfo", target)
	}
	if strings.Count(string(during), " - proc ") != strings.Count(string(before), " - proc ") {
		t.Errorf("the number of proc mounts on the host changed while the container ran")
	}
}

// TestInitReapsZombies leaves an orphan that exits while the container
// still runs: re-parented to PID 1, it stays a zombie until PID 1 waits for
// it. The command execs `sleep`, a program that never waits, so without
// --init nobody reaps the orphan; with --init our PID 1 does.
func TestInitReapsZombies(t *testing.T) {
	testkit.RequireRoot(t)
	const script = `sh -c 'sleep 0.1 &'
(sleep 0.5; grep -l '^State:.*Z' /proc/[0-9]*/status | wc -l) &
exec sleep 0.8`
	withInit, _ := run(t, Config{Namespaces: Default, Init: true}, script)
	if withInit != "0" {
		t.Errorf("with --init: %s zombies, want 0", withInit)
	}
	without, _ := run(t, Config{Namespaces: Default}, script)
	if without != "1" {
		t.Errorf("without --init: %s zombies, want 1 (the orphan nobody reaps)", without)
	}
}

// TestSIGTERM sends SIGTERM from the host to the container's PID 1. Each
// command says "ready" once its trap is set (a handshake, not a sleep),
// and every wait has a bound of its own: with a broken PID namespace or
// forwarder the test fails within seconds, and its clean-up never waits
// for a container that is already gone.
func TestSIGTERM(t *testing.T) {
	testkit.RequireRoot(t)
	const (
		sleeper = "echo ready; exec sleep 30"
		trapper = "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done"
	)
	tests := []struct {
		name     string
		init     bool
		script   string
		ignored  bool
		wantCode int
	}{
		{"PID 1 without a handler ignores it", false, sleeper, true, 137},
		{"--init forwards it to the command", true, sleeper, false, 143},
		{"--init forwards it to a trap", true, trapper, false, 42},
		{"PID 1 with a handler gets it", false, trapper, false, 42},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stdout, w, err := os.Pipe()
			require.NoError(t, err)
			defer stdout.Close()
			c, err := Start(Config{Namespaces: Default, Init: tc.init, Args: []string{"sh", "-c", tc.script}, Env: hostEnv},
				Options{Stdout: w})
			w.Close()
			require.NoError(t, err)
			var status process.ExitStatus
			exited := make(chan struct{})
			go func() { status, _ = c.Wait(); close(exited) }()
			exitedWithin := func(d time.Duration) bool {
				select {
				case <-exited:
					return true
				case <-time.After(d):
					return false
				}
			}
			t.Cleanup(func() {
				_ = c.Signal(syscall.SIGKILL) // from the parent namespace, always fatal
				if !exitedWithin(10 * time.Second) {
					t.Errorf("container (host PID %d) still runs 10s after SIGKILL", c.Pid())
				}
			})

			require.NoError(t, stdout.SetReadDeadline(time.Now().Add(10*time.Second)))
			line, err := bufio.NewReader(stdout).ReadString('\n')
			require.NoError(t, err, "the command's ready line")
			require.Equal(t, "ready\n", line)
			require.NoError(t, c.Signal(syscall.SIGTERM))

			if tc.ignored {
				// Proving that nothing happens takes a wait; a second is
				// plenty for a signal that would have been delivered.
				require.False(t, exitedWithin(time.Second), "PID 1 died of SIGTERM; the kernel should have dropped it")
				require.NoError(t, c.Signal(syscall.SIGKILL))
			}
			require.True(t, exitedWithin(10*time.Second), "still running 10s after the signal")
			require.Equal(t, tc.wantCode, status.ExitCode(), "exit status %v", status)
		})
	}
}

// TestRunContext: a container that outlives its context is SIGKILLed and
// reaped, and the error says why.
func TestRunContext(t *testing.T) {
	testkit.RequireRoot(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	status, err := RunContext(ctx, Config{Namespaces: Default, Args: []string{"sleep", "30"}, Env: hostEnv}, Options{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, 137, status.ExitCode(), "killed by SIGKILL")
}

func TestStartErrors(t *testing.T) {
	testkit.RequireRoot(t)
	tests := []struct {
		name     string
		init     bool
		args     []string
		wantErr  error
		wantCode int
	}{
		{"not found", false, []string{"no-such-command"}, process.ErrNotFound, 127},
		{"not found under --init", true, []string{"no-such-command"}, process.ErrNotFound, 127},
		{"not executable", false, []string{"/etc/passwd"}, process.ErrCannotInvoke, 126},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(Config{Namespaces: Default, Init: tc.init, Args: tc.args, Env: hostEnv}, Options{})
			if !errors.Is(err, tc.wantErr) || !errors.Is(err, ErrInit) {
				t.Fatalf("Run(%q) error = %v, want %v from the init", tc.args, err, tc.wantErr)
			}
			if got := process.ExitCode(err); got != tc.wantCode {
				t.Errorf("ExitCode(%v) = %d, want %d", err, got, tc.wantCode)
			}
		})
	}
}

// TestCreatedHook checks that Created runs before the command: the hook
// writes a file the command then reads.
func TestCreatedHook(t *testing.T) {
	testkit.RequireRoot(t)
	marker := t.TempDir() + "/created"
	var stdout bytes.Buffer
	var hookPID int
	_, err := Run(Config{Namespaces: Default, Env: hostEnv, Args: []string{"cat", marker}},
		Options{Stdout: &stdout, Created: func(pid int) error {
			hookPID = pid
			return os.WriteFile(marker, []byte("written before the command ran\n"), 0o644)
		}})
	require.NoError(t, err)
	require.NotZero(t, hookPID)
	if stdout.String() != "written before the command ran\n" {
		t.Errorf("command read %q; Created did not run before it", stdout.String())
	}

	_, err = Run(Config{Namespaces: Default, Env: hostEnv, Args: []string{"true"}},
		Options{Created: func(int) error { return errors.New("hook failed") }})
	if err == nil || err.Error() != "hook failed" {
		t.Errorf("Run with a failing Created hook: error = %v, want the hook's", err)
	}
}

func TestUser(t *testing.T) {
	testkit.RequireRoot(t)
	// groups is id -G: the primary group, then the supplementary ones. The
	// runtime starts the init with a supplementary group of its own (4242,
	// whatever this host gives root): a user switch must set them all
	// (setgroups), even to none, so that 4242 does not stay.
	tests := []struct{ user, want string }{
		{"", "0 0 /root 0 4242"}, // no user switch: the init keeps what it was given
		{"nobody", "65534 65534 /nonexistent 65534"},
		{"1234:5678", "1234 5678 / 5678"},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			_, err := Run(Config{Namespaces: Default, User: tc.user, Env: hostEnv,
				Args: []string{"sh", "-c", `echo $(id -u) $(id -g) $HOME $(id -G)`}},
				Options{Stdout: &stdout, Stderr: &stderr, SysProcAttr: &syscall.SysProcAttr{
					Credential: &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{4242}}}})
			require.NoError(t, err, "stderr: %s", stderr.String())
			if got := strings.TrimSpace(stdout.String()); got != tc.want {
				t.Errorf("User %q: uid gid HOME groups = %q, want %q", tc.user, got, tc.want)
			}
		})
	}
	_, err := Run(Config{Namespaces: Default, User: "no-such-user", Args: []string{"true"}, Env: hostEnv}, Options{})
	if err == nil || !strings.Contains(err.Error(), "unable to find user no-such-user") || process.ExitCode(err) != 125 {
		t.Errorf("unknown user: error %v (exit %d), want 'unable to find user' and 125", err, process.ExitCode(err))
	}
}
