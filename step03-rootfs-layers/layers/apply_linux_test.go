package layers

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"minidocker/internal/testkit"
	"minidocker/step02-namespaces/namespaces"
)

// TestApplyInOneLayer covers entries of one layer that meet each other:
// an entry replacing an earlier one of another type, and whiteouts next to
// the names they delete. Whiteouts delete only from lower layers
// (image-spec layer.md), so this layer's own entries stay.
func TestApplyInOneLayer(t *testing.T) {
	testkit.RequireRoot(t)
	tests := []struct {
		name    string
		entries []testkit.Entry
		want    []string
	}{
		{
			name:    "file replaces a directory",
			entries: []testkit.Entry{testkit.Dir("x", 0o755), testkit.File("x/inner", "i", 0o644), testkit.File("x", "file", 0o644)},
			want:    []string{`x -rw-r--r-- 0:0 "file"`},
		},
		{
			name:    "directory replaces a file",
			entries: []testkit.Entry{testkit.File("x", "file", 0o644), testkit.Dir("x", 0o700)},
			want:    []string{`x drwx------ 0:0`},
		},
		{
			name:    "directory over a directory keeps its contents",
			entries: []testkit.Entry{testkit.Dir("x", 0o755), testkit.File("x/inner", "i", 0o644), testkit.Dir("x", 0o711)},
			want:    []string{`x drwx--x--x 0:0`, `x/inner -rw-r--r-- 0:0 "i"`},
		},
		{
			name:    "symlink replaces a file",
			entries: []testkit.Entry{testkit.File("x", "file", 0o644), testkit.Symlink("x", "y")},
			want:    []string{`x Lrwxrwxrwx 0:0 -> y`},
		},
		{
			name:    "file replaces a symlink",
			entries: []testkit.Entry{testkit.Symlink("x", "y"), testkit.File("x", "file", 0o644)},
			want:    []string{`x -rw-r--r-- 0:0 "file"`},
		},
		{
			name:    "file replaces a file",
			entries: []testkit.Entry{testkit.File("x", "one", 0o644), testkit.File("x", "two", 0o600)},
			want:    []string{`x -rw------- 0:0 "two"`},
		},
		{
			// The directory's times are set at the end; by then it is a
			// symlink to an absolute path, which must not be followed.
			name:    "absolute symlink replaces a directory",
			entries: []testkit.Entry{testkit.Dir("var", 0o755), testkit.Dir("var/run", 0o755), testkit.Symlink("var/run", "/run")},
			want:    []string{`var drwxr-xr-x 0:0`, `var/run Lrwxrwxrwx 0:0 -> /run`},
		},
		{
			name:    "whiteout after its own file keeps the file",
			entries: []testkit.Entry{testkit.File("x", "mine", 0o644), testkit.Whiteout("x")},
			want:    []string{`x -rw-r--r-- 0:0 "mine"`},
		},
		{
			name:    "whiteout after its own directory makes it opaque",
			entries: []testkit.Entry{testkit.Dir("x", 0o755), testkit.File("x/f", "f", 0o644), testkit.Whiteout("x")},
			want:    []string{`x drwxr-xr-x 0:0 opaque`, `x/f -rw-r--r-- 0:0 "f"`},
		},
		{
			name:    "file after a whiteout replaces it",
			entries: []testkit.Entry{testkit.Whiteout("x"), testkit.File("x", "new", 0o644)},
			want:    []string{`x -rw-r--r-- 0:0 "new"`},
		},
		{
			name:    "directory after a whiteout is opaque",
			entries: []testkit.Entry{testkit.Whiteout("x"), testkit.Dir("x", 0o755)},
			want:    []string{`x drwxr-xr-x 0:0 opaque`},
		},
		{
			name:    "file under a whiteout without its directory entry",
			entries: []testkit.Entry{testkit.Whiteout("x"), testkit.File("x/y/f", "f", 0o644)},
			want:    []string{`x drwxr-xr-x 0:0 opaque`, `x/y drwxr-xr-x 0:0`, `x/y/f -rw-r--r-- 0:0 "f"`},
		},
		{
			name:    "opaque marker before its directory entry",
			entries: []testkit.Entry{testkit.Opaque("x"), testkit.Dir("x", 0o700)},
			want:    []string{`x drwx------ 0:0 opaque`},
		},
		{
			name:    "whiteout and opaque marker",
			entries: []testkit.Entry{testkit.Whiteout("x"), testkit.Opaque("x")},
			want:    []string{`x drwxr-xr-x 0:0 opaque`},
		},
		{
			name:    "whiteout of a missing parent's child",
			entries: []testkit.Entry{testkit.Whiteout("a/b/c")},
			want:    []string{`a drwxr-xr-x 0:0`, `a/b drwxr-xr-x 0:0`, `a/b/c Dc--------- 0:0 0/0`},
		},
		{
			name:    "hard link replaces a file",
			entries: []testkit.Entry{testkit.File("a", "a", 0o644), testkit.File("b", "b", 0o644), testkit.Hardlink("b", "a")},
			want:    []string{`a -rw-r--r-- 0:0 "a"`, `b -rw-r--r-- 0:0 "a"`},
		},
		{
			name:    "absolute and dotted names",
			entries: []testkit.Entry{testkit.Dir("./", 0o755), testkit.File("/etc/x", "x", 0o644), testkit.Hardlink("./etc/y", "/etc/x")},
			want:    []string{`etc drwxr-xr-x 0:0`, `etc/x -rw-r--r-- 0:0 "x"`, `etc/y -rw-r--r-- 0:0 "x"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := shmDir(t)
			_, err := Apply(dir, bytes.NewReader(testkit.LayerTar(t, tc.entries...)))
			require.NoError(t, err)
			if diff := cmp.Diff(tc.want, listing(t, dir)); diff != "" {
				t.Errorf("layer directory mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestApplyWarns runs Apply on an OS thread without CAP_MKNOD, as in a
// user namespace: the device node is skipped with a warning naming it, the
// layer still applies, and the whiteout device (which needs no CAP_MKNOD)
// is still made. A user.* xattr on a symlink, which Linux refuses with
// EPERM, is a warning too.
func TestApplyWarns(t *testing.T) {
	testkit.RequireRoot(t)
	tr := testkit.LayerTar(t,
		testkit.Header(&tar.Header{Typeflag: tar.TypeChar, Name: "dev/null", Mode: 0o666, Devmajor: 1, Devminor: 3}, ""),
		testkit.Header(&tar.Header{Typeflag: tar.TypeFifo, Name: "dev/fifo", Mode: 0o600}, ""),
		testkit.Header(&tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "dev",
			PAXRecords: map[string]string{"SCHILY.xattr.user.mdk": "x"}}, ""),
		testkit.Whiteout("gone"),
		testkit.File("file", "kept", 0o644),
	)
	dir := shmDir(t)
	type warning struct{ Entry, Err string }
	var warnings []warning
	errc := make(chan error, 1)
	go func() {
		// Capabilities belong to a thread: drop CAP_MKNOD from this one
		// only, and never unlock it, so the thread dies with the goroutine.
		runtime.LockOSThread()
		if err := dropCapability(unix.CAP_MKNOD); err != nil {
			errc <- err
			return
		}
		_, err := ApplyWarn(dir, bytes.NewReader(tr), func(entry string, err error) {
			warnings = append(warnings, warning{entry, err.Error()})
		})
		errc <- err
	}()
	require.NoError(t, <-errc)
	want := []warning{
		{"dev/null", "mknodat dev/null: operation not permitted"},
		{"link", "setxattr user.mdk link: operation not permitted"},
	}
	if diff := cmp.Diff(want, warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	wantList := []string{
		`dev drwxr-xr-x 0:0`,
		`dev/fifo prw------- 0:0`,
		`file -rw-r--r-- 0:0 "kept"`,
		`gone Dc--------- 0:0 0/0`,
		`link Lrwxrwxrwx 0:0 -> dev`,
	}
	if diff := cmp.Diff(wantList, listing(t, dir)); diff != "" {
		t.Errorf("layer directory mismatch (-want +got):\n%s", diff)
	}
}

func dropCapability(c int) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[c/32].Effective &^= 1 << (c % 32)
	return unix.Capset(&hdr, &data[0])
}

// TestMountOverlayEscapes mounts lower directories whose names hold the
// two separators of the mount data, ':' and ','.
func TestMountOverlayEscapes(t *testing.T) {
	testkit.RequireRoot(t)
	base := shmDir(t)
	var lowers []string
	for _, name := range []string{"a:top", "b,bottom"} {
		l := filepath.Join(base, name)
		require.NoError(t, os.Mkdir(l, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(l, name+".txt"), []byte(name), 0o644))
		lowers = append(lowers, l)
	}
	merged, upper, work := filepath.Join(base, "m,erged"), filepath.Join(base, "up:per"), filepath.Join(base, "work")
	for _, d := range []string{merged, upper, work} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	require.NoError(t, MountOverlay(merged, lowers, upper, work))
	t.Cleanup(func() { _ = unix.Unmount(merged, unix.MNT_DETACH) })
	for _, name := range []string{"a:top", "b,bottom"} {
		got, err := os.ReadFile(filepath.Join(merged, name+".txt"))
		require.NoError(t, err)
		require.Equal(t, name, string(got))
	}
}

// TestMountOverlayError checks that a failed mount says what was asked.
func TestMountOverlayError(t *testing.T) {
	testkit.RequireRoot(t)
	base := shmDir(t)
	err := MountOverlay(filepath.Join(base, "target"), []string{filepath.Join(base, "missing")}, filepath.Join(base, "u"), filepath.Join(base, "w"))
	require.Error(t, err)
	var me *namespaces.MountError
	require.True(t, errors.As(err, &me), "error %v is not a *namespaces.MountError", err)
	if me.FSType != "overlay" || !strings.HasPrefix(me.Data, "lowerdir="+filepath.Join(base, "missing")+",upperdir=") {
		t.Errorf("MountError = %+v, want the overlay's arguments", me)
	}
	require.ErrorIs(t, err, unix.ENOENT)
}

// TestStoreShortLinkCollision plants a short link that another layer owns:
// Unpack refuses rather than mount the wrong layer.
func TestStoreShortLinkCollision(t *testing.T) {
	testkit.RequireRoot(t)
	s, err := NewStore(shmDir(t))
	require.NoError(t, err)
	tr := testkit.LayerTar(t, testkit.File("a", "a", 0o644))
	id := digest.FromBytes(tr)
	require.NoError(t, os.Symlink("../sha256/"+id.Encoded()[:12]+"-someone-else", s.Link(id)))
	_, err = s.Unpack(id, bytes.NewReader(tr))
	require.ErrorContains(t, err, "is taken by another layer")
}
