//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVolumes: a named volume outlives its containers; a new one is filled
// with the image's files at the mount point (and the network's /etc files
// still show over it); one a container uses, running or not, is not
// removed; bad names get docker's error; prune -a removes the unused ones.
func TestVolumes(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	require.Equal(t, "data\n", w.ok("volume", "create", "data"))
	require.Regexp(t, `(?m)^local\s+data$`, w.ok("volume", "ls"))
	var vols []map[string]any
	require.NoError(t, json.Unmarshal([]byte(w.ok("volume", "inspect", "data")), &vols))
	require.Len(t, vols, 1)
	require.Equal(t, "data", vols[0]["Name"])
	require.Equal(t, "local", vols[0]["Driver"])
	require.Equal(t, filepath.Join(w.root, "volumes", "data", "_data"), vols[0]["Mountpoint"])

	w.ok("run", "--rm", "--network", "none", "-v", "data:/data", "busybox", "sh", "-c", "echo kept >/data/f")
	require.Equal(t, "kept\n", w.ok("run", "--rm", "--network", "none", "-v", "data:/data:ro", "busybox", "cat", "/data/f"),
		"the file did not outlive its container")
	r := w.md("run", "--rm", "--network", "none", "-v", "data:/data:ro", "busybox", "touch", "/data/g")
	require.NotEqual(t, 0, r.Code, "a :ro volume was writable")

	// A new volume over the image's /etc: the image's files copied in,
	// then the container's own /etc/hostname mounted over it.
	out := w.ok("run", "--rm", "--network", "none", "--hostname", "vh", "-v", "fresh:/etc", "busybox", "sh", "-c", "cat /etc/hostname; ls /etc")
	require.True(t, strings.HasPrefix(out, "vh\n"), "hostname: %q", out)
	require.Contains(t, out, "passwd")
	passwd, err := os.ReadFile(filepath.Join(w.root, "volumes", "fresh", "_data", "passwd"))
	require.NoError(t, err, "copy-up into the volume")
	require.Contains(t, string(passwd), "root:")

	// In use, running and then stopped: refused.
	id := strings.TrimSpace(w.ok("run", "-d", "--name", "user", "--network", "none", "-v", "data:/data", "busybox", "sleep", "1000"))
	r = w.md("volume", "rm", "data")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: remove data: volume is in use - ["+id+"]\n", r.Stderr)
	w.ok("stop", "-t", "0", "user")
	require.Equal(t, 1, w.md("volume", "rm", "data").Code, "a stopped container still uses it")

	// prune: without -a nothing (no anonymous volumes), with -a the unused.
	require.Equal(t, "Total reclaimed space: 0B\n", w.ok("volume", "prune", "-f"))
	require.Equal(t, "Deleted Volumes:\nfresh\n\nTotal reclaimed space: 0B\n", w.ok("volume", "prune", "-a", "-f"))
	w.ok("rm", "user")
	require.Equal(t, "data\n", w.ok("volume", "rm", "data"))
	require.Equal(t, "", w.ok("volume", "ls", "-q"))
	_, err = os.Stat(filepath.Join(w.root, "volumes", "data"))
	require.ErrorIs(t, err, os.ErrNotExist)

	r = w.md("run", "--rm", "-v", "x:/data", "busybox", "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, `"x" includes invalid characters for a local volume name`)
	r = w.md("volume", "create", "no way")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, `"no way" includes invalid characters for a local volume name`)
	r = w.md("volume", "rm", "nope")
	require.Equal(t, "Error: get nope: no such volume\n", r.Stderr)
}

// TestDaemonVolumes: docker volume and docker run -v NAME:/path of the
// real docker CLI through the daemon.
func TestDaemonVolumes(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	require.Equal(t, "vol1\n", d.dockerOK("volume", "create", "vol1"))
	require.Regexp(t, `(?m)^local\s+vol1$`, d.dockerOK("volume", "ls"))
	d.dockerOK("run", "--rm", "-v", "vol1:/data", "busybox", "sh", "-c", "echo hi >/data/x")
	require.Equal(t, "hi\n", d.dockerOK("run", "--rm", "-v", "vol1:/data", "busybox", "cat", "/data/x"))
	require.Equal(t, "vol1\n", d.dockerOK("volume", "inspect", "-f", "{{.Name}}", "vol1"))
	d.dockerOK("run", "-d", "--name", "holder", "-v", "vol1:/data", "busybox", "sleep", "1000")
	r := d.docker("volume", "rm", "vol1")
	require.NotEqual(t, 0, r.Code)
	require.Contains(t, r.Stderr, "volume is in use")
	d.dockerOK("rm", "-f", "holder")
	require.Equal(t, "vol1\n", d.dockerOK("volume", "rm", "vol1"))
}
