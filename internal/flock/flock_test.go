package flock

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestExcludes: a second Lock, even in the same process, waits for the
// first to be released.
func TestExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := Lock(path)
	require.NoError(t, err)
	var mu sync.Mutex
	got := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		u, err := Lock(path)
		if err == nil {
			mu.Lock()
			got = true
			mu.Unlock()
			u()
		}
	}()
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	require.False(t, got, "the second Lock did not wait")
	mu.Unlock()
	unlock()
	<-done
	require.True(t, got)
	_, err = Lock(filepath.Join(t.TempDir(), "missing", "lock"))
	require.Error(t, err)
}

// TestShared: shared holders do not wait for each other; an exclusive Lock
// waits for all of them, and a shared one for an exclusive holder.
func TestShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	a, err := LockShared(path)
	require.NoError(t, err)
	b, err := LockShared(path) // would hang here if shared locks excluded each other
	require.NoError(t, err)
	got := make(chan func(), 1)
	go func() {
		u, err := Lock(path)
		if err == nil {
			got <- u
		}
	}()
	time.Sleep(50 * time.Millisecond)
	require.Len(t, got, 0, "Lock did not wait for the shared holders")
	a()
	time.Sleep(20 * time.Millisecond)
	require.Len(t, got, 0, "Lock did not wait for the second shared holder")
	b()
	unlock := <-got
	shared := make(chan func(), 1)
	go func() {
		u, err := LockShared(path)
		if err == nil {
			shared <- u
		}
	}()
	time.Sleep(50 * time.Millisecond)
	require.Len(t, shared, 0, "LockShared did not wait for the exclusive holder")
	unlock()
	(<-shared)()
}
