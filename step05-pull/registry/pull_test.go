package registry_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step05-pull/registry"
)

// checkPulled compares what Pull returned and what the sink received with
// what was pushed.
func checkPulled(t *testing.T, img *registry.Image, got *received, want v1.Image) {
	t.Helper()
	wantDigest, err := want.Digest()
	require.NoError(t, err)
	wantMT, err := want.MediaType()
	require.NoError(t, err)
	wantConfig, err := want.RawConfigFile()
	require.NoError(t, err)
	wantRaw, err := want.RawManifest()
	require.NoError(t, err)
	if img.ManifestDescriptor.Digest.String() != wantDigest.String() || img.ManifestDescriptor.MediaType != string(wantMT) {
		t.Errorf("ManifestDescriptor = %s %s, want %s %s", img.ManifestDescriptor.MediaType, img.ManifestDescriptor.Digest, wantMT, wantDigest)
	}
	if string(img.RawManifest) != string(wantRaw) {
		t.Errorf("RawManifest differs from the pushed manifest")
	}
	if string(img.Config) != string(wantConfig) {
		t.Errorf("Config differs from the pushed config")
	}
	cf, err := want.ConfigFile()
	require.NoError(t, err)
	var wantLayers, gotLayers []string
	for i, d := range cf.RootFS.DiffIDs {
		m, _ := want.Manifest()
		wantLayers = append(wantLayers, m.Layers[i].Digest.String()+" "+d.String())
	}
	for _, l := range img.Layers {
		gotLayers = append(gotLayers, l.Digest.String()+" "+l.DiffID.String())
	}
	if diff := cmp.Diff(wantLayers, gotLayers); diff != "" {
		t.Errorf("Layers mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(compressed(t, want), got.blobs); diff != "" {
		t.Errorf("layer bytes mismatch (-want +got):\n%s", diff)
	}
	for _, l := range img.Layers {
		wantStatuses := []string{registry.StatusPullingFSLayer, registry.StatusDownloading, registry.StatusVerifying, registry.StatusDownloadComplete}
		gotStatuses := got.statuses(l.ShortID())
		if len(gotStatuses) > 0 && gotStatuses[1] == registry.StatusWaiting {
			gotStatuses = append(gotStatuses[:1], gotStatuses[2:]...)
		}
		if diff := cmp.Diff(wantStatuses, gotStatuses); diff != "" {
			t.Errorf("progress of %s mismatch (-want +got):\n%s", l.ShortID(), diff)
		}
	}
}

func TestPullSinglePlatform(t *testing.T) {
	tests := []struct {
		name  string
		image func(t testing.TB) v1.Image
		reg   testkit.RegistryOptions
		opts  func(host string) []registry.Option
	}{
		{name: "docker schema 2, open registry", image: func(t testing.TB) v1.Image { return dockerImage(t, 4096, 3) }},
		{name: "OCI, open registry", image: func(t testing.TB) v1.Image { return ociImage(t, 4096, 3) }},
		{
			name:  "docker schema 2, anonymous bearer token",
			image: func(t testing.TB) v1.Image { return dockerImage(t, 4096, 2) },
			reg:   testkit.RegistryOptions{Auth: true},
		},
		{
			name:  "OCI, bearer token for credentials",
			image: func(t testing.TB) v1.Image { return ociImage(t, 4096, 2) },
			reg:   testkit.RegistryOptions{Auth: true, Username: "alice", Password: "s3cret"},
			opts: func(host string) []registry.Option {
				return []registry.Option{registry.WithAuth(host, "alice", "s3cret")}
			},
		},
		{
			name:  "basic auth",
			image: func(t testing.TB) v1.Image { return dockerImage(t, 4096, 2) },
			reg:   testkit.RegistryOptions{Basic: true, Username: "alice", Password: "s3cret"},
			opts: func(host string) []registry.Option {
				return []registry.Option{registry.WithAuth(host, "alice", "s3cret")}
			},
		},
		{
			name:  "one layer at a time",
			image: func(t testing.TB) v1.Image { return ociImage(t, 4096, 4) },
			opts:  func(string) []registry.Option { return []registry.Option{registry.WithConcurrency(1)} },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := testkit.NewRegistry(t, tc.reg)
			want := tc.image(t)
			reg.Push(t, "app:1.0", want)
			var opts []registry.Option
			if tc.opts != nil {
				opts = tc.opts(reg.Host())
			}
			c := newClient(t, opts...)
			var got received
			img, err := c.Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), got.sink())
			require.NoError(t, err, "pull")
			checkPulled(t, img, &got, want)
			if img.Index != nil || img.Digest != img.ManifestDescriptor.Digest {
				t.Errorf("single-platform image: Index = %v, Digest = %s, want nil and the manifest's", img.Index, img.Digest)
			}
		})
	}
}

