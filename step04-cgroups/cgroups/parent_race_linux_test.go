package cgroups

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// New while another container's Destroy removes the shared minidocker/
// parent (it goes when it is empty): New must not fail with ENOENT because
// the parent vanished between its mkdir and the container's own. Seen
// with rm -f of many containers next to a run.
func TestNewWhileParentRemoved(t *testing.T) {
	testkit.RequireRoot(t)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			for range 300 {
				m, err := New(Config{ID: newID()})
				if err != nil {
					errs <- err
					return
				}
				if err := m.Destroy(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
