package process

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startSleep starts "sleep 60" and makes sure it is gone when the test ends.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func TestIdentify(t *testing.T) {
	self, err := Identify(os.Getpid())
	require.NoError(t, err)
	require.NotZero(t, self.StartTime)
	require.True(t, self.Alive())

	child := startSleep(t)
	id, err := Identify(child.Process.Pid)
	require.NoError(t, err)
	require.GreaterOrEqual(t, id.StartTime, self.StartTime, "the child started after us")

	_, err = Identify(0)
	require.ErrorIs(t, err, ErrGone)
}

// A PID that now belongs to another process: what a container's recorded
// PID becomes once it exited and the number was reused. Nothing may be
// sent to it.
func TestReusedPidIsNotSignalled(t *testing.T) {
	child := startSleep(t)
	id, err := Identify(child.Process.Pid)
	require.NoError(t, err)
	stale := Identity{Pid: id.Pid, StartTime: id.StartTime - 1}
	require.False(t, stale.Alive())
	require.ErrorIs(t, stale.Signal(syscall.SIGKILL), ErrGone)
	_, err = stale.Open()
	require.ErrorIs(t, err, ErrGone)
	time.Sleep(50 * time.Millisecond)
	require.True(t, id.Alive(), "the stranger is still alive")

	// Zero start time: unknown, the PID alone is trusted.
	require.True(t, Identity{Pid: id.Pid}.Alive())
}

func TestHandleSignalAndWait(t *testing.T) {
	child := startSleep(t)
	id, err := Identify(child.Process.Pid)
	require.NoError(t, err)
	h, err := id.Open()
	require.NoError(t, err)
	defer h.Close()
	require.False(t, h.Wait(50*time.Millisecond), "sleep 60 is still running")

	start := time.Now()
	require.NoError(t, h.Signal(syscall.SIGTERM))
	require.True(t, h.Wait(5*time.Second), "the pidfd polls readable once the process exited")
	require.Less(t, time.Since(start), 2*time.Second)
	require.False(t, id.Alive(), "a zombie does not run")

	err = child.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee))
	require.Equal(t, syscall.SIGTERM, ee.Sys().(syscall.WaitStatus).Signal())
	// Reaped: its PID is free for anyone, and the handle knows it is gone.
	require.ErrorIs(t, h.Signal(syscall.SIGKILL), ErrGone)
	require.ErrorIs(t, id.Signal(syscall.SIGKILL), ErrGone)
}

func TestHandleWaitContext(t *testing.T) {
	child := startSleep(t)
	id, err := Identify(child.Process.Pid)
	require.NoError(t, err)
	h, err := id.Open()
	require.NoError(t, err)
	defer h.Close()

	// The end of ctx wakes the wait at once, the process still running.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	require.ErrorIs(t, h.WaitContext(ctx), context.Canceled)
	require.Less(t, time.Since(start), 2*time.Second)
	require.True(t, id.Alive())
	require.ErrorIs(t, h.WaitContext(ctx), context.Canceled, "an ended ctx: no wait at all")

	// The exit wakes it, with a ctx that never ends.
	time.AfterFunc(50*time.Millisecond, func() { h.Signal(syscall.SIGKILL) })
	start = time.Now()
	require.NoError(t, h.WaitContext(context.Background()))
	require.Less(t, time.Since(start), 2*time.Second)
	require.False(t, id.Alive())
}
