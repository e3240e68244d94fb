//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step03-rootfs-layers/rootfs"
)

// ociRuntimeBinary is minidocker as engines call an OCI runtime: a path
// whose name, minidocker-runtime, selects runc's command line.
func ociRuntimeBinary(t testing.TB) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), "minidocker-runtime")
	require.NoError(t, os.Symlink(minidockerBinary(t), link))
	return link
}

// ociRT is one runtime under test: minidocker's or runc, each with a state
// root of its own.
type ociRT struct {
	t         *testing.T
	name, bin string
	root      string
}

func (r *ociRT) run(args ...string) testkit.Result {
	r.t.Helper()
	return testkit.Run(r.t, r.bin, nil, append([]string{"--root", r.root}, args...)...)
}

func (r *ociRT) ok(args ...string) string {
	r.t.Helper()
	res := r.run(args...)
	require.Equal(r.t, 0, res.Code, "%s %v: %s", r.name, args, res.Stderr)
	return res.Stdout
}

// create runs create with the container's stdio in a file: an init keeps
// what it was given, and a pipe would keep our reader waiting for its end.
func (r *ociRT) create(bundle, id string, extra ...string) (out string) {
	r.t.Helper()
	out = r.detached(append(append([]string{"create", "--bundle", bundle}, extra...), id)...)
	r.t.Cleanup(func() { r.run("delete", "--force", id) })
	return out
}

// tryCreate runs create with its stdio in a file and returns its exit
// code and output; a create that succeeds is deleted at the end.
func (r *ociRT) tryCreate(bundle, id string) (int, string) {
	r.t.Helper()
	out := filepath.Join(r.t.TempDir(), "out")
	f, err := os.Create(out)
	require.NoError(r.t, err)
	defer f.Close()
	cmd := exec.Command(r.bin, "--root", r.root, "create", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = f, f
	code := testkit.ExitCode(r.t, cmd.Run())
	if code == 0 {
		r.t.Cleanup(func() { r.run("delete", "--force", id) })
	}
	data, _ := os.ReadFile(out)
	return code, string(data)
}

// inTerminal runs the runtime with args on a pty of rows x cols, as a
// user at a terminal would, and returns its exit code and what it wrote.
func (r *ociRT) inTerminal(rows, cols uint16, args ...string) (int, string) {
	r.t.Helper()
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args...)...)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: rows, Cols: cols})
	require.NoError(r.t, err)
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { defer close(done); out.ReadFrom(ptmx) }()
	err = cmd.Wait()
	ptmx.Close()
	<-done
	return testkit.ExitCode(r.t, err), out.String()
}

// detached runs a command that leaves a process behind (create, exec
// --detach) with its stdio in a file, whose name it returns.
func (r *ociRT) detached(args ...string) (out string) {
	r.t.Helper()
	out = filepath.Join(r.t.TempDir(), "out")
	f, err := os.Create(out)
	require.NoError(r.t, err)
	defer f.Close()
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	data, _ := os.ReadFile(out)
	require.NoError(r.t, err, "%s %v: %s", r.name, args, data)
	return out
}

func (r *ociRT) state(id string) specs.State {
	r.t.Helper()
	var s specs.State
	require.NoError(r.t, json.Unmarshal([]byte(r.ok("state", id)), &s))
	return s
}

// runtimesUnderTest are minidocker's runtime and, as the reference, runc.
func runtimesUnderTest(t *testing.T) []*ociRT {
	t.Helper()
	testkit.RequireRoot(t)
	runc, err := exec.LookPath("runc")
	testkit.RequireFeature(t, err == nil, "runc (Debian's runc; run scripts/setup.sh)")
	return []*ociRT{
		{t: t, name: "minidocker", bin: ociRuntimeBinary(t), root: t.TempDir()},
		{t: t, name: "runc", bin: runc, root: t.TempDir()},
	}
}