func TestPullByDigest(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true})
	want := ociImage(t, 1024, 1)
	d := reg.Push(t, "app:1.0", want)
	var got received
	img, err := newClient(t).Pull(context.Background(), mustParse(t, reg.Host()+"/app@"+d.String()), got.sink())
	require.NoError(t, err, "pull by digest")
	checkPulled(t, img, &got, want)
}

func TestManifestDigestVerified(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	d := reg.Push(t, "app:1.0", dockerImage(t, 1024, 1))
	c := newClient(t, registry.WithTransport(manifestTamperer{}))
	for _, ref := range []string{reg.Host() + "/app@" + d.String(), reg.Host() + "/app:1.0"} {
		_, err := c.Pull(context.Background(), mustParse(t, ref), registry.Sink{})
		if !errors.Is(err, registry.ErrDigestMismatch) || !strings.Contains(err.Error(), "expected "+d.String()) {
			t.Errorf("Pull(%s) through a tampering proxy = %v, want ErrDigestMismatch naming %s", ref, err, d)
		}
	}
}

// platformIndex pushes an index of three platforms and returns it with the
// images by platform.
func platformIndex(t *testing.T, mediaType types.MediaType) (v1.ImageIndex, map[string]v1.Image) {
	t.Helper()
	images := map[string]v1.Image{}
	var adds []mutate.IndexAddendum
	for _, p := range []v1.Platform{
		{OS: "linux", Architecture: "amd64"},
		{OS: "linux", Architecture: "arm64", Variant: "v8"},
		{OS: "linux", Architecture: "arm", Variant: "v7"},
		{OS: "unknown", Architecture: "unknown"}, // an attestation, as BuildKit adds
	} {
		img := dockerImage(t, 2048, 2)
		if mediaType == types.OCIImageIndex {
			img = ociImage(t, 2048, 2)
		}
		img = withPlatform(t, img, p)
		images[p.OS+"/"+p.Architecture+"/"+p.Variant] = img
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), mediaType), images
}

func TestPullIndex(t *testing.T) {
	for _, mt := range []types.MediaType{types.OCIImageIndex, types.DockerManifestList} {
		t.Run(string(mt), func(t *testing.T) {
			reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true})
			index, images := platformIndex(t, mt)
			indexDigest := reg.Push(t, "multi:latest", index)
			tests := []struct {
				name     string
				platform string
				want     string // key of images
			}{
				{name: "amd64", platform: "linux/amd64", want: "linux/amd64/"},
				{name: "arm64 without variant", platform: "linux/arm64", want: "linux/arm64/v8"},
				{name: "arm64 v8", platform: "linux/arm64/v8", want: "linux/arm64/v8"},
				{name: "arm v7", platform: "linux/arm/v7", want: "linux/arm/v7"},
				{name: "uname names", platform: "linux/aarch64", want: "linux/arm64/v8"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					c := newClient(t, registry.WithPlatform(tc.platform))
					var got received
					img, err := c.Pull(context.Background(), mustParse(t, reg.Host()+"/multi"), got.sink())
					require.NoError(t, err, "pull %s", tc.platform)
					checkPulled(t, img, &got, images[tc.want])
					if img.Digest.String() != indexDigest.String() || img.Index == nil || len(img.Index.Manifests) != 4 {
						t.Errorf("Digest = %s, Index = %v, want the index %s", img.Digest, img.Index, indexDigest)
					}
					if registry.FormatPlatform(img.Platform) != strings.TrimSuffix(tc.want, "/") {
						t.Errorf("Platform = %s, want %s", registry.FormatPlatform(img.Platform), tc.want)
					}
				})
			}
			t.Run("missing platform", func(t *testing.T) {
				for _, p := range []string{"linux/s390x", "linux/arm/v6", "windows/amd64"} {
					c := newClient(t, registry.WithPlatform(p))
					_, err := c.Pull(context.Background(), mustParse(t, reg.Host()+"/multi"), registry.Sink{})
					want := "no matching manifest for " + p + " in the manifest list entries"
					if !errors.Is(err, registry.ErrNoMatchingManifest) || err.Error() != want {
						t.Errorf("Pull(--platform %s) = %v, want %q", p, err, want)
					}
				}
			})
		})
	}
}

