package testkit

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Build compiles the main package pkg (an import path such as
// "minidocker/step01-process") into a temporary directory and returns the
// binary's path, so CLI tests run the program exactly as a learner does.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, strings.TrimSpace(string(out)))
	}
	return bin
}

// Result is what a command printed and how it exited.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs bin with args, with the environment plus env ("KEY=VAL"), and
// returns its output and exit code. It fails the test only when the
// program could not be started at all: a non-zero exit is a Result.
func Run(t testing.TB, bin string, env []string, args ...string) Result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A process it left behind that still holds our pipes (a container's
	// init, by a bug) would keep Run waiting for their end forever: after
	// a minute it is a failure instead (ExitCode fails on ErrWaitDelay).
	cmd.WaitDelay = time.Minute
	code := ExitCode(t, cmd.Run())
	return Result{stdout.String(), stderr.String(), code}
}

// ExitCode is the exit code of a finished command given cmd.Run's or
// cmd.Wait's error: 0 for nil. Any other error (the program could not be
// started) fails the test.
func ExitCode(t testing.TB, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	ee, ok := errors.AsType[*exec.ExitError](err)
	if !ok {
		t.Fatalf("run: %v", err)
	}
	return ee.ExitCode()
}

// FreePort is a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// DataRoot is a temporary MINIDOCKER_ROOT on /dev/shm (overlayfs needs a
// filesystem that supports it as upper layer, which the test's TempDir on
// some hosts is not), removed at the end of the test.
func DataRoot(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "mdk-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// StartReady starts bin with args, a program whose first line of output is
// "ready" once it is set up (a handshake instead of a sleep), and returns
// when that line has come. The program is killed at the test's end.
func StartReady(t testing.TB, bin string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("%s: first line %q (%v), want \"ready\"", bin, line, err)
	}
	return cmd
}
