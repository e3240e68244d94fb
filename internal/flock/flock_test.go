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
