package ocivalidate

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"minidocker/internal/testkit"
)

// programTimeout bounds one validation program. The slowest ones poll the
// runtime's state once a second for up to 10 s per container.
const programTimeout = 60 * time.Second

// runtimeEnv names the runtime the suite checks. Unset, it is runc from
// PATH, the reference implementation the gate was first measured against.
const runtimeEnv = "MINIDOCKER_OCI_RUNTIME"

// absoluteCgroup is why the programs that put the container at
// cgroupsPath "/cgrouptest" are not run: that path is taken from the root of
// every hierarchy, so the container's processes would leave the memory
// cgroup this test runs in, which we did not create and must never leave.
const absoluteCgroup = `cgroupsPath "/cgrouptest" is absolute: the container would be placed outside our own cgroup`

// excluded lists the programs the test does not run, and why.
var excluded = map[string]string{
	"delete_resources":      absoluteCgroup,
	"linux_cgroups_blkio":   absoluteCgroup,
	"linux_cgroups_cpus":    absoluteCgroup,
	"linux_cgroups_devices": absoluteCgroup,
	"linux_cgroups_hugetlb": absoluteCgroup,
	"linux_cgroups_memory":  absoluteCgroup,
	"linux_cgroups_network": absoluteCgroup,
	"linux_cgroups_pids":    absoluteCgroup,
}

// unstable lists the programs that run but are never gated, and why: their
// result changes from run to run with the same runtime.
var unstable = map[string]string{
	"poststart": "wants the container's process to write its line before the poststart hook writes its own; " +
		"the spec only says the hook runs after the process started, so the two race (1 run in 3 here)",
	"killsig": "sends the signal once the container is running, which can be before sh has set its trap; " +
		"the container is PID 1 of its namespace, so the untrapped signal is ignored and the case fails (1 run in 3 here)",
	"pidfile": "kills the container after its process (true) has exited, unless it kills it first: " +
		"a runtime that rightly refuses to signal a stopped container fails it, most runs",
	"process_rlimits": "sets RLIMIT_AS to 1 GiB, which runc applies to its own init before loading the seccomp " +
		"filter; that allocation fails with ENOMEM in some runs (1 in 7 here), and create with it",
}

// ociRuntimeUnderTest is the command the suite runs as its runtime: the
// path in MINIDOCKER_OCI_RUNTIME when set, else runc from PATH. It is a
// command prefix, the binary and any arguments that select its runtime mode
// (a subcommand, say); the test appends --root DIR and then runc's own
// arguments (create --bundle DIR ID, state ID, …), so the command must take
// runc's command line, global --root included.
func ociRuntimeUnderTest(t *testing.T) []string {
	t.Helper()
	if p := os.Getenv(runtimeEnv); p != "" {
		abs, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("%s=%s: %v", runtimeEnv, p, err)
		}
		abs, err = filepath.Abs(abs)
		if err != nil {
			t.Fatalf("%s=%s: %v", runtimeEnv, p, err)
		}
		return []string{abs}
	}
	// minidocker's own, called by the name that selects runc's command
	// line (final/ociruntime), as engines call it.
	link := filepath.Join(t.TempDir(), "minidocker-runtime")
	if err := os.Symlink(testkit.Build(t, "minidocker/final"), link); err != nil {
		t.Fatal(err)
	}
	return []string{link}
}

