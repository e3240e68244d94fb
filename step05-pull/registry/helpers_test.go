package registry_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"

	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// newClient is a client for tests: no Docker config file of the machine,
// quick retries.
func newClient(t testing.TB, opts ...registry.Option) *registry.Client {
	t.Helper()
	base := []registry.Option{registry.WithDockerConfig(""), registry.WithRetry(3, time.Millisecond)}
	c, err := registry.New(append(base, opts...)...)
	require.NoError(t, err, "registry.New")
	return c
}

func mustParse(t testing.TB, s string) reference.Reference {
	t.Helper()
	r, err := reference.Parse(s)
	require.NoError(t, err, "parse %s", s)
	return r
}

// dockerImage is a random Docker schema 2 image: gzip layers of size bytes.
func dockerImage(t testing.TB, size, layers int64) v1.Image {
	t.Helper()
	img, err := random.Image(size, layers)
	require.NoError(t, err, "random image")
	return img
}

// ociImage is a random image with OCI media types throughout.
func ociImage(t testing.TB, size, layers int64) v1.Image {
	t.Helper()
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for range layers {
		l, err := random.Layer(size, types.OCILayer)
		require.NoError(t, err, "random layer")
		img, err = mutate.AppendLayers(img, l)
		require.NoError(t, err, "append layer")
	}
	return img
}

// withPlatform sets the config's os, architecture and variant.
func withPlatform(t testing.TB, img v1.Image, p v1.Platform) v1.Image {
	t.Helper()
	cf, err := img.ConfigFile()
	require.NoError(t, err, "config file")
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err, "set platform")
	return img
}

// received is a Sink that keeps every layer's bytes and every event.
type received struct {
	mu     sync.Mutex
	blobs  map[string][]byte
	events []registry.Progress
}

func (r *received) sink() registry.Sink {
	r.blobs = map[string][]byte{}
	return registry.Sink{
		Layer: func(_ context.Context, l registry.Layer, rd io.Reader) error {
			data, err := io.ReadAll(rd)
			if err != nil {
				return err
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			r.blobs[l.Digest.String()] = data
			return nil
		},
		Progress: func(p registry.Progress) { r.events = append(r.events, p) },
	}
}

// statuses are the statuses reported for the layer with short ID id, with
// repeated Downloading events folded into one.
func (r *received) statuses(id string) []string {
	var out []string
	for _, e := range r.events {
		if e.ID != id {
			continue
		}
		if len(out) > 0 && out[len(out)-1] == e.Status {
			continue
		}
		out = append(out, e.Status)
	}
	return out
}

// compressed returns the blobs of img's layers, by digest.
func compressed(t testing.TB, img v1.Image) map[string][]byte {
	t.Helper()
	layers, err := img.Layers()
	require.NoError(t, err, "layers")
	out := map[string][]byte{}
	for _, l := range layers {
		d, err := l.Digest()
		require.NoError(t, err, "digest")
		rc, err := l.Compressed()
		require.NoError(t, err, "compressed")
		data, err := io.ReadAll(rc)
		require.NoError(t, err, "read layer")
		rc.Close()
		out[d.String()] = data
	}
	return out
}

// hostMap sends requests for the hosts it knows to test servers, so tests
// can use names like registry-1.docker.io without the internet. With
// plainHTTP it also turns https into http (the test servers speak HTTP);
// without, an https request meets a plain-HTTP server and fails, as it
// would for real. Every request it sees is recorded.
type hostMap struct {
	hosts     map[string]string
	plainHTTP bool

	mu   sync.Mutex
	seen []string // "scheme://host/path" as the client sent it
}

func (m *hostMap) RoundTrip(req *http.Request) (*http.Response, error) {
	m.mu.Lock()
	m.seen = append(m.seen, req.URL.Scheme+"://"+req.URL.Host+req.URL.Path)
	m.mu.Unlock()
	if to, ok := m.hosts[req.URL.Host]; ok {
		req = req.Clone(req.Context())
		req.URL.Host = to
		if m.plainHTTP {
			req.URL.Scheme = "http"
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (m *hostMap) requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.seen...)
}

// manifestTamperer adds a byte to every manifest body that passes through.
type manifestTamperer struct{}

func (manifestTamperer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.Contains(req.URL.Path, "/manifests/") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	data = append(data, '\n')
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.ContentLength = int64(len(data))
	resp.Header.Del("Content-Length")
	return resp, nil
}
