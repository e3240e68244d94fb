//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// mountsOf are the lines of our mount table that name dir.
func mountsOf(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, dir) {
			out = append(out, l)
		}
	}
	return out
}

// TestCpStopped: docker cp on an exited container, as Docker allows: its
// overlay is mounted for the copy where only the engine sees it, the
// writes land in its own layer (seen at its next start), its links to /
// lead to its own root, and nothing stays mounted.
func TestCpStopped(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	tmp := t.TempDir()
	unique := "mdk-cp-stopped-" + filepath.Base(tmp)
	t.Cleanup(func() { // what a broken cp would have written on the host: ours to remove
		for _, p := range []string{"/tmp/" + unique, "/" + unique} {
			os.Remove(p)
		}
	})
	// Each start prints what the host put in its /tmp and its / (nothing
	// the first time).
	w.ok("run", "--name", "box", "--network", "none", "busybox", "sh", "-c",
		"mkdir -p /data && echo one >/data/a && ln -sfn / /data/toroot; cat /tmp/"+unique+" /"+unique+" 2>/dev/null; true")
	id := w.inspect("box")["Id"].(string)
	ctrDir := filepath.Join(w.root, "containers", id)

	w.ok("cp", "box:/data/a", tmp)
	b, err := os.ReadFile(filepath.Join(tmp, "a"))
	require.NoError(t, err)
	require.Equal(t, "one\n", string(b), "a file out of an exited container")

	host := filepath.Join(tmp, unique)
	require.NoError(t, os.WriteFile(host, []byte("into tmp\n"), 0o644))
	w.ok("cp", host, "box:/data/toroot/tmp/")
	require.NoError(t, os.WriteFile(host, []byte("into root\n"), 0o644))
	w.ok("cp", host, "box:/data/toroot") // the link itself: it leads to the container's /
	for _, p := range []string{"/tmp/" + unique, "/" + unique} {
		_, err := os.Stat(p)
		require.ErrorIs(t, err, os.ErrNotExist, "cp wrote %s on the host through the container's link", p)
	}
	require.Empty(t, mountsOf(t, ctrDir), "the container's overlay stayed mounted")
	b, err = os.ReadFile(filepath.Join(ctrDir, "upper", "tmp", unique))
	require.NoError(t, err, "the write is in the container's own layer")
	require.Equal(t, "into tmp\n", string(b))

	w.ok("start", "box")
	w.ok("wait", "box")
	require.Equal(t, "into tmp\ninto root\n", w.ok("logs", "box"), "the started container sees what was copied in")

	// Its volumes are there, as in the running container: a host
	// directory and a named volume, read-only ones refused.
	vol := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(vol, "inside"), []byte("on the volume\n"), 0o644))
	w.ok("run", "--name", "withvol", "--network", "none", "-v", vol+":/vol", "-v", "named:/named", "-v", vol+":/ro:ro",
		"busybox", "sh", "-c", "echo named >/named/n")
	w.ok("cp", "withvol:/vol/inside", filepath.Join(tmp, "inside"))
	require.Equal(t, "on the volume\n", fileText(t, filepath.Join(tmp, "inside")))
	w.ok("cp", "withvol:/named/n", filepath.Join(tmp, "n"))
	require.Equal(t, "named\n", fileText(t, filepath.Join(tmp, "n")))
	w.ok("cp", host, "withvol:/vol/copied")
	require.Equal(t, "into root\n", fileText(t, filepath.Join(vol, "copied")), "the copy is on the volume")
	r := w.md("cp", host, "withvol:/ro/")
	require.Equal(t, 1, r.Code, "a read-only volume: %s", r.Stdout)
	_, err = os.Stat(filepath.Join(vol, unique))
	require.ErrorIs(t, err, os.ErrNotExist)

	// Errors leave nothing mounted either.
	r = w.md("cp", "box:/nope", tmp)
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "Could not find the file /nope in container box")
	r = w.md("cp", filepath.Join(tmp, "a"), "box:/nodir/")
	require.Equal(t, 1, r.Code, r.Stderr)
	require.Empty(t, mountsOf(t, ctrDir), "the container's overlay stayed mounted after an error")
}
