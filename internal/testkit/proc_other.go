//go:build !linux

package testkit

import (
	"os/exec"
	"testing"
	"time"
)

// Children is only implemented on Linux, which has /proc.
func Children(t testing.TB, pid int) []int {
	t.Helper()
	t.Skip("/proc is Linux only")
	return nil
}

// Watched is a process a test expects to end (Linux only).
type Watched struct{}

// Watch is only implemented on Linux, which has pidfds.
func Watch(t testing.TB, pid int) *Watched {
	t.Helper()
	t.Skip("pidfds are Linux only")
	return nil
}

// Exited is only implemented on Linux.
func (w *Watched) Exited(time.Duration) bool { return false }

// RequireChildDiesWithParent is only implemented on Linux.
func RequireChildDiesWithParent(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	t.Skip("/proc and pidfds are Linux only")
}