// TestRuntimeValidation runs the validation programs of
// github.com/opencontainers/runtime-tools against ociRuntimeUnderTest, each
// in its own directory with its own --root, and fails when an item of
// passing.txt does not pass.
func TestRuntimeValidation(t *testing.T) {
	testkit.RequireRoot(t)
	runtimeCmd := ociRuntimeUnderTest(t)
	gate := readGate(t, "passing.txt")

	start := time.Now()
	bin := buildSuite(t)
	t.Logf("built the suite in %v", time.Since(start).Round(time.Millisecond))
	rootfs := writeRootfs(t)

	entries, err := os.ReadDir(bin)
	if err != nil {
		t.Fatal(err)
	}
	var programs []string
	for _, e := range entries {
		if e.Name() != "runtimetest" {
			programs = append(programs, e.Name())
		}
	}
	for prog := range gate {
		if !slices.Contains(programs, prog) {
			t.Errorf("passing.txt: no validation program %q in runtime-tools", prog)
		}
		if why, ok := excluded[prog]; ok {
			t.Errorf("passing.txt lists %s, which is not run here: %s", prog, why)
		}
		if why, ok := unstable[prog]; ok {
			t.Errorf("passing.txt lists %s, whose result changes from run to run: %s", prog, why)
		}
	}

	start = time.Now()
	t.Cleanup(func() { t.Logf("ran the suite in %v", time.Since(start).Round(time.Millisecond)) })
	for _, prog := range programs {
		if why, ok := excluded[prog]; ok {
			t.Logf("%-36s not run: %s", prog, why)
			continue
		}
		t.Run(prog, func(t *testing.T) {
			// Two at a time (go test's -parallel, GOMAXPROCS by default):
			// most of the time goes in the suite's one-second polls. The
			// relative cgroup programs all use one cgroupsPath
			// ("testdir/cgrouptest/container"), so they run one by one,
			// before the parallel ones.
			if !strings.HasPrefix(prog, "linux_cgroups_relative_") {
				t.Parallel()
			}
			begin := time.Now()
			out, code := runProgram(t, runtimeCmd, bin, rootfs, prog)
			took := time.Since(begin).Round(10 * time.Millisecond)
			rep, err := ParseTAP(out)
			if err != nil {
				t.Errorf("%s: %v", prog, err)
			}
			var passed, failed, skipped int
			for _, r := range rep.Tests {
				switch {
				case r.Passed():
					passed++
				case r.Skip || r.Todo:
					skipped++
				default:
					failed++
				}
			}
			verdict := "complete"
			if err := complete(rep, code, nil); err != nil {
				verdict = "incomplete"
			}
			t.Logf("%-36s %s: exit %d, plan %d: %d passed, %d failed, %d skipped (%v)",
				prog, verdict, code, rep.Plan, passed, failed, skipped, took)
			logFailures(t, rep, out, code)
			if why, ok := unstable[prog]; ok {
				t.Logf("%s is not gated: %s", prog, why)
				return
			}
			checkGate(t, prog, gate[prog], rep, out, code)
		})
	}
}

// logFailures logs what did not pass, so that a -v run is the table of the
// README: each "not ok" line with the start of its diagnostic, or the end
// of the output of a program that stopped before its plan.
func logFailures(t *testing.T, rep Report, out string, code int) {
	t.Helper()
	for _, r := range rep.Tests {
		if !r.OK && !r.Todo {
			t.Logf("not ok %d - %s\n%s", r.Number, r.Description, head(r.Diagnostic, 12))
		}
	}
	if len(rep.Tests) == 0 {
		for _, o := range rep.Orphans {
			t.Logf("diagnostic outside any test:\n%s", head(o, 12))
		}
	}
	if complete(rep, code, nil) != nil {
		// What is not TAP is the program's and the runtime's stderr: the
		// reason a create failed is there, not in the TAP line.
		var other []string
		inYAML := false
		for line := range strings.Lines(out) {
			trimmed := strings.TrimSpace(line)
			switch {
			case trimmed == "---":
				inYAML = true
			case trimmed == "...":
				inYAML = false
			case inYAML, trimmed == "", strings.HasPrefix(line, "ok "), strings.HasPrefix(line, "not ok "),
				strings.HasPrefix(line, "#"), strings.HasPrefix(line, "1.."), strings.HasPrefix(line, "TAP version"):
			default:
				other = append(other, strings.TrimRight(line, "\n"))
			}
		}
		t.Logf("exit %d, plan %d, %d results; other output:\n%s", code, rep.Plan, len(rep.Tests), head(strings.Join(other, "\n"), 10))
	}
}

