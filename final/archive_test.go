//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSaveLoad: an image saved, removed and loaded again runs; skopeo
// reads the saved archive; an archive skopeo wrote loads; the docker CLI
// saves and loads through the daemon.
func TestSaveLoad(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	id := w.inspect("busybox")["Id"].(string)
	dir := t.TempDir()
	saved := filepath.Join(dir, "busybox.tar")
	require.Equal(t, "", w.ok("save", "-o", saved, "busybox"))

	var cfg []byte
	cfg = []byte(tool(t, "skopeo", "inspect", "--raw", "--config", "docker-archive:"+saved))
	require.Contains(t, string(cfg), `"diff_ids"`)

	w.ok("rmi", "busybox")
	require.Equal(t, "Loaded image: busybox:latest\n", w.ok("load", "-i", saved))
	require.Equal(t, id, w.inspect("busybox")["Id"])
	require.Equal(t, "hi\n", w.ok("run", "--rm", "--network", "none", "busybox", "echo", "hi"))
	require.Equal(t, "", w.ok("load", "-q", "-i", saved))

	// From skopeo's hand: a docker-archive with gzip layers, another name.
	other := filepath.Join(dir, "skopeo.tar")
	tool(t, "skopeo", "copy", "--src-tls-verify=false", "docker://"+w.registry.Host()+"/library/busybox:latest", "docker-archive:"+other+":course/box:v1")
	require.Equal(t, "Loaded image: course/box:v1\n", w.ok("load", "-i", other))
	require.Equal(t, id, w.inspect("course/box:v1")["Id"])

	// Errors, in docker's words; nothing half-written.
	r := w.md("save", "-o", filepath.Join(dir, "x.tar"), "nope")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: No such image: nope\n", r.Stderr)
	_, err := os.Stat(filepath.Join(dir, "x.tar"))
	require.True(t, os.IsNotExist(err), "a failed save left its file")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.tar"), []byte("not a tar"), 0o644))
	r = w.md("load", "-i", filepath.Join(dir, "junk.tar"))
	require.Equal(t, 1, r.Code)
	require.True(t, strings.HasPrefix(r.Stderr, "Error: "), r.Stderr)

	t.Run("docker CLI through the daemon", func(t *testing.T) {
		requireDocker(t)
		d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
		viaDocker := filepath.Join(dir, "docker.tar")
		d.dockerOK("save", "-o", viaDocker, "busybox")
		d.dockerOK("rmi", "busybox")
		out := d.dockerOK("load", "-i", viaDocker)
		require.Contains(t, out, "Loaded image: busybox:latest")
		require.Equal(t, id, strings.TrimSpace(d.dockerOK("image", "inspect", "-f", "{{.Id}}", "busybox")))
	})
}
