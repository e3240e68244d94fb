package layers

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"minidocker/internal/testkit"
)

// shmDir is a temporary directory on tmpfs: file creation on this VM's ext4
// costs ~0.7 ms a file, and overlayfs wants trusted.* xattrs.
func shmDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "mdk-layers-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func gz(t *testing.T, data []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// listing describes every entry under dir, one line each, for go-cmp:
// name, mode, owner, then the content, the symlink target, the device
// numbers, and "opaque" for an overlayfs opaque directory.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %s %d:%d", rel, fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			line += fmt.Sprintf(" %q", data)
		case fi.Mode()&fs.ModeDevice != 0:
			line += fmt.Sprintf(" %d/%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		case fi.IsDir():
			buf := make([]byte, 8)
			if n, err := unix.Lgetxattr(p, OverlayOpaqueXattr, buf); err == nil && string(buf[:n]) == "y" {
				line += " opaque"
			}
		}
		out = append(out, line)
		return nil
	})
	require.NoError(t, err)
	sort.Strings(out)
	return out
}

// unpackAll unpacks each tar (uncompressed, gzip-compressed on the way) into
// a store and returns the store and the diffIDs, bottom first.
func unpackAll(t *testing.T, tars ...[]byte) (*Store, []digest.Digest) {
	t.Helper()
	s, err := NewStore(shmDir(t))
	require.NoError(t, err)
	var ids []digest.Digest
	for _, tr := range tars {
		id := digest.FromBytes(tr)
		_, err := s.Unpack(id, bytes.NewReader(gz(t, tr)))
		require.NoError(t, err)
		ids = append(ids, id)
	}
	return s, ids
}

func mountMerged(t *testing.T, s *Store, ids []digest.Digest) (merged, upper string) {
	t.Helper()
	base := shmDir(t)
	merged, upper, work := filepath.Join(base, "merged"), filepath.Join(base, "upper"), filepath.Join(base, "work")
	for _, d := range []string{merged, upper, work} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	require.NoError(t, s.Mount(merged, ids, upper, work))
	t.Cleanup(func() { _ = unix.Unmount(merged, unix.MNT_DETACH) })
	return merged, upper
}

// The fixture: a base layer, then one that deletes files, replaces a
// directory, makes one opaque and adds links, then one that deletes and
// replaces what the second added.
func fixture(t *testing.T) [][]byte {
	base := testkit.LayerTar(t,
		testkit.Dir("etc", 0o755), testkit.File("etc/passwd", "root\n", 0o644), testkit.File("etc/shadow", "secret\n", 0o600),
		testkit.Dir("var", 0o755), testkit.Dir("var/cache", 0o755), testkit.File("var/cache/old", "stale\n", 0o644),
		testkit.Dir("var/cache/sub", 0o755), testkit.File("var/cache/sub/deep", "stale\n", 0o644),
		testkit.Dir("opt", 0o755), testkit.File("opt/tool", "v1\n", 0o755),
		testkit.Dir("srv", 0o755), testkit.Dir("srv/old", 0o755), testkit.File("srv/old/page", "old\n", 0o644),
		testkit.File("data", "a file\n", 0o644),
		testkit.File("usr/bin/app", "app\n", 0o4755),
	)
	mid := testkit.LayerTar(t,
		testkit.Whiteout("etc/shadow"),
		testkit.Dir("var/cache", 0o755), testkit.Opaque("var/cache"), testkit.File("var/cache/new", "fresh\n", 0o644),
		testkit.Whiteout("opt"), testkit.File("opt", "now a file\n", 0o644),
		// srv is replaced as a whole: a whiteout, then the new directory.
		testkit.Whiteout("srv"), testkit.Dir("srv", 0o750), testkit.Dir("srv/new", 0o755), testkit.File("srv/new/page", "new\n", 0o644),
		testkit.Dir("data", 0o755), testkit.File("data/inner", "in\n", 0o644),
		testkit.File("etc/group", "wheel\n", 0o644), testkit.Hardlink("etc/group-", "etc/group"),
		testkit.Symlink("etc/motd", "/usr/share/motd"),
		testkit.Symlink("bin", "usr/bin"),
	)
	top := testkit.LayerTar(t,
		testkit.Whiteout("etc/group-"),
		testkit.File("etc/motd", "hello\n", 0o644),
		testkit.Whiteout("var/cache/new"), testkit.File("var/cache/later", "later\n", 0o644),
		testkit.File("usr/bin/tool", "tool\n", 0o755),
	)
	return [][]byte{base, mid, top}
}

