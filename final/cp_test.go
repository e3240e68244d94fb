//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCp: docker cp both ways with its rules (into a directory, SRC/.,
// DEST/ that must exist, a new name), and paths resolved inside the
// container: a link to / in the container leads to the container's root,
// never the host's.
func TestCp(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	w.ok("run", "-d", "--name", "box", "--network", "none", "busybox", "sh", "-c",
		"mkdir -p /data/sub && echo one >/data/a && echo two >/data/sub/b && ln -s / /data/toroot && ln -s /etc /data/etclink && exec sleep 1000")
	eventually(t, "the container's files", func() bool { return w.md("exec", "box", "test", "-L", "/data/etclink").Code == 0 })
	tmp := t.TempDir()
	read := func(p string) string { return fileText(t, p) }

	w.ok("cp", "box:/data/a", tmp+"/")
	require.Equal(t, "one\n", read(filepath.Join(tmp, "a")), "a file into a directory")
	w.ok("cp", "box:/data/a", filepath.Join(tmp, "renamed"))
	require.Equal(t, "one\n", read(filepath.Join(tmp, "renamed")))
	w.ok("cp", "box:/data", filepath.Join(tmp, "new"))
	require.Equal(t, "two\n", read(filepath.Join(tmp, "new", "sub", "b")), "a directory to a new name")
	require.NoError(t, os.Mkdir(filepath.Join(tmp, "existing"), 0o755))
	w.ok("cp", "box:/data", filepath.Join(tmp, "existing"))
	require.Equal(t, "one\n", read(filepath.Join(tmp, "existing", "data", "a")), "a directory into a directory")
	require.NoError(t, os.Mkdir(filepath.Join(tmp, "contents"), 0o755))
	w.ok("cp", "box:/data/.", filepath.Join(tmp, "contents"))
	require.Equal(t, "one\n", read(filepath.Join(tmp, "contents", "a")), "SRC/. copies the contents")
	r := w.md("cp", "box:/data/a", filepath.Join(tmp, "nodir")+"/")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "no such directory")
	r = w.md("cp", "box:/nope", tmp)
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "Could not find the file /nope in container box")

	// Links resolved inside: the container's /etc/passwd, not the host's.
	w.ok("cp", "box:/data/etclink/passwd", filepath.Join(tmp, "passwd"))
	require.Equal(t, w.ok("exec", "box", "cat", "/etc/passwd"), read(filepath.Join(tmp, "passwd")))
	// A link at SRC is copied as a link; with -L as what it leads to, under
	// its own name.
	w.ok("cp", "box:/data/etclink", filepath.Join(tmp, "asis"))
	link, err := os.Readlink(filepath.Join(tmp, "asis"))
	require.NoError(t, err)
	require.Equal(t, "/etc", link)
	require.NoError(t, os.Mkdir(filepath.Join(tmp, "followed"), 0o755))
	w.ok("cp", "-L", "box:/data/etclink", filepath.Join(tmp, "followed"))
	require.Equal(t, w.ok("exec", "box", "cat", "/etc/passwd"), read(filepath.Join(tmp, "followed", "etclink", "passwd")))

	// Into the container, through its link to /: the container's /tmp.
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "h"), []byte("from host\n"), 0o644))
	w.ok("cp", filepath.Join(tmp, "h"), "box:/data/")
	require.Equal(t, "from host\n", w.ok("exec", "box", "cat", "/data/h"))
	unique := "mdk-cp-" + filepath.Base(tmp)
	w.ok("cp", filepath.Join(tmp, "h"), "box:/data/toroot/tmp/"+unique)
	require.Equal(t, "from host\n", w.ok("exec", "box", "cat", "/tmp/"+unique))
	_, err = os.Stat("/tmp/" + unique)
	require.ErrorIs(t, err, os.ErrNotExist, "cp wrote on the host through the container's link")

	// A file never replaces a directory, nor a directory a file (the
	// docker CLI's noOverwriteDirNonDir): refused, nothing lost.
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "sub"), []byte("a file\n"), 0o644))
	r = w.md("cp", filepath.Join(tmp, "sub"), "box:/data/")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, `cannot overwrite directory "sub" with non-directory "sub"`)
	require.Equal(t, "two\n", w.ok("exec", "box", "cat", "/data/sub/b"), "the directory is still there")
	require.NoError(t, os.Mkdir(filepath.Join(tmp, "clash"), 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(tmp, "clash", "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "clash", "sub", "keep"), []byte("kept\n"), 0o644))
	w.ok("exec", "box", "sh", "-c", "mkdir -p /clash && echo file >/clash/sub")
	r = w.md("cp", "box:/clash/sub", filepath.Join(tmp, "clash"))
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "cannot overwrite directory")
	require.Equal(t, "kept\n", read(filepath.Join(tmp, "clash", "sub", "keep")), "the host's directory is still there")

	require.NoError(t, os.MkdirAll(filepath.Join(tmp, "site", "css"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "site", "css", "x.css"), []byte("body{}"), 0o644))
	w.ok("cp", filepath.Join(tmp, "site"), "box:/srv")
	require.Equal(t, "body{}", w.ok("exec", "box", "cat", "/srv/css/x.css"))

	w.ok("stop", "-t", "0", "box")
	r = w.md("cp", "box:/data/nope", tmp)
	require.Equal(t, 1, r.Code)
	require.True(t, strings.Contains(r.Stderr, "Could not find the file /data/nope in container box"), r.Stderr)
}

// fileText is the content of the host's file p.
func fileText(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}
