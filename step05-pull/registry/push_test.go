package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step05-pull/registry"
)

// pushable is an image made of uncompressed layer tars, as the store
// hands them to Push.
type pushable struct {
	tars   [][]byte
	config []byte
}

func newPushable(t *testing.T) *pushable {
	t.Helper()
	p := &pushable{tars: [][]byte{
		testkit.LayerTar(t, testkit.Dir("etc", 0o755), testkit.File("etc/hostname", "base\n", 0o644)),
		testkit.LayerTar(t, testkit.Dir("app", 0o755), testkit.File("app/run", strings.Repeat("x", 700<<10), 0o755), testkit.Whiteout("etc/hostname")),
	}}
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers"}}
	cfg.Config.Cmd = []string{"/app/run"}
	for _, tar := range p.tars {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, digest.FromBytes(tar))
	}
	var err error
	p.config, err = json.Marshal(cfg)
	require.NoError(t, err)
	return p
}

func (p *pushable) image(known map[digest.Digest][]registry.KnownBlob) registry.PushImage {
	img := registry.PushImage{Config: p.config}
	for _, tar := range p.tars {
		id := digest.FromBytes(tar)
		img.Layers = append(img.Layers, registry.PushLayer{DiffID: id, Known: known[id],
			Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tar)), nil }})
	}
	return img
}

// events records a push's progress, per layer.
type events struct {
	mu  sync.Mutex
	got map[string][]string
}

func (e *events) add(p registry.Progress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.got == nil {
		e.got = map[string][]string{}
	}
	if p.Status != registry.StatusPushing {
		e.got[p.ID] = append(e.got[p.ID], p.Status)
	}
}

func known(pushed *registry.Pushed, diffIDs []digest.Digest) map[digest.Digest][]registry.KnownBlob {
	out := map[digest.Digest][]registry.KnownBlob{}
	for i, b := range pushed.Layers {
		out[diffIDs[i]] = append(out[diffIDs[i]], b)
	}
	return out
}

// Pushed to Debian's docker-registry (distribution), and read back by
// go-containerregistry: the same config, layers whose uncompressed digests
// are the diffIDs, the manifest digest Push reported. Then the three ways
// a push avoids sending a layer again.
func TestPushDistribution(t *testing.T) {
	reg := testkit.DistributionRegistry(t)
	c := newClient(t)
	ctx := context.Background()
	p := newPushable(t)
	diffIDs := []digest.Digest{digest.FromBytes(p.tars[0]), digest.FromBytes(p.tars[1])}

	var ev events
	ref := mustParse(t, reg.Host()+"/team/app:v1")
	pushed, err := c.Push(ctx, ref, p.image(nil), ev.add)
	require.NoError(t, err)
	for _, id := range diffIDs {
		require.Equal(t, []string{registry.StatusPreparing, registry.StatusPushed}, ev.got[id.Encoded()[:12]])
	}
	require.Equal(t, registry.MediaTypeDockerManifest, pushed.Manifest.MediaType)

	theirs, err := name.ParseReference(reg.Host()+"/team/app:v1", name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(theirs)
	require.NoError(t, err, "go-containerregistry reads what we pushed")
	d, err := img.Digest()
	require.NoError(t, err)
	require.Equal(t, pushed.Manifest.Digest.String(), d.String())
	raw, err := img.RawConfigFile()
	require.NoError(t, err)
	require.Equal(t, p.config, raw, "the config, byte for byte")
	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 2)
	for i, l := range layers {
		rc, err := l.Uncompressed()
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.True(t, bytes.Equal(p.tars[i], data), "layer %d uncompressed", i)
	}

	t.Run("again: the registry has the blobs", func(t *testing.T) {
		var ev events
		again, err := c.Push(ctx, mustParse(t, reg.Host()+"/team/app:v2"), p.image(known(pushed, diffIDs)), ev.add)
		require.NoError(t, err)
		for _, id := range diffIDs {
			require.Equal(t, []string{registry.StatusPreparing, registry.StatusLayerExists}, ev.got[id.Encoded()[:12]])
		}
		require.Equal(t, pushed.Manifest.Digest, again.Manifest.Digest)
	})
	t.Run("another repository: mounted", func(t *testing.T) {
		var ev events
		other, err := c.Push(ctx, mustParse(t, reg.Host()+"/other/app:v1"), p.image(known(pushed, diffIDs)), ev.add)
		require.NoError(t, err)
		for _, id := range diffIDs {
			require.Equal(t, []string{registry.StatusPreparing, registry.StatusMounted + "team/app"}, ev.got[id.Encoded()[:12]])
		}
		require.Equal(t, pushed.Manifest.Digest, other.Manifest.Digest)
	})
	t.Run("nothing known: the same bytes again", func(t *testing.T) {
		fresh, err := c.Push(ctx, mustParse(t, reg.Host()+"/third/app:v1"), p.image(nil), nil)
		require.NoError(t, err)
		require.Equal(t, pushed.Manifest.Digest, fresh.Manifest.Digest, "gzip without name or time: a push is reproducible")
	})
}