func TestMergedView(t *testing.T) {
	testkit.RequireRoot(t)
	s, ids := unpackAll(t, fixture(t)...)
	merged, _ := mountMerged(t, s, ids)
	want := []string{
		`bin Lrwxrwxrwx 0:0 -> usr/bin`,
		`data drwxr-xr-x 0:0`,
		`data/inner -rw-r--r-- 0:0 "in\n"`,
		`etc drwxr-xr-x 0:0`,
		`etc/group -rw-r--r-- 0:0 "wheel\n"`,
		`etc/motd -rw-r--r-- 0:0 "hello\n"`,
		`etc/passwd -rw-r--r-- 0:0 "root\n"`,
		`opt -rw-r--r-- 0:0 "now a file\n"`,
		`srv drwxr-x--- 0:0`,
		`srv/new drwxr-xr-x 0:0`,
		`srv/new/page -rw-r--r-- 0:0 "new\n"`,
		`usr drwxr-xr-x 0:0`,
		`usr/bin drwxr-xr-x 0:0`,
		`usr/bin/app urwxr-xr-x 0:0 "app\n"`,
		`usr/bin/tool -rwxr-xr-x 0:0 "tool\n"`,
		`var drwxr-xr-x 0:0`,
		`var/cache drwxr-xr-x 0:0`,
		`var/cache/later -rw-r--r-- 0:0 "later\n"`,
	}
	if diff := cmp.Diff(want, listing(t, merged)); diff != "" {
		t.Errorf("merged view mismatch (-want +got):\n%s", diff)
	}
	// The hard link shares the inode with its target inside the layer.
	var a, b unix.Stat_t
	require.NoError(t, unix.Stat(filepath.Join(s.Path(ids[1]), "etc/group-"), &a))
	require.NoError(t, unix.Stat(filepath.Join(s.Path(ids[1]), "etc/group"), &b))
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("etc/group- is inode %d (nlink %d), etc/group %d: want one inode, two links", a.Ino, a.Nlink, b.Ino)
	}
}

// TestWhiteoutsOnDisk checks the converted form in the layer directories.
func TestWhiteoutsOnDisk(t *testing.T) {
	testkit.RequireRoot(t)
	s, ids := unpackAll(t, fixture(t)...)
	want := []string{
		`bin Lrwxrwxrwx 0:0 -> usr/bin`,
		`data drwxr-xr-x 0:0`,
		`data/inner -rw-r--r-- 0:0 "in\n"`,
		`etc drwxr-xr-x 0:0`,
		`etc/group -rw-r--r-- 0:0 "wheel\n"`,
		`etc/group- -rw-r--r-- 0:0 "wheel\n"`,
		`etc/motd Lrwxrwxrwx 0:0 -> /usr/share/motd`,
		`etc/shadow Dc--------- 0:0 0/0`,
		`opt -rw-r--r-- 0:0 "now a file\n"`,
		`srv drwxr-x--- 0:0 opaque`,
		`srv/new drwxr-xr-x 0:0`,
		`srv/new/page -rw-r--r-- 0:0 "new\n"`,
		`var drwxr-xr-x 0:0`,
		`var/cache drwxr-xr-x 0:0 opaque`,
		`var/cache/new -rw-r--r-- 0:0 "fresh\n"`,
	}
	if diff := cmp.Diff(want, listing(t, s.Path(ids[1]))); diff != "" {
		t.Errorf("middle layer on disk (-want +got):\n%s", diff)
	}
	want = []string{
		`etc drwxr-xr-x 0:0`,
		`etc/group- Dc--------- 0:0 0/0`,
		`etc/motd -rw-r--r-- 0:0 "hello\n"`,
		`usr drwxr-xr-x 0:0`,
		`usr/bin drwxr-xr-x 0:0`,
		`usr/bin/tool -rwxr-xr-x 0:0 "tool\n"`,
		`var drwxr-xr-x 0:0`,
		`var/cache drwxr-xr-x 0:0`,
		`var/cache/later -rw-r--r-- 0:0 "later\n"`,
		`var/cache/new Dc--------- 0:0 0/0`,
	}
	if diff := cmp.Diff(want, listing(t, s.Path(ids[2]))); diff != "" {
		t.Errorf("top layer on disk (-want +got):\n%s", diff)
	}
}