// busyboxBundle unpacks the test busybox image with umoci (a real OCI
// tool) into a bundle: its config.json is umoci's, from the image's
// config; the cgroups go beneath our own cgroup, in a directory the test
// removes.
func busyboxBundle(t *testing.T) (bundle string, cgroupParent string) {
	t.Helper()
	_, err := exec.LookPath("umoci")
	testkit.RequireFeature(t, err == nil, "umoci (Debian's umoci; run scripts/setup.sh)")
	dir := t.TempDir()
	layout := filepath.Join(dir, "layout")
	testkit.WriteOCILayout(t, layout, "latest", testkit.OCIImage(t, testkit.BusyboxImage(t)))
	bundle = filepath.Join(dir, "bundle")
	out, err := exec.Command("umoci", "unpack", "--image", layout+":latest", bundle).CombinedOutput()
	require.NoError(t, err, "umoci unpack: %s", out)
	cgroupParent = filepath.Join(ownCgroup(t), "mdk-rt-"+randomHex(t, 4))
	made := cgroupDirsToMake(cgroupParent)
	t.Cleanup(func() {
		for i := len(made) - 1; i >= 0; i-- {
			if err := os.Remove(made[i]); err != nil && !os.IsNotExist(err) {
				t.Errorf("cgroup left: %v", err)
			}
		}
	})
	return bundle, cgroupParent
}