var errTampered = errors.New("layer tampered")

// A layer whose tar turns out wrong at its end (the store's check against
// the diffID) is never committed, and neither is the manifest.
func TestPushBadLayerCommitsNothing(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	c := newClient(t)
	p := newPushable(t)
	img := p.image(nil)
	img.Layers[1].Open = func() (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(bytes.NewReader(p.tars[1]), iotest{errTampered})), nil
	}
	_, err := c.Push(context.Background(), mustParse(t, reg.Host()+"/team/app:bad"), img, nil)
	require.ErrorIs(t, err, errTampered)
	resp, err := http.Get(reg.URL() + "/v2/team/app/manifests/bad")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	for _, r := range reg.Requests() {
		if r.Method == http.MethodPut && strings.Contains(r.Path, "/blobs/uploads/") {
			// Only the first layer's upload may have been closed.
			require.NotContains(t, r.Query, digest.FromBytes(p.tars[1]).Encoded())
		}
	}
}

type iotest struct{ err error }

func (e iotest) Read([]byte) (int, error) { return 0, e.err }

// Behind a Docker-Hub-like token server, a push asks for pull,push on its
// repository, and a mount also for pull on the source. This registry
// declines mounts (202 and an upload session, as the spec allows): the
// layer is then uploaded.
func TestPushTokenScopes(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true, Username: "u", Password: "p"})
	c := newClient(t, registry.WithAuth(reg.Host(), "u", "p"))
	p := newPushable(t)
	diffIDs := []digest.Digest{digest.FromBytes(p.tars[0]), digest.FromBytes(p.tars[1])}
	pushed, err := c.Push(context.Background(), mustParse(t, reg.Host()+"/a/app:v1"), p.image(nil), nil)
	require.NoError(t, err)
	// This registry keeps blobs for all repositories at once: make it say
	// b/app lacks the layers, so that the push asks for a mount.
	reg.Fail("/v2/b/app/blobs/sha256:", http.StatusNotFound, 2)
	var ev events
	_, err = c.Push(context.Background(), mustParse(t, reg.Host()+"/b/app:v1"), p.image(known(pushed, diffIDs)), ev.add)
	require.NoError(t, err)
	require.Equal(t, []string{registry.StatusPreparing, registry.StatusPushed}, ev.got[diffIDs[0].Encoded()[:12]])
	var scopes []string
	for _, r := range reg.Requests() {
		if strings.HasSuffix(r.Path, "/token") {
			scopes = append(scopes, r.Query)
		}
	}
	require.Contains(t, strings.Join(scopes, "\n"), "scope=repository%3Aa%2Fapp%3Apull%2Cpush")
	require.Contains(t, strings.Join(scopes, "\n"), "scope=repository%3Aa%2Fapp%3Apull&")
}