func TestCopyOnWrite(t *testing.T) {
	testkit.RequireRoot(t)
	s, ids := unpackAll(t, fixture(t)...)
	before := listing(t, s.Path(ids[0]))
	m1, u1 := mountMerged(t, s, ids)
	m2, _ := mountMerged(t, s, ids)

	require.NoError(t, os.WriteFile(filepath.Join(m1, "etc/passwd"), []byte("changed\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(m1, "created"), []byte("new\n"), 0o644))

	got, err := os.ReadFile(filepath.Join(u1, "etc/passwd"))
	require.NoError(t, err, "the first write to a lower file copies it up")
	require.Equal(t, "changed\n", string(got))
	got, err = os.ReadFile(filepath.Join(m2, "etc/passwd"))
	require.NoError(t, err)
	require.Equal(t, "root\n", string(got), "a second container of the same image saw the first one's write")
	_, err = os.Stat(filepath.Join(m2, "created"))
	require.ErrorIs(t, err, os.ErrNotExist)
	if diff := cmp.Diff(before, listing(t, s.Path(ids[0]))); diff != "" {
		t.Errorf("the lower layer changed (-before +after):\n%s", diff)
	}
}

func TestMetadata(t *testing.T) {
	testkit.RequireRoot(t)
	mtime := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	tr := testkit.LayerTar(t,
		testkit.Header(&tar.Header{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o1777, Uid: 12, Gid: 34, ModTime: mtime}, ""),
		testkit.Header(&tar.Header{Typeflag: tar.TypeReg, Name: "d/f", Mode: 0o2751, Uid: 1000, Gid: 1001, ModTime: mtime,
			PAXRecords: map[string]string{"SCHILY.xattr.user.mdk": "hello"}}, "data"),
		testkit.Header(&tar.Header{Typeflag: tar.TypeSymlink, Name: "d/l", Linkname: "f", Uid: 5, Gid: 6, ModTime: mtime}, ""),
		testkit.Header(&tar.Header{Typeflag: tar.TypeFifo, Name: "d/p", Mode: 0o640, ModTime: mtime}, ""),
		testkit.Header(&tar.Header{Typeflag: tar.TypeChar, Name: "d/null", Mode: 0o666, Devmajor: 1, Devminor: 3, ModTime: mtime}, ""),
	)
	dir := shmDir(t)
	n, err := Apply(dir, bytes.NewReader(tr))
	require.NoError(t, err)
	require.Equal(t, int64(4), n)
	tests := []struct {
		name      string
		mode      uint32
		uid, gid  uint32
		rdev      uint64
		checkTime bool
	}{
		{"d", unix.S_IFDIR | 0o1777, 12, 34, 0, true},
		{"d/f", unix.S_IFREG | 0o2751, 1000, 1001, 0, true},
		{"d/l", unix.S_IFLNK | 0o777, 5, 6, 0, true},
		{"d/p", unix.S_IFIFO | 0o640, 0, 0, 0, true},
		{"d/null", unix.S_IFCHR | 0o666, 0, 0, unix.Mkdev(1, 3), true},
	}
	for _, tc := range tests {
		var st unix.Stat_t
		require.NoError(t, unix.Lstat(filepath.Join(dir, tc.name), &st))
		if st.Mode != tc.mode || st.Uid != tc.uid || st.Gid != tc.gid || st.Rdev != tc.rdev {
			t.Errorf("%s: mode %o uid %d gid %d rdev %d, want %o %d %d %d", tc.name, st.Mode, st.Uid, st.Gid, st.Rdev, tc.mode, tc.uid, tc.gid, tc.rdev)
		}
		if got := time.Unix(st.Mtim.Unix()); tc.checkTime && !got.Equal(mtime) {
			t.Errorf("%s: mtime %v, want %v", tc.name, got, mtime)
		}
	}
	buf := make([]byte, 16)
	sz, err := unix.Getxattr(filepath.Join(dir, "d/f"), "user.mdk", buf)
	require.NoError(t, err)
	require.Equal(t, "hello", string(buf[:sz]))
}

// TestBreakouts feeds hostile layers (the case list of containerd's
// TestBreakouts, our own code) to Apply. A layer directory sits next to a
// directory "outside" holding a secret; OUTSIDE in a name or link target
// stands for its absolute path. Every layer is either refused with an
// error naming the entry, or contained: what it writes lands inside. In
// both cases nothing outside changes, not even partially.
func TestBreakouts(t *testing.T) {
	testkit.RequireRoot(t)
	file := func(name string) testkit.Entry { return testkit.File(name, "x", 0o644) }
	tests := []struct {
		name    string
		entries []testkit.Entry
		// errEntry is the entry named in the error; "" means the layer is
		// contained and must apply without error.
		errEntry string
		// escape: the error must be ErrEscape (others fail otherwise, as a
		// missing hard link target does).
		escape bool
		// inside lists what a contained layer must have written.
		inside []string
	}{
		{name: "dot-dot name", entries: []testkit.Entry{file("../escaped")}, errEntry: "../escaped", escape: true},
		{name: "dot-dot in the middle", entries: []testkit.Entry{file("a/../../escaped")}, errEntry: "a/../../escaped", escape: true},
		{name: "dot-dot whiteout", entries: []testkit.Entry{testkit.Whiteout("../outside/secret")}, errEntry: "../outside/.wh.secret", escape: true},
		{name: "absolute name is taken inside", entries: []testkit.Entry{file("/escaped")}, inside: []string{"escaped"}},
		{name: "absolute dot-dot name is taken inside", entries: []testkit.Entry{file("/../escaped")}, inside: []string{"escaped"}},
		{name: "write through an absolute symlink", entries: []testkit.Entry{testkit.Symlink("link", "OUTSIDE"), file("link/escaped")}, errEntry: "link/escaped", escape: true},
		{name: "write through a relative symlink", entries: []testkit.Entry{testkit.Symlink("link", "../outside"), file("link/escaped")}, errEntry: "link/escaped", escape: true},
		{name: "write through a symlink in a subdirectory", entries: []testkit.Entry{testkit.Dir("d", 0o755), testkit.Symlink("d/link", "../../outside"), file("d/link/escaped")}, errEntry: "d/link/escaped", escape: true},
		{name: "symlink chain", entries: []testkit.Entry{testkit.Symlink("a", "b"), testkit.Symlink("b", "../outside"), file("a/escaped")}, errEntry: "a/escaped", escape: true},
		{name: "symlink via a subdirectory's parent", entries: []testkit.Entry{testkit.Dir("sub", 0o755), testkit.Symlink("link", "sub/../../outside"), file("link/escaped")}, errEntry: "link/escaped", escape: true},
		{name: "symlink loop", entries: []testkit.Entry{testkit.Symlink("a", "b"), testkit.Symlink("b", "a"), file("a/escaped")}, errEntry: "a/escaped"},
		{name: "symlink to itself is inside", entries: []testkit.Entry{testkit.Symlink("self", "."), file("self/here")}, inside: []string{"here"}},
		{name: "file over a symlink replaces the symlink", entries: []testkit.Entry{testkit.Symlink("x", "../outside/secret"), file("x")}, inside: []string{"x"}},
		{name: "file over an absolute symlink replaces the symlink", entries: []testkit.Entry{testkit.Symlink("x", "OUTSIDE/secret"), file("x")}, inside: []string{"x"}},
		{name: "directory over a symlink replaces the symlink", entries: []testkit.Entry{testkit.Symlink("d", "../outside"), testkit.Dir("d", 0o755), file("d/f")}, inside: []string{"d/f"}},
		{name: "hard link to outside", entries: []testkit.Entry{testkit.Hardlink("stolen", "../outside/secret")}, errEntry: "stolen", escape: true},
		{name: "hard link to an absolute path is taken inside", entries: []testkit.Entry{testkit.Hardlink("stolen", "OUTSIDE/secret")}, errEntry: "stolen"},
		{name: "hard link through a symlink", entries: []testkit.Entry{testkit.Symlink("link", "../outside"), testkit.Hardlink("stolen", "link/secret")}, errEntry: "stolen", escape: true},
		{name: "hard link named through a symlink", entries: []testkit.Entry{file("mine"), testkit.Symlink("link", "../outside"), testkit.Hardlink("link/planted", "mine")}, errEntry: "link/planted", escape: true},
		{name: "hard link to a symlink, then written", entries: []testkit.Entry{testkit.Symlink("link", "../outside/secret"), testkit.Hardlink("hl", "link"), file("hl")}, inside: []string{"hl", "link"}},
		{name: "whiteout through a symlink", entries: []testkit.Entry{testkit.Symlink("link", "../outside"), testkit.Whiteout("link/secret")}, errEntry: "link/.wh.secret", escape: true},
		{name: "opaque through a symlink", entries: []testkit.Entry{testkit.Symlink("link", "../outside"), testkit.Opaque("link")}, errEntry: "link/.wh..wh..opq"},
		{name: "fifo through a symlink", entries: []testkit.Entry{testkit.Symlink("link", "../outside"), testkit.Header(&tar.Header{Typeflag: tar.TypeFifo, Name: "link/fifo", Mode: 0o644}, "")}, errEntry: "link/fifo", escape: true},
		{name: "directory through a symlink", entries: []testkit.Entry{testkit.Symlink("link", "../outside"), testkit.Dir("link/d", 0o755)}, errEntry: "link/d/", escape: true},
		{name: "chmod through a symlink", entries: []testkit.Entry{testkit.Symlink("link", "../outside"), testkit.Dir("link/", 0o777)}, inside: []string{"link"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := shmDir(t)
			outside := filepath.Join(base, "outside")
			layer := filepath.Join(base, "layer")
			require.NoError(t, os.Mkdir(outside, 0o755))
			require.NoError(t, os.Mkdir(layer, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600))
			before := listing(t, base)
			var entries []testkit.Entry
			for _, e := range tc.entries {
				h := *e.Header
				h.Name = strings.ReplaceAll(h.Name, "OUTSIDE", outside)
				h.Linkname = strings.ReplaceAll(h.Linkname, "OUTSIDE", outside)
				entries = append(entries, testkit.Entry{Header: &h, Content: e.Content})
			}
			_, err := Apply(layer, bytes.NewReader(testkit.LayerTar(t, entries...)))
			switch {
			case tc.errEntry == "" && err != nil:
				t.Errorf("Apply refused a layer it should contain: %v", err)
			case tc.errEntry != "" && err == nil:
				t.Errorf("Apply accepted a hostile layer")
			case err != nil && !strings.Contains(err.Error(), fmt.Sprintf("entry %q", tc.errEntry)):
				t.Errorf("error %q does not name the entry %q", err, tc.errEntry)
			case err != nil && tc.escape && !errors.Is(err, ErrEscape):
				t.Errorf("error %v is not ErrEscape", err)
			}
			// Nothing changed outside the layer directory.
			var after []string
			for _, line := range listing(t, base) {
				if !strings.HasPrefix(line, "layer/") {
					after = append(after, line)
				}
			}
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("outside the layer directory changed (-before +after):\n%s", diff)
			}
			for _, name := range tc.inside {
				if _, err := os.Lstat(filepath.Join(layer, name)); err != nil {
					t.Errorf("%s is not inside the layer: %v", name, err)
				}
			}
		})
	}
}

func TestUnpackVerifiesDiffID(t *testing.T) {
	testkit.RequireRoot(t)
	tr := testkit.LayerTar(t, testkit.File("a", "a\n", 0o644))
	dir := filepath.Join(shmDir(t), "layer")
	wrong := digest.FromString("something else")
	err := Unpack(dir, bytes.NewReader(gz(t, tr)), wrong)
	require.ErrorIs(t, err, ErrDiffIDMismatch)
	_, statErr := os.Stat(dir)
	require.ErrorIs(t, statErr, os.ErrNotExist, "a layer that failed verification became visible")
	entries, _ := os.ReadDir(filepath.Dir(dir))
	require.Empty(t, entries, "the temporary directory was left behind")
	require.NoError(t, Unpack(dir, bytes.NewReader(gz(t, tr)), digest.FromBytes(tr)))
}

func TestDecompress(t *testing.T) {
	tr := testkit.LayerTar(t, testkit.File("a", "hello\n", 0o644))
	var zs bytes.Buffer
	zw, err := zstd.NewWriter(&zs)
	require.NoError(t, err)
	_, _ = zw.Write(tr)
	require.NoError(t, zw.Close())
	for name, blob := range map[string][]byte{"plain": tr, "gzip": gz(t, tr), "zstd": zs.Bytes()} {
		t.Run(name, func(t *testing.T) {
			r, err := Decompress(bytes.NewReader(blob))
			require.NoError(t, err)
			got, err := io.ReadAll(r)
			require.NoError(t, err)
			if !bytes.Equal(got, tr) {
				t.Errorf("Decompress(%s) gave %d bytes, want the %d of the tar", name, len(got), len(tr))
			}
		})
	}
}

func TestStoreConcurrentUnpack(t *testing.T) {
	testkit.RequireRoot(t)
	tr := testkit.LayerTar(t, testkit.File("a", "a\n", 0o644))
	s, err := NewStore(shmDir(t))
	require.NoError(t, err)
	id := digest.FromBytes(tr)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := s.Unpack(id, bytes.NewReader(gz(t, tr)))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.True(t, s.Has(id))
	require.Equal(t, int64(2), s.Size(id))
	require.NoError(t, s.Remove(id))
	require.False(t, s.Has(id))
}

// TestHundredLayers mounts an image of 100 layers: with absolute lowerdir
// paths the mount data would not fit in a page.
func TestHundredLayers(t *testing.T) {
	testkit.RequireRoot(t)
	var tars [][]byte
	for i := range 100 {
		tars = append(tars, testkit.LayerTar(t, testkit.File(fmt.Sprintf("layer-%03d", i), fmt.Sprint(i), 0o644)))
	}
	s, ids := unpackAll(t, tars...)
	require.Greater(t, len(overlayData(s.Lowers(ids), "/u", "/w")), os.Getpagesize(), "the test must need the short-link path")
	merged, _ := mountMerged(t, s, ids)
	entries, err := os.ReadDir(merged)
	require.NoError(t, err)
	require.Len(t, entries, 100)
	got, err := os.ReadFile(filepath.Join(merged, "layer-099"))
	require.NoError(t, err)
	require.Equal(t, "99", string(got))
}

// TestTrustedXattrsNotApplied: overlayfs' own xattrs (opaque, redirect,
// metacopy) and anything else of trusted.* in a layer's PAX headers are not
// set, each with a warning; user.* is. In the merged view, a layer's
// "trusted.overlay.opaque" does not hide the lower layer's directory.
func TestTrustedXattrsNotApplied(t *testing.T) {
	testkit.RequireRoot(t)
	pax := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m["SCHILY.xattr."+kv[i]] = kv[i+1]
		}
		return m
	}
	base := testkit.LayerTar(t, testkit.Dir("d", 0o755), testkit.File("d/a", "lower\n", 0o644))
	top := testkit.LayerTar(t,
		testkit.Header(&tar.Header{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o755,
			PAXRecords: pax("trusted.overlay.opaque", "y", "user.keep", "d")}, ""),
		testkit.Header(&tar.Header{Typeflag: tar.TypeDir, Name: "r/", Mode: 0o755,
			PAXRecords: pax("trusted.overlay.redirect", "/d")}, ""),
		testkit.Header(&tar.Header{Typeflag: tar.TypeReg, Name: "r/f", Mode: 0o644,
			PAXRecords: pax("trusted.overlay.metacopy", "x", "trusted.mdk", "secret", "user.keep", "f")}, "data"),
	)
	s, err := NewStore(shmDir(t))
	require.NoError(t, err)
	var warnings []string
	s.Warn = func(_ digest.Digest, entry string, err error) {
		require.ErrorIs(t, err, ErrTrustedXattr)
		warnings = append(warnings, entry+": "+err.Error())
	}
	var ids []digest.Digest
	for _, tr := range [][]byte{base, top} {
		id := digest.FromBytes(tr)
		_, err := s.Unpack(id, bytes.NewReader(tr))
		require.NoError(t, err)
		ids = append(ids, id)
	}
	sort.Strings(warnings)
	require.Equal(t, []string{
		"d/: xattr trusted.overlay.opaque: " + ErrTrustedXattr.Error(),
		"r/: xattr trusted.overlay.redirect: " + ErrTrustedXattr.Error(),
		"r/f: xattr trusted.mdk: " + ErrTrustedXattr.Error(),
		"r/f: xattr trusted.overlay.metacopy: " + ErrTrustedXattr.Error(),
	}, warnings)
	layer := s.Path(ids[1])
	for _, p := range []string{"d", "r", "r/f"} {
		names := make([]byte, 1024)
		n, err := unix.Llistxattr(filepath.Join(layer, p), names)
		require.NoError(t, err)
		for name := range strings.SplitSeq(string(names[:n]), "\x00") {
			require.False(t, strings.HasPrefix(name, "trusted."), "%s has %s", p, name)
		}
	}
	buf := make([]byte, 16)
	for p, want := range map[string]string{"d": "d", "r/f": "f"} {
		n, err := unix.Lgetxattr(filepath.Join(layer, p), "user.keep", buf)
		require.NoError(t, err, "user.* is applied")
		require.Equal(t, want, string(buf[:n]))
	}
	merged, _ := mountMerged(t, s, ids)
	data, err := os.ReadFile(filepath.Join(merged, "d", "a"))
	require.NoError(t, err, "the image's trusted.overlay.opaque hid the lower layer")
	require.Equal(t, "lower\n", string(data))
}

// TestLockSurvivesRemovedLockFile: Remove unlinks a layer's lock file
// while holding it. A process that was waiting on it must end up holding
// the lock file that is there now, or a sweep would see no one writing
// and delete the waiter's temporary directory.
func TestLockSurvivesRemovedLockFile(t *testing.T) {
	s, err := NewStore(t.TempDir())
	require.NoError(t, err)
	d := digest.FromString("layer")
	path := filepath.Join(s.root, "locks", d.Encoded())
	unlockA, err := s.lock(d)
	require.NoError(t, err)
	got := make(chan func())
	go func() {
		unlockB, err := s.lock(d)
		if err != nil {
			t.Error(err)
			unlockB = func() {}
		}
		got <- unlockB
	}()
	time.Sleep(50 * time.Millisecond) // B waits on the file A holds
	require.NoError(t, os.Remove(path))
	unlockA()
	unlockB := <-got
	defer unlockB()
	_, ok, err := lockFile(path, false)
	require.NoError(t, err)
	require.False(t, ok, "the lock at %s is free while B thinks it holds it", path)
}
