package store

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"minidocker/internal/imagebuild"
	"minidocker/internal/testkit"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

func TestTag(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	reg.Push(t, "app:1", testkit.Image(t, imagebuild.BusyboxConfig(), testkit.Layer(t, testkit.File("a", "a\n", 0o644))))
	s := newStore(t)
	img, _, _ := pull(t, s, reg.Host()+"/app:1")

	ref, err := s.Tag(reg.Host()+"/app:1", "team/mine")
	require.NoError(t, err)
	require.Equal(t, "docker.io/team/mine:latest", ref.String())
	got, err := s.Get("team/mine:latest")
	require.NoError(t, err)
	require.Equal(t, img.ID, got.ID)
	require.ElementsMatch(t, []string{reg.Host() + "/app:1", "team/mine:latest"}, got.RepoTags)
	require.Len(t, got.RepoDigests, 1, "a tag has no repository digest until it is pushed")

	_, err = s.Tag("nope", "x:1")
	require.ErrorIs(t, err, ErrNotFound)
	_, err = s.Tag(img.ID.String(), "x@"+img.ID.String())
	require.ErrorIs(t, err, ErrTagDigest)
	_, err = s.Tag(img.ID.String(), "UPPER:1")
	require.Error(t, err)
}

// An image pulled from one registry, tagged and pushed to Debian's real
// docker-registry: go-containerregistry reads back the same image ID and
// the same layer tars, though the layers were compressed again (only the
// files and the tar's layout were kept). Pushed again, nothing is sent;
// to another repository of the same registry, the layers are mounted.
func TestPushPulledImage(t *testing.T) {
	testkit.RequireRoot(t) // the layers are unpacked with their owners
	src := testkit.NewRegistry(t, testkit.RegistryOptions{})
	layerA := testkit.Layer(t, testkit.Dir("etc", 0o755), testkit.File("etc/a", "a\n", 0o644), testkit.Symlink("etc/l", "a"))
	layerB := testkit.Layer(t, testkit.Whiteout("etc/a"), testkit.File("big", string(bytes.Repeat([]byte("0123456789"), 100_000)), 0o755))
	orig := testkit.Image(t, imagebuild.BusyboxConfig(), layerA, layerB)
	src.Push(t, "app:1", orig)
	s := newStore(t)
	img, _, _ := pull(t, s, src.Host()+"/app:1")

	dst := testkit.DistributionRegistry(t)
	target := reference.MustParse(dst.Host() + "/team/app:v1")
	_, err := s.Tag(src.Host()+"/app:1", target.String())
	require.NoError(t, err)
	var ev events
	pushed, err := s.Push(context.Background(), client(t), target, ev.record)
	require.NoError(t, err)
	require.Len(t, ev.by[registry.StatusPushed], 2)

	theirs, err := name.ParseReference(target.String(), name.Insecure)
	require.NoError(t, err)
	back, err := remote.Image(theirs)
	require.NoError(t, err)
	cfgName, err := back.ConfigName()
	require.NoError(t, err)
	require.Equal(t, img.ID.String(), cfgName.String(), "the same image ID")
	layers, err := back.Layers()
	require.NoError(t, err)
	for i, want := range []interface {
		Uncompressed() (io.ReadCloser, error)
	}{layerA, layerB} {
		w, err := want.Uncompressed()
		require.NoError(t, err)
		wantTar, _ := io.ReadAll(w)
		g, err := layers[i].Uncompressed()
		require.NoError(t, err)
		gotTar, _ := io.ReadAll(g)
		require.True(t, bytes.Equal(wantTar, gotTar), "layer %d: the tar that was pulled", i)
	}
	got, err := s.Get(target.String())
	require.NoError(t, err)
	require.Contains(t, got.RepoDigests, dst.Host()+"/team/app@"+pushed.Manifest.Digest.String())

	ev = events{}
	_, err = s.Push(context.Background(), client(t), target, ev.record)
	require.NoError(t, err)
	require.Len(t, ev.by[registry.StatusLayerExists], 2, "pushed again: %v", ev.by)

	other := reference.MustParse(dst.Host() + "/other/app:v1")
	_, err = s.Tag(target.String(), other.String())
	require.NoError(t, err)
	ev = events{}
	again, err := s.Push(context.Background(), client(t), other, ev.record)
	require.NoError(t, err)
	require.Len(t, ev.by[registry.StatusMounted+"team/app"], 2, "to another repository: %v", ev.by)
	require.Equal(t, pushed.Manifest.Digest, again.Manifest.Digest)

	_, err = s.Push(context.Background(), client(t), reference.MustParse(dst.Host()+"/never/tagged:1"), nil)
	require.ErrorIs(t, err, ErrNotFound)
}