// editSpec rewrites bundle/config.json with edit.
func editSpec(t *testing.T, bundle string, edit func(*specs.Spec)) {
	t.Helper()
	path := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var s specs.Spec
	require.NoError(t, json.Unmarshal(data, &s))
	edit(&s)
	data, err = json.MarshalIndent(&s, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

// runcSpecBundle is a bundle whose config.json is runc spec's default
// (read-only root, three capabilities, no_new_privs), over rootfs.
func runcSpecBundle(t *testing.T, rootfsDir, cgroupsPath string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("runc", "spec", "--bundle", dir).CombinedOutput()
	require.NoError(t, err, "runc spec: %s", out)
	editSpec(t, dir, func(s *specs.Spec) {
		s.Root.Path = rootfsDir
		s.Process.Terminal = false
		s.Process.Args = args
		s.Linux.CgroupsPath = cgroupsPath
	})
	return dir
}

// probe is what a container's process tells about itself: who it is,
// what it may do, what it sees.
const probe = `hostname; id; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; ` +
	`touch /probe 2>/dev/null && echo root-rw || echo root-ro; ls /dev | tr '\n' ' '; echo; ` +
	`mount -t tmpfs none /tmp 2>/dev/null && echo mount-ok || echo mount-refused`

// TestRuntimeLikeRunc runs the same bundles, made by runc spec and by
// umoci unpack, under minidocker's runtime and under runc, and asks for the
// same results: the probe's output, exit codes, the state at each step of
// the lifecycle, ps, kill and delete.
func TestRuntimeLikeRunc(t *testing.T) {
	rts := runtimesUnderTest(t)
	bundle, parent := busyboxBundle(t)
	rootfsDir := filepath.Join(bundle, "rootfs")
	results := map[string][]string{}
	for _, rt := range rts {
		cg := filepath.Join(parent, rt.name)
		// The probe, in runc spec's bundle and in umoci's.
		specBundle := runcSpecBundle(t, rootfsDir, cg+"-spec", "sh", "-c", probe)
		res := rt.run("run", "--bundle", specBundle, "probe-spec")
		require.Equal(t, 0, res.Code, "%s run: %s", rt.name, res.Stderr)
		results["runc spec"] = append(results["runc spec"], res.Stdout)
		editSpec(t, bundle, func(s *specs.Spec) {
			s.Process.Args = []string{"sh", "-c", probe}
			s.Process.Terminal = false // umoci's default: true
			s.Linux.CgroupsPath = cg + "-umoci"
		})
		res = rt.run("run", "--bundle", bundle, "probe-umoci")
		require.Equal(t, 0, res.Code, "%s run: %s", rt.name, res.Stderr)
		results["umoci"] = append(results["umoci"], res.Stdout)
		// An exit code comes back as run's own.
		exitBundle := runcSpecBundle(t, rootfsDir, cg+"-exit", "sh", "-c", "exit 3")
		require.Equal(t, 3, rt.run("run", "--bundle", exitBundle, "exit3").Code, rt.name)
	}
	for kind, outs := range results {
		t.Logf("%s bundle, minidocker:\n%s", kind, outs[0])
		require.Equal(t, outs[1], outs[0], "the %s bundle's probe: minidocker's runtime (got) differs from runc (want)", kind)
	}
	require.Contains(t, results["runc spec"][0], "root-ro", "runc spec's root.readonly")
	require.Contains(t, results["umoci"][0], "root-rw")
	require.Contains(t, results["runc spec"][0], "mount-refused", "without CAP_SYS_ADMIN, mount must fail")

	// The lifecycle, step by step.
	for _, rt := range rts {
		lc := runcSpecBundle(t, rootfsDir, filepath.Join(parent, rt.name+"-lc"),
			"sh", "-c", `trap "echo got-TERM; exit 7" TERM; echo started; while :; do sleep 0.1; done`)
		pidFile := filepath.Join(t.TempDir(), "pid")
		out := rt.create(lc, "lc", "--pid-file", pidFile)
		st := rt.state("lc")
		require.Equal(t, specs.StateCreated, st.Status, rt.name)
		require.Equal(t, "lc", st.ID)
		require.Equal(t, lc, st.Bundle)
		pid, err := os.ReadFile(pidFile)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(st.Pid), string(pid), "%s: the pid file names the init", rt.name)
		data, _ := os.ReadFile(out)
		require.NotContains(t, string(data), "started", "%s: the command ran before start", rt.name)
		require.NotEqual(t, 0, rt.run("start", "nope").Code)
		rt.ok("start", "lc")
		require.Equal(t, specs.StateRunning, rt.state("lc").Status, rt.name)
		require.NotEqual(t, 0, rt.run("start", "lc").Code, "%s: a second start must fail", rt.name)
		var pids []int
		require.NoError(t, json.Unmarshal([]byte(rt.ok("ps", "--format", "json", "lc")), &pids))
		require.Contains(t, pids, st.Pid, rt.name)
		res := rt.run("delete", "lc")
		require.NotEqual(t, 0, res.Code, "%s: delete of a running container must fail", rt.name)
		require.Contains(t, res.Stderr, "not stopped", rt.name)
		rt.ok("kill", "lc", "TERM")
		waitStatus(t, rt, "lc", specs.StateStopped)
		require.Equal(t, 0, rt.state("lc").Pid, "%s: a stopped container has no pid", rt.name)
		data, _ = os.ReadFile(out)
		require.Equal(t, "started\ngot-TERM\n", string(data), rt.name)
		require.NotEqual(t, 0, rt.run("kill", "lc", "KILL").Code, "%s: kill of a stopped container", rt.name)
		rt.ok("delete", "lc")
		require.NotEqual(t, 0, rt.run("state", "lc").Code, "%s: state after delete", rt.name)
		require.NotEqual(t, 0, rt.run("delete", "lc").Code, "%s: delete of nothing", rt.name)
		rt.ok("delete", "--force", "lc")

		// delete --force of a running container, and of a created one.
		rt.create(lc, "lc2")
		rt.ok("start", "lc2")
		rt.ok("delete", "--force", "lc2")
		rt.create(lc, "lc3")
		rt.ok("delete", "lc3")
		require.NotEqual(t, 0, rt.run("state", "lc3").Code)
	}
}

// waitStatus waits for a container to reach status.
func waitStatus(t *testing.T, rt *ociRT, id string, status specs.ContainerState) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for rt.state(id).Status != status {
		require.True(t, time.Now().Before(deadline), "%s: %s never became %s", rt.name, id, status)
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRuntimeExec: exec by process.json and by command line, detached with
// a pid file, and with a terminal sent over a console socket, as
// containerd's shim does it.
func TestRuntimeExec(t *testing.T) {
	rts := runtimesUnderTest(t)
	bundle, parent := busyboxBundle(t)
	for _, rt := range rts {
		b := runcSpecBundle(t, filepath.Join(bundle, "rootfs"), filepath.Join(parent, rt.name), "sleep", "60")
		rt.create(b, "ex")
		rt.ok("start", "ex")
		require.Equal(t, "hi\n", rt.ok("exec", "ex", "echo", "hi"), rt.name)
		require.Equal(t, 5, rt.run("exec", "ex", "sh", "-c", "exit 5").Code, rt.name)

		proc := specs.Process{Args: []string{"sh", "-c", "id; grep NoNewPrivs /proc/self/status"}, Cwd: "/tmp",
			Env: []string{"PATH=/bin"}, User: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10}}, NoNewPrivileges: true}
		pf := filepath.Join(t.TempDir(), "process.json")
		data, err := json.Marshal(proc)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(pf, data, 0o644))
		require.Equal(t, "uid=1000 gid=1000 groups=10\nNoNewPrivs:\t1\n", rt.ok("exec", "--process", pf, "ex"), rt.name)

		// Detached: the pid file names the process, which runs in the
		// container's cgroups; we are not its parent.
		pidFile := filepath.Join(t.TempDir(), "exec.pid")
		rt.detached("exec", "--detach", "--pid-file", pidFile, "ex", "sleep", "30")
		raw, err := os.ReadFile(pidFile)
		require.NoError(t, err)
		pid, err := strconv.Atoi(string(raw))
		require.NoError(t, err)
		var pids []int
		require.NoError(t, json.Unmarshal([]byte(rt.ok("ps", "--format", "json", "ex")), &pids))
		require.Contains(t, pids, pid, "%s: the detached exec is not in the container's cgroups", rt.name)
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		require.NoError(t, err)
		require.Equal(t, "sleep\x0030\x00", string(cmdline))

		// A terminal, over a console socket.
		sock := filepath.Join(t.TempDir(), "console.sock")
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
		require.NoError(t, err)
		got := make(chan string, 1)
		go func() {
			master, err := rootfs.ReceiveConsole(ln)
			if err != nil {
				got <- err.Error()
				return
			}
			defer master.Close()
			master.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 256)
			var all []byte
			for !strings.Contains(string(all), "\n") {
				n, err := master.Read(buf)
				all = append(all, buf[:n]...)
				if err != nil {
					break
				}
			}
			got <- string(all)
		}()
		rt.detached("exec", "--detach", "--tty", "--console-socket", sock, "ex", "tty")
		require.NotEqual(t, 0, rt.run("exec", "--tty", "--console-socket", sock, "ex", "tty").Code,
			"%s: a console socket without --detach", rt.name)
		ln.Close()
		require.Equal(t, "/dev/pts/0\r\n", <-got, "%s: the terminal is the container's own", rt.name)

		// exec -t in the foreground: the runtime holds the terminal itself.
		code, out := rt.inTerminal(27, 83, "exec", "-t", "ex", "sh", "-c", "tty; stty size; exit 6")
		require.Equal(t, 6, code, "%s exec -t: %q", rt.name, out)
		require.Regexp(t, `^/dev/pts/\d+\r\n`, out, rt.name)
		if rt.name == "minidocker" { // sized before the command runs (runc: after)
			require.Contains(t, out, "\r\n27 83\r\n")
		}
		rt.ok("delete", "--force", "ex")
	}
}

