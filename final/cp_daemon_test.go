//go:build linux

package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDaemonCp: the docker CLI's docker cp against the daemon's archive
// endpoints (HEAD, GET, PUT /containers/{id}/archive), both ways, on a
// running and on an exited container, and minidocker -H cp through the
// same endpoints; links in the container never lead to the host's files.
func TestDaemonCp(t *testing.T) {
	for _, bin := range dockerCLIs(t) {
		t.Run(cliName(bin), func(t *testing.T) { testDaemonCp(t, bin) })
	}
}

func testDaemonCp(t *testing.T, bin string) {
	w := newWorld(t)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	d.bin = bin
	d.dockerOK("pull", "busybox")
	d.dockerOK("run", "-d", "--name", "box", "--network", "none", "busybox", "sh", "-c",
		"mkdir -p /data/sub && echo one >/data/a && echo two >/data/sub/b && ln -s / /data/toroot && exec sleep 1000")
	eventually(t, "the container's files", func() bool { return d.docker("exec", "box", "test", "-L", "/data/toroot").Code == 0 })
	tmp := t.TempDir()
	read := func(p string) string { return fileText(t, p) }
	unique := "mdk-dcp-" + filepath.Base(tmp)
	t.Cleanup(func() { // what a broken cp would have written on the host: ours to remove
		for _, p := range []string{"/tmp/" + unique, "/" + unique + "-md"} {
			os.Remove(p)
		}
	})
	host := filepath.Join(tmp, unique)
	require.NoError(t, os.WriteFile(host, []byte("from host\n"), 0o644))
	mdH := func(args ...string) string {
		t.Helper()
		return w.ok(append([]string{"-H", "unix://" + d.sock}, args...)...)
	}

	for _, state := range []string{"running", "exited"} {
		out := filepath.Join(tmp, state)
		require.NoError(t, os.Mkdir(out, 0o755))
		// Out of the container: a file, a directory, a directory's contents.
		d.dockerOK("cp", "box:/data/a", filepath.Join(out, "a"))
		require.Equal(t, "one\n", read(filepath.Join(out, "a")))
		d.dockerOK("cp", "box:/data", filepath.Join(out, "data"))
		require.Equal(t, "two\n", read(filepath.Join(out, "data", "sub", "b")))
		mdH("cp", "box:/data/sub/.", out)
		require.Equal(t, "two\n", read(filepath.Join(out, "b")), "minidocker -H cp SRC/.")
		r := d.docker("cp", "box:/nope", out)
		require.NotEqual(t, 0, r.Code)
		// 28.x prints the daemon's words, 20.10 its own for the 404.
		require.Regexp(t, `Could not find the file /nope in container box|No such container:path: box:/nope`, r.Stderr)

		// Into it: a file through its link to /, a directory.
		d.dockerOK("cp", host, "box:/data/toroot/tmp/")
		mdH("cp", host, "box:/data/toroot/"+unique+"-md")
		require.NoError(t, os.MkdirAll(filepath.Join(tmp, "site", "css"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(tmp, "site", "css", "x.css"), []byte("body{}"), 0o644))
		d.dockerOK("cp", filepath.Join(tmp, "site"), "box:/srv-"+state)
		for _, p := range []string{"/tmp/" + unique, "/" + unique + "-md"} {
			_, err := os.Stat(p)
			require.ErrorIs(t, err, os.ErrNotExist, "cp wrote %s on the host through the container's link", p)
		}
		// Back out, to see that they landed in the container.
		back := filepath.Join(out, "back")
		require.NoError(t, os.Mkdir(back, 0o755))
		d.dockerOK("cp", "box:/tmp/"+unique, back)
		require.Equal(t, "from host\n", read(filepath.Join(back, unique)))
		mdH("cp", "box:/"+unique+"-md", filepath.Join(back, "md"))
		require.Equal(t, "from host\n", read(filepath.Join(back, "md")))
		d.dockerOK("cp", "box:/srv-"+state+"/css/x.css", back)
		require.Equal(t, "body{}", read(filepath.Join(back, "x.css")))

		if state == "running" {
			require.Equal(t, "from host\n", d.dockerOK("exec", "box", "cat", "/tmp/"+unique))
			d.dockerOK("stop", "-t", "0", "box")
		}
	}
	for _, req := range []string{"HEAD /v", "GET /v", "PUT /v"} {
		require.Regexp(t, req+`[0-9.]+/containers/[^/]+/archive\?`, d.log.String(), "the copies went through the archive endpoints")
	}
}
