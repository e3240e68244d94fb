package layers

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

func readTar(t *testing.T, s *Store, id digest.Digest) ([]byte, error) {
	t.Helper()
	r, err := s.Tar(id)
	require.NoError(t, err)
	defer r.Close()
	return io.ReadAll(r)
}

// What was unpacked comes back byte for byte, whiteouts, links, padding
// and all: the diffID in the image's config still names it.
func TestTarRoundTrip(t *testing.T) {
	testkit.RequireRoot(t)
	tars := append(fixture(t), testkit.BusyboxTar(t))
	s, ids := unpackAll(t, tars...)
	for i, id := range ids {
		got, err := readTar(t, s, id)
		require.NoError(t, err, "layer %d", i)
		require.True(t, bytes.Equal(tars[i], got), "layer %d: %d bytes back for %d unpacked", i, len(got), len(tars[i]))
	}
	require.NoError(t, s.Remove(ids[0]))
	_, err := os.Stat(s.layoutPath(ids[0]))
	require.ErrorIs(t, err, os.ErrNotExist, "the layout goes with its layer")
}

// A file changed on disk after the unpack: the tar written again is
// refused rather than handed on under the old diffID.
func TestTarChangedFile(t *testing.T) {
	testkit.RequireRoot(t)
	tars := fixture(t)
	s, ids := unpackAll(t, tars[0])
	require.NoError(t, os.WriteFile(filepath.Join(s.Path(ids[0]), "etc/passwd"), []byte("evil\n"), 0o644))
	_, err := readTar(t, s, ids[0])
	require.Error(t, err)
}

// Writing a layer's tar again reads its files by the names in the tar.
// A symlink found at such a name (a layer directory changed since, by
// mistake or on purpose) must not be followed: the bytes would be the
// host's.
func TestTarNeverLeavesTheLayer(t *testing.T) {
	testkit.RequireRoot(t)
	secret := filepath.Join(t.TempDir(), "x")
	require.NoError(t, os.WriteFile(secret, []byte("host secret\n"), 0o600))
	s, ids := unpackAll(t, testkit.LayerTar(t, testkit.Dir("etc", 0o755), testkit.File("etc/x", "first\n", 0o644)))
	x := filepath.Join(s.Path(ids[0]), "etc/x")
	require.NoError(t, os.Remove(x))
	require.NoError(t, os.Symlink(secret, x))
	got, err := readTar(t, s, ids[0])
	require.Error(t, err)
	require.NotContains(t, string(got), "host secret")

	require.NoError(t, os.Remove(x))
	require.NoError(t, os.Symlink("../../../../../../../../"+secret, filepath.Join(s.Path(ids[0]), "etc/y")))
	require.NoError(t, os.Rename(filepath.Join(s.Path(ids[0]), "etc"), filepath.Join(s.Path(ids[0]), "etc-real")))
	require.NoError(t, os.Symlink(filepath.Dir(secret), filepath.Join(s.Path(ids[0]), "etc")))
	got, err = readTar(t, s, ids[0])
	require.Error(t, err, "a directory of the layer replaced by a symlink out")
	require.NotContains(t, string(got), "host secret")
}

// Docker refuses a layer that names one path twice (its tar-split does);
// so do we, in its words, with nothing left in the store.
func TestTarDuplicatePaths(t *testing.T) {
	testkit.RequireRoot(t)
	layer := testkit.LayerTar(t, testkit.File("x", "first\n", 0o644), testkit.File("x", "second\n", 0o644))
	s, err := NewStore(shmDir(t))
	require.NoError(t, err)
	id := digest.FromBytes(layer)
	_, err = s.Unpack(id, bytes.NewReader(gz(t, layer)))
	require.ErrorContains(t, err, "duplicates of file paths not supported")
	require.False(t, s.Has(id))
	left, _ := filepath.Glob(filepath.Join(s.Root(), "sha256", "*"))
	require.Empty(t, left)
}

func TestTarWithoutLayout(t *testing.T) {
	testkit.RequireRoot(t)
	s, ids := unpackAll(t, fixture(t)[0])
	require.NoError(t, os.Remove(s.layoutPath(ids[0])))
	_, err := s.Tar(ids[0])
	require.ErrorIs(t, err, ErrNoLayout)
}