// TestRuntimeConfinement: what the bundle does not grant, the container
// cannot do, and what it grants, it can: mount(2) needs CAP_SYS_ADMIN, and
// the seccomp profile in the bundle applies to the process and to exec.
// A memory limit and the cgroups path are honoured as runc honours them.
func TestRuntimeConfinement(t *testing.T) {
	rts := runtimesUnderTest(t)
	bundle, parent := busyboxBundle(t)
	rootfsDir := filepath.Join(bundle, "rootfs")
	for _, rt := range rts {
		try := "mount -t tmpfs none /tmp && echo escaped || echo refused"
		b := runcSpecBundle(t, rootfsDir, filepath.Join(parent, rt.name+"-1"), "sh", "-c", try)
		require.Equal(t, "refused\n", rt.ok("run", "--bundle", b, "conf1"), rt.name)
		all := specs.LinuxCapabilities{}
		editSpec(t, b, func(s *specs.Spec) {
			caps := append(s.Process.Capabilities.Bounding, "CAP_SYS_ADMIN")
			all = specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
			s.Process.Capabilities = &all
		})
		require.Equal(t, "escaped\n", rt.ok("run", "--bundle", b, "conf2"), "%s: with CAP_SYS_ADMIN granted", rt.name)

		// A seccomp filter that refuses mkdir with EPERM, and the same
		// CAP_SYS_ADMIN: the filter still says no, in exec too.
		cgPath := filepath.Join(parent, rt.name+"-3")
		editSpec(t, b, func(s *specs.Spec) {
			s.Process.Args = []string{"sleep", "60"}
			s.Linux.CgroupsPath = cgPath
			limit := int64(64 << 20)
			s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
				Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchAARCH64},
				Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}}}
		})
		rt.create(b, "conf3")
		rt.ok("start", "conf3")
		require.Equal(t, "no-mkdir\n", rt.ok("exec", "conf3", "sh", "-c", "mkdir /dev/shm/x 2>/dev/null && echo mkdir || echo no-mkdir"), rt.name)
		pid := rt.state("conf3").Pid
		limit, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/memory", cgPath, "memory.limit_in_bytes"))
		if os.IsNotExist(err) { // cgroup v2
			limit, err = os.ReadFile(filepath.Join("/sys/fs/cgroup", cgPath, "memory.max"))
		}
		require.NoError(t, err, "%s: the container's cgroup is not at its cgroupsPath", rt.name)
		require.Equal(t, strconv.Itoa(64<<20), strings.TrimSpace(string(limit)), rt.name)
		procs, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
		require.NoError(t, err)
		require.Contains(t, string(procs), cgPath, rt.name)

		// update, as docker update and containerd's task update call it:
		// flags, then the spec's linux.resources on stdin (only what
		// changes; the rest keeps its value).
		cgFile := func(tree, file string) string {
			data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", tree, cgPath, file))
			require.NoError(t, err)
			return strings.TrimSpace(string(data))
		}
		if _, err := os.Stat("/sys/fs/cgroup/memory"); err == nil { // v1 file names
			rt.ok("update", "--memory", "128m", "--pids-limit", "50", "conf3")
			require.Equal(t, strconv.Itoa(128<<20), cgFile("memory", "memory.limit_in_bytes"), rt.name)
			require.Equal(t, "50", cgFile("pids", "pids.max"), rt.name)
			cmd := exec.Command(rt.bin, "--root", rt.root, "update", "--resources", "-", "conf3")
			cmd.Stdin = strings.NewReader(`{"pids": {"limit": 70}}`)
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s update --resources -: %s", rt.name, out)
			require.Equal(t, "70", cgFile("pids", "pids.max"), rt.name)
			require.Equal(t, strconv.Itoa(128<<20), cgFile("memory", "memory.limit_in_bytes"), "%s: update of pids changed memory", rt.name)
		}
		rt.ok("delete", "--force", "conf3")
		_, err = os.Stat(filepath.Join("/sys/fs/cgroup/memory", cgPath))
		require.True(t, os.IsNotExist(err), "%s: delete left the cgroup %s", rt.name, cgPath)
	}
}

