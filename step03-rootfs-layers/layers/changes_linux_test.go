package layers

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// Changes: what fn writes and deletes lands in upper, in overlay form,
// and Diff makes it a layer; the mount is seen only by fn's thread.
func TestChanges(t *testing.T) {
	testkit.RequireRoot(t)
	s, ids := unpackAll(t, fixture(t)...)
	dir := shmDir(t)
	var seenHere, seenByProcess bool
	err := s.Changes(ids, dir, func(root *os.Root) error {
		mine, _ := os.ReadFile("/proc/thread-self/mountinfo")
		host, _ := os.ReadFile("/proc/self/mountinfo") // the main thread's namespace
		merged := filepath.Join(dir, "merged")
		seenHere, seenByProcess = strings.Contains(string(mine), merged), strings.Contains(string(host), merged)
		if err := root.WriteFile("etc/added", []byte("new\n"), 0o644); err != nil {
			return err
		}
		return root.Remove("etc/motd")
	})
	require.NoError(t, err)
	require.True(t, seenHere, "the overlay is mounted for fn")
	require.False(t, seenByProcess, "the overlay leaked out of its namespace")
	mi, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	require.NotContains(t, string(mi), dir, "left mounted")

	var buf bytes.Buffer
	_, err = Diff(&buf, filepath.Join(dir, "upper"), DiffOptions{})
	require.NoError(t, err)
	names := entries(t, buf.Bytes())
	require.Contains(t, names, "etc/added")
	require.Contains(t, names, "etc/.wh.motd")

	// An empty image (FROM scratch) works too.
	scratch := shmDir(t)
	require.NoError(t, s.Changes(nil, scratch, func(root *os.Root) error { return root.WriteFile("only", nil, 0o600) }))
	_, err = os.Stat(filepath.Join(scratch, "upper", "only"))
	require.NoError(t, err)
}
