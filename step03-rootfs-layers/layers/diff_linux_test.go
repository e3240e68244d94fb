package layers

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"minidocker/internal/testkit"
)

// change does in the merged view what a container (or a build's RUN)
// would: delete, replace a directory, add, link, chmod, chown, set an
// xattr, make a fifo and a device.
func change(t *testing.T, merged string) {
	t.Helper()
	p := func(name string) string { return filepath.Join(merged, name) }
	require.NoError(t, os.Remove(p("etc/passwd")))
	require.NoError(t, os.RemoveAll(p("var/cache")))
	require.NoError(t, os.Mkdir(p("var/cache"), 0o700))
	require.NoError(t, os.WriteFile(p("var/cache/fresh"), []byte("fresh\n"), 0o644))
	require.NoError(t, os.WriteFile(p("etc/new"), []byte("new\n"), 0o640))
	require.NoError(t, os.Chown(p("etc/new"), 1000, 1001))
	require.NoError(t, unix.Lsetxattr(p("etc/new"), "user.note", []byte("kept"), 0))
	require.NoError(t, os.Link(p("etc/new"), p("etc/new-link")))
	require.NoError(t, os.Chmod(p("data/inner"), 0o600))
	require.NoError(t, os.Symlink("etc/new", p("newlink")))
	require.NoError(t, unix.Mkfifo(p("fifo"), 0o644))
	require.NoError(t, unix.Mknod(p("null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
}

// entries lists a tar's entry names and, for links, their targets.
func entries(t *testing.T, data []byte) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out[hdr.Name] = hdr
	}
}

// The round trip the builder relies on: what a container changed, diffed
// into a tar and unpacked as a new layer on the same lowers, shows the
// same merged view as the container saw.
func TestDiffRoundTrip(t *testing.T) {
	testkit.RequireRoot(t)
	s, ids := unpackAll(t, fixture(t)...)
	merged, upper := mountMerged(t, s, ids)
	change(t, merged)
	want := listing(t, merged)
	require.NoError(t, unix.Unmount(merged, 0))

	var buf bytes.Buffer
	_, err := Diff(&buf, upper, DiffOptions{})
	require.NoError(t, err)
	names := entries(t, buf.Bytes())
	for _, name := range []string{"etc/.wh.passwd", "var/cache/", "var/cache/.wh..wh..opq", "fifo", "null"} {
		require.Contains(t, names, name, "the layer's tar")
	}
	require.Equal(t, byte(tar.TypeLink), names["etc/new-link"].Typeflag, "a second name of a file is a hard link")
	require.Equal(t, "etc/new", names["etc/new-link"].Linkname)
	require.Equal(t, "kept", names["etc/new"].PAXRecords["SCHILY.xattr.user.note"])
	for name, hdr := range names {
		for key := range hdr.PAXRecords {
			require.NotContains(t, key, "trusted.", "%s: overlayfs' own xattrs stay out of the layer", name)
		}
	}

	id := digest.FromBytes(buf.Bytes())
	_, err = s.Unpack(id, bytes.NewReader(gz(t, buf.Bytes())))
	require.NoError(t, err)
	again, _ := mountMerged(t, s, append(ids, id))
	require.Empty(t, cmp.Diff(want, listing(t, again)), "the merged view through the new layer (-container +layer)")
}

// Same files, same bytes: the builder's cache and reproducible builds
// depend on it. The epoch clamps times.
func TestDiffReproducible(t *testing.T) {
	testkit.RequireRoot(t)
	upper := shmDir(t)
	require.NoError(t, os.MkdirAll(filepath.Join(upper, "b/c"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(upper, "b/c/f"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(upper, "a"), []byte("y"), 0o644))
	require.NoError(t, unix.Mknod(filepath.Join(upper, "gone"), unix.S_IFCHR, 0))
	now := time.Now()
	require.NoError(t, os.Chtimes(filepath.Join(upper, "a"), now, now))

	diff := func(o DiffOptions) []byte {
		var buf bytes.Buffer
		_, err := Diff(&buf, upper, o)
		require.NoError(t, err)
		return buf.Bytes()
	}
	first := diff(DiffOptions{})
	require.Equal(t, first, diff(DiffOptions{}), "two diffs of the same files")

	var order []string
	tr := tar.NewReader(bytes.NewReader(first))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		order = append(order, hdr.Name)
		require.Zero(t, hdr.ModTime.Nanosecond(), "%s: whole seconds", hdr.Name)
		require.Empty(t, hdr.Uname+hdr.Gname, "%s: no names, only ids", hdr.Name)
	}
	require.Equal(t, []string{"a", "b/", "b/c/", "b/c/f", ".wh.gone"}, order)

	epoch := time.Unix(1_000_000_000, 0)
	clamped := entries(t, diff(DiffOptions{Epoch: &epoch}))
	require.True(t, clamped["a"].ModTime.Equal(epoch), "a's time %v clamped to %v", clamped["a"].ModTime, epoch)
}

// A renamed directory under redirect_dir lives partly in the lower layers:
// reading upper alone would lose it, so Diff says so.
func TestDiffRefusesRedirect(t *testing.T) {
	testkit.RequireRoot(t)
	upper := shmDir(t)
	require.NoError(t, os.Mkdir(filepath.Join(upper, "moved"), 0o755))
	require.NoError(t, unix.Lsetxattr(filepath.Join(upper, "moved"), "trusted.overlay.redirect", []byte("/orig"), 0))
	_, err := Diff(io.Discard, upper, DiffOptions{})
	require.ErrorIs(t, err, ErrOverlayFeature)
}