func TestPullErrors(t *testing.T) {
	private := testkit.RegistryOptions{Auth: true, Username: "alice", Password: "s3cret"}
	tests := []struct {
		name    string
		reg     testkit.RegistryOptions
		ref     string // after host/
		opts    func(host string) []registry.Option
		setup   func(reg *testkit.Registry, blob v1.Hash)
		wantIs  error
		wantMsg string // with HOST for the registry's host:port, BLOB for the first layer
	}{
		{
			name: "unknown tag", ref: "app:nosuch", wantIs: registry.ErrNotFound,
			wantMsg: "manifest for HOST/app:nosuch not found: manifest unknown: Unknown manifest",
		},
		{
			name: "unknown repository", ref: "nosuch", wantIs: registry.ErrNotFound,
			wantMsg: "repository HOST/nosuch not found: name unknown: Unknown name",
		},
		{
			name: "manifest 404 from the registry", ref: "app:1.0", wantIs: registry.ErrNotFound,
			setup:   func(reg *testkit.Registry, _ v1.Hash) { reg.Fail("/manifests/", 404, -1) },
			wantMsg: "manifest for HOST/app:1.0 not found: manifest unknown: manifest unknown",
		},
		{
			name: "private repository without credentials", reg: private, ref: "app:1.0", wantIs: registry.ErrAccessDenied,
			wantMsg: "pull access denied for HOST/app, repository does not exist or may require 'docker login': unauthorized: authentication required",
		},
		{
			name: "wrong password", reg: private, ref: "app:1.0", wantIs: registry.ErrAccessDenied,
			opts: func(host string) []registry.Option {
				return []registry.Option{registry.WithAuth(host, "alice", "wrong")}
			},
			wantMsg: "pull access denied for HOST/app, repository does not exist or may require 'docker login': token: unauthorized: incorrect username or password",
		},
		{
			name: "basic auth without credentials", reg: testkit.RegistryOptions{Basic: true, Username: "alice", Password: "s3cret"},
			ref: "app:1.0", wantIs: registry.ErrAccessDenied,
			wantMsg: "pull access denied for HOST/app, repository does not exist or may require 'docker login': unauthorized: authentication required",
		},
		{
			name: "403 denied", ref: "app:1.0", wantIs: registry.ErrAccessDenied,
			setup:   func(reg *testkit.Registry, _ v1.Hash) { reg.Fail("/manifests/", 403, -1) },
			wantMsg: "pull access denied for HOST/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
		},
		{
			name: "rate limit", reg: testkit.RegistryOptions{Auth: true}, ref: "app:1.0", wantIs: registry.ErrTooManyRequests,
			setup:   func(reg *testkit.Registry, _ v1.Hash) { reg.Fail("/manifests/", 429, -1) },
			wantMsg: "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
		},
		{
			name: "blob 404", ref: "app:1.0", wantIs: registry.ErrNotFound,
			setup:   func(reg *testkit.Registry, blob v1.Hash) { reg.Fail("/blobs/"+blob.String(), 404, -1) },
			wantMsg: "pull HOST/app:1.0: fetch blob BLOB: blob unknown: blob unknown to registry",
		},
		{
			name: "tampered blob", ref: "app:1.0", wantIs: registry.ErrDigestMismatch,
			setup:   func(reg *testkit.Registry, blob v1.Hash) { reg.TamperBlob(blob) },
			wantMsg: "pull HOST/app:1.0: fetch blob BLOB: digest mismatch: expected BLOB, got sha256:",
		},
		{
			name: "5xx until the attempts run out", ref: "app:1.0",
			setup:   func(reg *testkit.Registry, blob v1.Hash) { reg.Fail("/blobs/"+blob.String(), 503, -1) },
			wantMsg: "pull HOST/app:1.0: fetch blob BLOB: unknown: Service Unavailable",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := testkit.NewRegistry(t, tc.reg)
			img := dockerImage(t, 1024, 1)
			reg.Push(t, "app:1.0", img)
			layers, err := img.Layers()
			require.NoError(t, err)
			blob, err := layers[0].Digest()
			require.NoError(t, err)
			if tc.setup != nil {
				tc.setup(reg, blob)
			}
			var opts []registry.Option
			if tc.opts != nil {
				opts = tc.opts(reg.Host())
			}
			c := newClient(t, opts...)
			_, err = c.Pull(context.Background(), mustParse(t, reg.Host()+"/"+tc.ref), (&received{}).sink())
			if err == nil {
				t.Fatalf("Pull(%s) succeeded, want %q", tc.ref, tc.wantMsg)
			}
			want := strings.NewReplacer("HOST", reg.Host(), "BLOB", blob.String()).Replace(tc.wantMsg)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Pull(%s) error =\n%q, want it to start with\n%q", tc.ref, err, want)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("Pull(%s) error %v is not %v", tc.ref, err, tc.wantIs)
			}
		})
	}
}

