package store

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"

	"minidocker/internal/imagebuild"
	"minidocker/internal/testkit"
	"minidocker/step03-rootfs-layers/image"
)

func skopeo(t *testing.T, args ...string) []byte {
	t.Helper()
	_, err := exec.LookPath("skopeo")
	testkit.RequireFeature(t, err == nil, "skopeo (Debian's skopeo; run scripts/setup.sh)")
	out, err := exec.Command("skopeo", args...).Output()
	require.NoError(t, err, "skopeo %v: %s", args, out)
	return out
}

func loadFile(t *testing.T, s *Store, file string) *Loaded {
	t.Helper()
	img, err := image.Load(file)
	require.NoError(t, err)
	l, err := s.Load(img)
	require.NoError(t, err)
	return l
}

// save and load round trip: what one store saves, skopeo reads as a
// docker-archive, and another store loads as the same image with the same
// names, which saves to the same bytes again. And an archive skopeo wrote
// loads as the image it came from.
func TestSaveLoad(t *testing.T) {
	testkit.RequireRoot(t) // layers are unpacked with their owners
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	src := testkit.Image(t, imagebuild.BusyboxConfig(),
		testkit.Layer(t, testkit.Dir("etc", 0o755), testkit.File("etc/a", "a\n", 0o644)),
		testkit.Layer(t, testkit.Whiteout("etc/a"), testkit.File("b", "b\n", 0o755)))
	reg.Push(t, "app:1", src)
	a := newStore(t)
	img, _, _ := pull(t, a, reg.Host()+"/app:1")
	_, err := a.Tag(reg.Host()+"/app:1", "team/app:v2")
	require.NoError(t, err)

	dir := t.TempDir()
	saved := filepath.Join(dir, "saved.tar")
	f, err := os.Create(saved)
	require.NoError(t, err)
	require.NoError(t, a.Save(f, []string{reg.Host() + "/app:1", "team/app:v2"}))
	require.NoError(t, f.Close())

	config := skopeo(t, "inspect", "--raw", "--config", "docker-archive:"+saved+":team/app:v2")
	require.Equal(t, img.ID, digest.FromBytes(config), "skopeo reads the saved archive's config")
	// and copies it whole (layers checked against the config's diffIDs)
	skopeo(t, "copy", "docker-archive:"+saved+":team/app:v2", "dir:"+filepath.Join(dir, "copied"))

	b := newStore(t)
	loaded := loadFile(t, b, saved)
	require.Equal(t, img.ID, loaded.ID)
	require.ElementsMatch(t, []string{reg.Host() + "/app:1", "team/app:v2"}, loaded.Names)
	got, err := b.Get("team/app:v2")
	require.NoError(t, err)
	require.Equal(t, img.Config.RootFS.DiffIDs, got.Config.RootFS.DiffIDs)

	var again bytes.Buffer
	require.NoError(t, b.Save(&again, []string{reg.Host() + "/app:1", "team/app:v2"}))
	first, err := os.ReadFile(saved)
	require.NoError(t, err)
	require.True(t, bytes.Equal(first, again.Bytes()), "the loaded image saves to the same bytes")

	// An archive written by skopeo, with gzip layers: loaded as the same image.
	skopeoTar := filepath.Join(dir, "skopeo.tar")
	skopeo(t, "copy", "--src-tls-verify=false", "docker://"+reg.Host()+"/app:1", "docker-archive:"+skopeoTar+":other/app:3")
	c := newStore(t)
	l := loadFile(t, c, skopeoTar)
	require.Equal(t, img.ID, l.ID)
	require.Equal(t, []string{"other/app:3"}, l.Names)
	// and it can be saved and pushed on: its layers' layout was recorded.
	var out bytes.Buffer
	require.NoError(t, c.Save(&out, []string{"other/app:3"}))

	_, err = (&Store{}).find(&index{Refs: map[string]refEntry{}}, "nope")
	require.ErrorIs(t, err, ErrNotFound)
	require.ErrorIs(t, a.Save(&out, []string{"nope"}), ErrNotFound)
}