// TestRuntimeHooks: the engine's hooks run at the spec's points, in its
// order, each with the state on stdin: prestart and createRuntime at
// create (the init exists, its command has not run), poststart at start,
// poststop at delete. Only ours: Debian's runc 1.1 runs poststart hooks at
// create, before the command starts (fixed in runc 1.2), which is not what
// the spec says.
func TestRuntimeHooks(t *testing.T) {
	testkit.RequireRoot(t)
	bundle, parent := busyboxBundle(t)
	for _, rt := range []*ociRT{{t: t, name: "minidocker", bin: ociRuntimeBinary(t), root: t.TempDir()}} {
		log := filepath.Join(t.TempDir(), "hooks.log")
		hook := func(name string) specs.Hook {
			// The hook's shell reads the state JSON on stdin and appends
			// "name status" to the log.
			return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c",
				`read -r st; s=${st#*\"status\":\"}; echo "` + name + ` ${s%%\"*}" >> ` + log}}
		}
		b := runcSpecBundle(t, filepath.Join(bundle, "rootfs"), filepath.Join(parent, rt.name), "sleep", "60")
		editSpec(t, b, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{hook("prestart")}, //nolint:staticcheck // the old name, still sent by engines
				CreateRuntime: []specs.Hook{hook("createRuntime")}, Poststart: []specs.Hook{hook("poststart")},
				Poststop: []specs.Hook{hook("poststop")}}
		})
		rt.create(b, "hooks")
		data, _ := os.ReadFile(log)
		require.Equal(t, "prestart creating\ncreateRuntime creating\n", string(data), rt.name)
		rt.ok("start", "hooks")
		rt.ok("kill", "hooks", "KILL")
		waitStatus(t, rt, "hooks", specs.StateStopped)
		rt.ok("delete", "hooks")
		data, _ = os.ReadFile(log)
		require.Equal(t, "prestart creating\ncreateRuntime creating\npoststart running\npoststop stopped\n", string(data), rt.name)

		// A failing createRuntime hook fails create, and leaves nothing.
		editSpec(t, b, func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/false"}}}
		})
		code, out := rt.tryCreate(b, "hooks2")
		require.NotEqual(t, 0, code, "%s: create with a failing hook: %s", rt.name, out)
		require.NotEqual(t, 0, rt.run("state", "hooks2").Code, "%s: a failed create left its state", rt.name)
	}
}