func head(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// checkGate fails t when prog does not do what passing.txt asks (complete,
// or the tests numbered pass), printing the program's whole TAP output
// once, and logs what passes now but is not asked for.
func checkGate(t *testing.T, prog string, g gateEntry, rep Report, out string, code int) {
	t.Helper()
	byNumber := map[int]Result{}
	for _, r := range rep.Tests {
		byNumber[r.Number] = r
	}
	var broken []string
	err := complete(rep, code, g.except)
	if g.all && err != nil {
		broken = append(broken, fmt.Sprintf("%s %s: %v", prog, g.allText(), err))
	}
	for _, n := range g.numbers {
		r, ok := byNumber[n]
		switch {
		case !ok:
			broken = append(broken, fmt.Sprintf("%s %d: not run (exit %d, plan %d)", prog, n, code, rep.Plan))
		case !r.Passed():
			broken = append(broken, fmt.Sprintf("%s %d: %s", prog, n, outLine(r)))
		}
	}
	if len(broken) > 0 {
		t.Errorf("listed in passing.txt but did not pass:\n\t%s\n--- TAP output of %s (exit %d) ---\n%s",
			strings.Join(broken, "\n\t"), prog, code, out)
	}

	// What to add. Large programs (the runtimetest ones, ~300 checks
	// whose numbering follows map order) are gated whole, with the known
	// failures excepted; small ones test by test. A program that exited
	// non-zero proves nothing by its ok lines.
	fails := failing(rep)
	switch {
	case code != 0 || (g.all && len(g.except) == 0):
	case !g.all && complete(rep, code, nil) == nil:
		t.Logf("newly passing: add to passing.txt: %s all", prog)
	case g.all && len(fails) < len(g.except):
		t.Logf("newly passing: in passing.txt, make it: %s %s", prog, gateEntry{all: true, except: fails}.allText())
	case !g.all && len(rep.Tests) > 20 && complete(rep, code, fails) == nil:
		t.Logf("newly passing: add to passing.txt: %s %s", prog, gateEntry{all: true, except: fails}.allText())
	case !g.all:
		for _, r := range rep.Tests {
			if r.Passed() && !slices.Contains(g.numbers, r.Number) {
				t.Logf("newly passing: add to passing.txt: %s %d # %s", prog, r.Number, r.Description)
			}
		}
	}
}

func outLine(r Result) string {
	word := "not ok"
	switch {
	case r.Skip:
		word = "skipped"
	case r.Todo:
		word = "todo"
	case r.OK:
		word = "ok"
	}
	return word + " - " + r.Description
}

// gateEntry is what passing.txt asks of one program: that it completes
// (all), allowing the failures numbered in except, and that the tests
// numbered pass.
type gateEntry struct {
	all     bool
	except  []int
	numbers []int
}

func (g gateEntry) allText() string {
	if len(g.except) == 0 {
		return "all"
	}
	var ns []string
	for _, n := range g.except {
		ns = append(ns, strconv.Itoa(n))
	}
	return "all except " + strings.Join(ns, " ")
}

// readGate reads passing.txt. Each line is one of
//
//	program all                  it completes: exit 0, every test ok or skipped
//	program all except N [N…]    the same, but tests N may fail
//	program N                    its test number N passes
//
// and "#" starts a comment (the test's description, for the reader).
func readGate(t *testing.T, file string) map[string]gateEntry {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	gate := map[string]gateEntry{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		e := gate[f[0]]
		switch {
		case len(f) == 2 && f[1] == "all":
			e.all = true
		case len(f) > 3 && f[1] == "all" && f[2] == "except":
			e.all = true
			for _, w := range f[3:] {
				n, err := strconv.Atoi(w)
				if err != nil {
					t.Fatalf("%s:%d: test number: %v", file, line, err)
				}
				e.except = append(e.except, n)
			}
		case len(f) == 2:
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatalf("%s:%d: test number: %v", file, line, err)
			}
			e.numbers = append(e.numbers, n)
		default:
			t.Fatalf("%s:%d: want \"program all [except N…]\" or \"program N\", got %q", file, line, sc.Text())
		}
		gate[f[0]] = e
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return gate
}

// buildSuite compiles every validation program, and runtimetest (the
// checker the "inside" programs copy into the bundle and run as the
// container's process), from the module in ./suite. They are static
// (CGO_ENABLED=0) because the busybox rootfs has no libc.
func buildSuite(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// -s -w: no symbol table nor DWARF, which no one reads here and which
	// make linking 59 programs a third slower.
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", dir+"/", "tool")
	cmd.Dir = "suite"
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build the runtime-tools validation suite: %v\n%s", err, out)
	}
	return dir
}

// writeRootfs writes the rootfs-<arch>.tar.gz the programs unpack into each
// bundle (util.PrepareBundle): Debian's static busybox and the few files
// runtime-tools' own tarball adds (mount points, /etc/passwd, /etc/group).
func writeRootfs(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "rootfs-"+runtime.GOARCH+".tar.gz")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	// "./" first, 0755 like runtime-tools' own tarball: tar -x gives its
	// mode to the bundle directory, which ioutil.TempDir made 0700, and the
	// bundle directory is the container's "/".
	if err := tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(testkit.BusyboxTar(t)))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("busybox layer: %v", err)
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	extra := testkit.LayerTar(t,
		testkit.Dir("dev", 0o755), testkit.Dir("proc", 0o755), testkit.Dir("sys", 0o755),
		testkit.Dir("etc", 0o755),
		testkit.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n", 0o644),
		testkit.File("etc/group", "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n", 0o644),
	)
	tr = tar.NewReader(bytes.NewReader(extra))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return file
}

