//go:build linux

package state

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/step01-process/process"
)

func TestLockExcludes(t *testing.T) {
	s := openStore(t)
	c := sampleContainer("web")
	require.NoError(t, s.Create(c))

	_, err := s.Lock(NewID())
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Lock("web")
	require.ErrorIs(t, err, ErrNotFound, "full IDs only")

	unlock, err := s.Lock(c.ID)
	require.NoError(t, err)
	got := make(chan error, 1)
	go func() {
		u, err := s.Lock(c.ID)
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("a second Lock did not wait for the first: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	// The container's lock is not the store's: updates go on.
	require.NoError(t, s.Update(c.ID, func(c *Container) error { c.State.ExitCode = 3; return nil }))
	unlock()
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Lock still waiting after unlock")
	}
}

// A waiter that gets the lock after the holder removed the container must
// not act on it.
func TestLockAfterRemove(t *testing.T) {
	s := openStore(t)
	c := sampleContainer("web")
	require.NoError(t, s.Create(c))
	unlock, err := s.Lock(c.ID)
	require.NoError(t, err)
	got := make(chan error, 1)
	go func() {
		u, err := s.Lock(c.ID)
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond) // the waiter has opened the lock file
	require.NoError(t, s.Remove(c.ID))
	unlock()
	select {
	case err := <-got:
		require.ErrorIs(t, err, ErrNotFound)
	case <-time.After(5 * time.Second):
		t.Fatal("Lock still waiting after unlock")
	}
	_, err = s.Lock(c.ID)
	require.ErrorIs(t, err, ErrNotFound)
}

func TestStateIdentities(t *testing.T) {
	s := openStore(t)
	c := sampleContainer("web")
	require.NoError(t, s.Create(c))
	self, err := process.Identify(os.Getpid())
	require.NoError(t, err)
	require.NoError(t, s.Update(c.ID, func(c *Container) error {
		c.State.Pid, c.State.PidStart = 12, 34
		c.State.MonitorPid, c.State.MonitorStart = 56, 78
		c.State.Removing = &self
		return nil
	}))
	got, err := s.Get(c.ID)
	require.NoError(t, err)
	require.Equal(t, process.Identity{Pid: 12, StartTime: 34}, got.State.Init())
	require.Equal(t, process.Identity{Pid: 56, StartTime: 78}, got.State.Monitor())
	require.True(t, got.State.BeingRemoved(), "we are alive")

	gone := process.Identity{Pid: self.Pid, StartTime: self.StartTime + 1}
	got.State.Removing = &gone
	require.False(t, got.State.BeingRemoved(), "a remover that is gone removes nothing")
	got.State.Removing = nil
	require.False(t, got.State.BeingRemoved())
}