// manifestGets counts the GETs of manifests the registry saw.
func countRequests(reqs []testkit.Request, pathPart string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == "GET" && strings.Contains(r.Path, pathPart) {
			n++
		}
	}
	return n
}

func TestRetries(t *testing.T) {
	t.Run("429 is not retried", func(t *testing.T) {
		reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
		reg.Push(t, "app:1.0", dockerImage(t, 1024, 1))
		reg.Fail("/manifests/", 429, -1)
		_, err := newClient(t).Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), registry.Sink{})
		require.ErrorIs(t, err, registry.ErrTooManyRequests)
		if n := countRequests(reg.Requests(), "/manifests/"); n != 1 {
			t.Errorf("manifest GETs = %d, want 1", n)
		}
	})
	t.Run("5xx retried then served", func(t *testing.T) {
		reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true})
		want := dockerImage(t, 1024, 2)
		reg.Push(t, "app:1.0", want)
		reg.Fail("/manifests/", 502, 1)
		reg.Fail("/blobs/", 500, 2)
		var got received
		img, err := newClient(t).Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), got.sink())
		require.NoError(t, err, "pull")
		checkPulled(t, img, &got, want)
		if n := countRequests(reg.Requests(), "/manifests/"); n != 2 {
			t.Errorf("manifest GETs = %d, want 2", n)
		}
	})
	t.Run("cut blob resumed with Range", func(t *testing.T) {
		reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true})
		want := dockerImage(t, 256<<10, 2)
		reg.Push(t, "app:1.0", want)
		layers, err := want.Layers()
		require.NoError(t, err)
		blob, err := layers[1].Digest()
		require.NoError(t, err)
		size, err := layers[1].Size()
		require.NoError(t, err)
		const cutAt = 100_000
		reg.CutBlob(blob, cutAt)
		var got received
		img, err := newClient(t).Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), got.sink())
		require.NoError(t, err, "pull")
		checkPulledAfterRetry(t, img, &got, want, blob)
		var ranges []string
		for _, r := range reg.Requests() {
			if strings.HasSuffix(r.Path, blob.String()) && r.Method == "GET" {
				ranges = append(ranges, r.Range)
			}
		}
		wantRanges := []string{"", "bytes=100000-" + strconv.FormatInt(size-1, 10)}
		if diff := cmp.Diff(wantRanges, ranges); diff != "" {
			t.Errorf("Range headers of %s mismatch (-want +got):\n%s", blob, diff)
		}
	})
}

// checkPulledAfterRetry is checkPulled for a layer whose download was cut:
// its events have a "Retrying in N seconds" in the middle.
func checkPulledAfterRetry(t *testing.T, img *registry.Image, got *received, want v1.Image, cut v1.Hash) {
	t.Helper()
	var kept []registry.Progress
	sawRetry := false
	for _, e := range got.events {
		if strings.HasPrefix(e.Status, registry.StatusRetrying+" in ") {
			sawRetry = sawRetry || e.ID == cut.Hex[:12]
			continue
		}
		kept = append(kept, e)
	}
	if !sawRetry {
		t.Errorf("no %q event for %s", registry.StatusRetrying, cut.Hex[:12])
	}
	got.events = kept
	checkPulled(t, img, got, want)
}