// runProgram runs one validation program in a fresh directory holding the
// rootfs tarball and runtimetest, as the suite's Makefile does. The program
// calls $RUNTIME with no --root, so RUNTIME is a wrapper that adds ours and
// writes down each call: cleanup deletes every container it created.
func runProgram(t *testing.T, runtimeCmd []string, bin, rootfs, prog string) (string, int) {
	t.Helper()
	work := t.TempDir()
	// Open to all like /tmp: a container whose user is not root, or whose
	// root is mapped to another uid, must reach the bundle inside it.
	for _, dir := range []string{work, filepath.Dir(work)} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(work, "state")
	calls := filepath.Join(work, "calls.log")
	for _, name := range []string{"runtimetest"} {
		if err := os.Link(filepath.Join(bin, name), filepath.Join(work, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(rootfs, filepath.Join(work, filepath.Base(rootfs))); err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(work, "runtime")
	var quoted []string
	for _, arg := range runtimeCmd {
		quoted = append(quoted, shellQuote(arg))
	}
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> %s\nexec %s --root %s \"$@\"\n",
		shellQuote(calls), strings.Join(quoted, " "), shellQuote(state))
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), programTimeout)
	defer cancel()
	var out bytes.Buffer
	// A mount namespace of its own, private (unshare(1)'s default): some
	// programs run a container in the namespaces of the runtime itself
	// (linux_ns_itype), and the runtime then mounts /proc, /dev and /sys of
	// the container in ours. Here they stay in this namespace and go with it.
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "--", filepath.Join(bin, prog))
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "RUNTIME="+wrapper, "TMPDIR="+work)
	cmd.Stdout = &out
	cmd.Stderr = &out
	// Its own process group, so that a timeout kills what it started too
	// (sleep, unshare) and not us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", prog, err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() { cleanup(t, runtimeCmd, state, calls, pgid) })
	err := cmd.Wait()
	if ctx.Err() != nil {
		t.Errorf("%s: killed after %v", prog, programTimeout)
	}
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", prog, err)
	}
	return out.String(), code
}

// cleanup undoes what a program may have left: its processes, the
// containers it created (killed and deleted through the runtime), the
// runtime's state, and the cgroups the runtime made beneath ours. It only
// removes empty cgroups (rmdir) and never moves a process.
func cleanup(t *testing.T, runtimeCmd []string, state, calls string, pgid int) {
	t.Helper()
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // ESRCH when all are gone: fine
	ids := createdIDs(t, calls)
	for _, id := range ids {
		args := append(slices.Clone(runtimeCmd[1:]), "--root", state, "delete", "--force", id)
		if out, err := exec.Command(runtimeCmd[0], args...).CombinedOutput(); err != nil &&
			!strings.Contains(string(out), "does not exist") && !strings.Contains(string(out), "not found") {
			t.Logf("cleanup: %s delete --force %s: %v: %s", strings.Join(runtimeCmd, " "), id, err, bytes.TrimSpace(out))
		}
	}
	if left, _ := os.ReadDir(state); len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("cleanup: the runtime left state in --root after delete --force: %v", names)
	}
	for _, dir := range ownCgroupDirs(t) {
		for _, name := range append(ids, "testdir") {
			removeCgroupTree(t, filepath.Join(dir, name))
		}
	}
}

// createdIDs reads the wrapper's call log: the last argument of each
// "create" is a container ID.
func createdIDs(t *testing.T, calls string) []string {
	t.Helper()
	data, err := os.ReadFile(calls)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return nil
	}
	var ids []string
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "create" {
			continue
		}
		// "create --bundle DIR" without an ID ends with a path, and an
		// ID never holds a slash.
		if id := f[len(f)-1]; !strings.ContainsAny(id, "/") && !strings.HasPrefix(id, "-") && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// ownCgroupDirs is the directory of our own cgroup in every mounted
// hierarchy, v1 and v2: where runc puts a container whose cgroupsPath is
// relative (or empty), so the only place our cleanup looks.
func ownCgroupDirs(t *testing.T) []string {
	t.Helper()
	own := map[string]string{} // controller list ("" for v2) -> path
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return nil
	}
	for line := range strings.Lines(string(data)) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) == 3 {
			own[parts[1]] = parts[2]
		}
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return nil
	}
	var dirs []string
	for line := range strings.Lines(string(mounts)) {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || f[3] != "/" {
			continue
		}
		switch g[0] {
		case "cgroup2":
			if p, ok := own[""]; ok {
				dirs = append(dirs, filepath.Join(f[4], p))
			}
		case "cgroup":
			for key, p := range own {
				if key == "" {
					continue
				}
				if slices.ContainsFunc(strings.Split(key, ","), func(c string) bool {
					return slices.Contains(strings.Split(g[2], ","), c)
				}) {
					dirs = append(dirs, filepath.Join(f[4], p))
					break
				}
			}
		}
	}
	return dirs
}

// removeCgroupTree removes dir and the cgroups beneath it, deepest first. A
// cgroup is removed with rmdir, which fails (EBUSY) while it holds a
// process: that is reported, not forced.
func removeCgroupTree(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			removeCgroupTree(t, filepath.Join(dir, e.Name()))
		}
	}
	if err := syscall.Rmdir(dir); err != nil && !errors.Is(err, syscall.ENOENT) {
		t.Errorf("cleanup: rmdir %s: %v", dir, err)
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
