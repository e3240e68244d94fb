package jsonbook

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

type counts struct {
	N map[string]int `json:"n"`
}

func book(dir string) Book[counts] {
	return Book[counts]{
		File: filepath.Join(dir, "book.json"), Lock: filepath.Join(dir, "book.lock"),
		New: func() counts { return counts{N: map[string]int{}} },
		Check: func(c *counts) error {
			if c.N == nil {
				c.N = map[string]int{}
			}
			if c.N["bad"] != 0 {
				return errors.New("a bad entry")
			}
			return nil
		},
	}
}

// TestUpdate: 50 concurrent increments all land (the lock); an unchanged
// book is not written; a bad file is refused with its name; fn's error
// comes back as it is and nothing is written.
func TestUpdate(t *testing.T) {
	dir := t.TempDir()
	b := book(dir)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			require.NoError(t, book(dir).Update(func(c *counts) (bool, error) {
				c.N["x"]++
				return true, nil
			}))
		})
	}
	wg.Wait()
	var got int
	require.NoError(t, b.Update(func(c *counts) (bool, error) { got = c.N["x"]; return false, nil }))
	require.Equal(t, 50, got)

	fi, err := os.Stat(b.File)
	require.NoError(t, err)
	require.NoError(t, b.Update(func(c *counts) (bool, error) { c.N["x"] = 0; return false, nil }))
	fi2, err := os.Stat(b.File)
	require.NoError(t, err)
	require.Equal(t, fi.ModTime(), fi2.ModTime(), "an unchanged book was written")

	boom := errors.New("boom")
	require.ErrorIs(t, b.Update(func(c *counts) (bool, error) { c.N["x"] = 7; return true, boom }), boom)
	require.NoError(t, b.Update(func(c *counts) (bool, error) { got = c.N["x"]; return false, nil }))
	require.Equal(t, 50, got, "a failed update was written")

	require.NoError(t, os.WriteFile(b.File, []byte(`{"n":{"bad":1}}`), 0o600))
	require.ErrorContains(t, b.Update(func(*counts) (bool, error) { return false, nil }), b.File+": a bad entry")
	require.NoError(t, os.WriteFile(b.File, []byte(`{"n":`), 0o600))
	require.ErrorContains(t, b.Update(func(*counts) (bool, error) { return false, nil }), b.File)
}