func TestSinkAndConcurrency(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	want := ociImage(t, 8192, 5)
	reg.Push(t, "app:1.0", want)
	m, err := want.Manifest()
	require.NoError(t, err)
	skip := m.Layers[0].Digest.String()

	var active, peak atomic.Int32
	var events []registry.Progress
	var called []string
	sink := registry.Sink{
		Exists: func(l registry.Layer) bool { return l.Digest.String() == skip },
		Layer: func(ctx context.Context, l registry.Layer, r io.Reader) error {
			n := active.Add(1)
			defer active.Add(-1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(30 * time.Millisecond) // long enough for the others to start
			// Read only the first byte: Pull must read and check the rest.
			_, err := r.Read(make([]byte, 1))
			return err
		},
		Progress: func(p registry.Progress) {
			events = append(events, p)
			if p.Status == registry.StatusDownloadComplete {
				called = append(called, p.ID)
			}
		},
	}
	c := newClient(t, registry.WithConcurrency(2))
	_, err = c.Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), sink)
	require.NoError(t, err, "pull")
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrent Sink.Layer calls = %d, want 2 (WithConcurrency(2))", p)
	}
	if len(called) != 4 {
		t.Errorf("Download complete for %d layers, want 4 (one already exists)", len(called))
	}
	if events[0].Status != registry.StatusAlreadyExists || events[0].ID != m.Layers[0].Digest.Hex[:12] {
		t.Errorf("first event = %+v, want %q for %s", events[0], registry.StatusAlreadyExists, m.Layers[0].Digest.Hex[:12])
	}
	waiting := 0
	for _, e := range events {
		if e.Status == registry.StatusWaiting {
			waiting++
		}
	}
	if waiting != 2 {
		t.Errorf("%d layers reported Waiting, want 2 (4 to fetch, 2 at a time)", waiting)
	}
	if n := countRequests(reg.Requests(), skip); n != 0 {
		t.Errorf("the existing layer was fetched %d times, want 0", n)
	}
}

func TestBlob(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true})
	want := dockerImage(t, 4096, 1)
	reg.Push(t, "app:1.0", want)
	m, err := want.Manifest()
	require.NoError(t, err)
	l := m.Layers[0]
	desc := ocispec.Descriptor{MediaType: string(l.MediaType), Digest: digest.Digest(l.Digest.String()), Size: l.Size}
	c := newClient(t)
	ref := mustParse(t, reg.Host()+"/app:1.0")

	rc, err := c.Blob(context.Background(), ref, desc)
	require.NoError(t, err, "open blob")
	data, err := io.ReadAll(rc)
	require.NoError(t, err, "read blob")
	require.NoError(t, rc.Close())
	if diff := cmp.Diff(compressed(t, want)[l.Digest.String()], data); diff != "" {
		t.Errorf("Blob() bytes mismatch (-want +got):\n%s", diff)
	}

	wrongSize := desc
	wrongSize.Size--
	rc, err = c.Blob(context.Background(), ref, wrongSize)
	if err == nil {
		_, err = io.ReadAll(rc)
		rc.Close()
	}
	if !errors.Is(err, registry.ErrSizeMismatch) {
		t.Errorf("Blob(size-1) = %v, want ErrSizeMismatch", err)
	}
}

func TestDockerConfigCredentials(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true, Username: "alice", Password: "s3cret"})
	reg.Push(t, "app:1.0", dockerImage(t, 1024, 1))
	dir := t.TempDir()
	config := `{"auths":{"` + reg.Host() + `":{"auth":"YWxpY2U6czNjcmV0"}}}` // alice:s3cret
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(config), 0o600))
	t.Setenv(registry.DockerConfigEnv, dir)

	c, err := registry.New(registry.WithRetry(1, 0)) // the default config path: $DOCKER_CONFIG
	require.NoError(t, err)
	_, err = c.Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), registry.Sink{})
	require.NoError(t, err, "pull with credentials from $DOCKER_CONFIG/config.json")

	c = newClient(t) // WithDockerConfig(""): no credentials
	_, err = c.Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), registry.Sink{})
	require.ErrorIs(t, err, registry.ErrAccessDenied)
}