// TestRuntimeRefuses: what minidocker's runtime cannot do is refused by
// name, never ignored; a bad ID or a taken one is an error, as in runc.
func TestRuntimeRefuses(t *testing.T) {
	testkit.RequireRoot(t)
	rt := &ociRT{t: t, name: "minidocker", bin: ociRuntimeBinary(t), root: t.TempDir()}
	bundle, parent := busyboxBundle(t)
	b := runcSpecBundle(t, filepath.Join(bundle, "rootfs"), filepath.Join(parent, "refuses"), "true")
	for _, tc := range []struct {
		name, want string
		edit       func(*specs.Spec)
	}{
		{"ID mappings without a user namespace", "linux.uidMappings", func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}},
		{"AppArmor", "process.apparmorProfile", func(s *specs.Spec) { s.Process.ApparmorProfile = "docker-default" }},
		{"systemd cgroups path", "linux.cgroupsPath", func(s *specs.Spec) { s.Linux.CgroupsPath = "system.slice:docker:abc" }},
		{"a hugetlb limit", "linux.resources.hugepageLimits", func(s *specs.Spec) {
			s.Linux.Resources.HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 21}}
		}},
		{"a terminal without a socket", "--console-socket", func(s *specs.Spec) { s.Process.Terminal = true }},
		{"a relative cwd", "process.cwd", func(s *specs.Spec) { s.Process.Cwd = "tmp" }},
		{"a hook inside the container", "hooks.createContainer", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/true"}}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.CopyFS(dir, os.DirFS(b)))
			editSpec(t, dir, tc.edit)
			// Not rt.run: were create to succeed, its init would hold our
			// pipes, and the test would wait for their end.
			code, out := rt.tryCreate(dir, "refused")
			require.NotEqual(t, 0, code, "create succeeded: %s", out)
			require.Contains(t, out, tc.want)
			require.NotEqual(t, 0, rt.run("state", "refused").Code, "a refused create left its state")
		})
	}
	code, out := rt.tryCreate(b, "../escape")
	require.NotEqual(t, 0, code)
	require.Contains(t, out, "invalid container id")
	rt.create(b, "taken")
	code, out = rt.tryCreate(b, "taken")
	require.NotEqual(t, 0, code)
	require.Contains(t, out, "exists")
	rt.ok("delete", "taken")
	res := rt.run("--systemd-cgroup", "state", "taken")
	require.Contains(t, res.Stderr, "--systemd-cgroup")
}

// TestRuntimeRunTerminal: run of a bundle that asks for a terminal (as
// umoci's do) with no console socket: the runtime holds the master, the
// command's terminal is the container's /dev/pts/0 of the caller's size,
// and the exit code comes back; as with runc.
func TestRuntimeRunTerminal(t *testing.T) {
	rts := runtimesUnderTest(t)
	bundle, parent := busyboxBundle(t)
	for _, rt := range rts {
		b := runcSpecBundle(t, filepath.Join(bundle, "rootfs"), filepath.Join(parent, rt.name), "sh", "-c", "tty; stty size; exit 4")
		editSpec(t, b, func(s *specs.Spec) { s.Process.Terminal = true })
		code, out := rt.inTerminal(31, 97, "run", "--bundle", b, "tty")
		require.Equal(t, 4, code, "%s: %q", rt.name, out)
		lines := strings.Split(out, "\r\n")
		require.Equal(t, "/dev/pts/0", lines[0], "%s: %q", rt.name, out)
		// Ours sizes the terminal before the command runs; runc 1.1 does
		// it after start, and busybox's stty sometimes meets a 0x0 terminal
		// ("No child processes"): the size is checked on ours only.
		if rt.name == "minidocker" {
			require.Equal(t, "/dev/pts/0\r\n31 97\r\n", out)
		}
	}
}
