package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Children lists the PIDs whose parent is pid, read from every thread's
// /proc/PID/task/TID/children (a child is listed under the thread that
// forked it).
func Children(t testing.TB, pid int) []int {
	t.Helper()
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, f := range tasks {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended meanwhile
		}
		for _, s := range strings.Fields(string(data)) {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			kids = append(kids, n)
		}
	}
	return kids
}

// Watched is a process a test expects to end, held by a pidfd so that a
// recycled PID cannot be mistaken for it.
type Watched struct {
	pid, fd int
}

// Watch opens a pidfd of pid. Whatever the test's outcome, the process is
// SIGKILLed at its end if it still runs: a failing test leaves nothing.
func Watch(t testing.TB, pid int) *Watched {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatalf("pidfd_open %d: %v", pid, err)
	}
	t.Cleanup(func() {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		unix.Close(fd)
	})
	return &Watched{pid: pid, fd: fd}
}

// Exited reports whether the process has exited within d: a pidfd polls
// readable once its process has exited.
func (w *Watched) Exited(d time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(d)
	for {
		n, err := unix.Poll(fds, max(0, int(time.Until(deadline).Milliseconds())))
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

// RequireChildDiesWithParent kills cmd, a started runtime whose only child
// runs, with SIGKILL (which it cannot catch or pass on), and fails t unless
// that child has exited 10 s later: the kernel's parent-death signal
// (PR_SET_PDEATHSIG) must have taken it along. The child is SIGKILLed at
// the test's end in any case.
func RequireChildDiesWithParent(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	kids := Children(t, cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("children of %s: %v, want one", cmd.Path, kids)
	}
	child := Watch(t, kids[0])
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !child.Exited(10 * time.Second) {
		t.Fatalf("the child (PID %d) still runs 10s after kill -KILL of %s", kids[0], cmd.Path)
	}
}
