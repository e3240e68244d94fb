package registry_test

import (
	"context"
	"mime"
	"net/http"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step05-pull/registry"
)

// TestDistributionInterop pushes with go-containerregistry to Debian's real
// docker-registry (distribution 2.8) and pulls with this package.
func TestDistributionInterop(t *testing.T) {
	reg := testkit.DistributionRegistry(t)
	oci, docker := ociImage(t, 4096, 2), dockerImage(t, 4096, 2)
	ociIndex, ociImages := platformIndex(t, types.OCIImageIndex)
	dockerList, dockerImages := platformIndex(t, types.DockerManifestList)
	tests := []struct {
		name    string
		push    any
		want    v1.Image
		wantTop string // media type of what the tag points at
	}{
		{name: "docker schema 2", push: docker, want: docker, wantTop: registry.MediaTypeDockerManifest},
		{name: "OCI manifest", push: oci, want: oci, wantTop: "application/vnd.oci.image.manifest.v1+json"},
		{name: "OCI index", push: ociIndex, want: ociImages["linux/arm64/v8"], wantTop: "application/vnd.oci.image.index.v1+json"},
		{name: "docker manifest list", push: dockerList, want: dockerImages["linux/arm64/v8"], wantTop: registry.MediaTypeDockerManifestList},
	}
	c := newClient(t, registry.WithPlatform("linux/arm64"))
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repoTag := "interop/app:" + string(rune('a'+i))
			pushed := reg.Push(t, repoTag, tc.push)
			ref := mustParse(t, reg.Host()+"/"+repoTag)

			top, _, err := c.Manifest(context.Background(), ref)
			require.NoError(t, err, "manifest")
			if top.MediaType != tc.wantTop || top.Digest.String() != pushed.String() {
				t.Errorf("Manifest() = %s %s, want %s %s", top.MediaType, top.Digest, tc.wantTop, pushed)
			}
			var got received
			img, err := c.Pull(context.Background(), ref, got.sink())
			require.NoError(t, err, "pull")
			checkPulled(t, img, &got, tc.want)
		})
	}
	// Why the Accept header matters: asked without one, distribution 2.8
	// rewrites a schema 2 manifest into the obsolete schema 1.
	t.Run("no Accept header gets schema 1", func(t *testing.T) {
		resp, err := http.Get("http://" + reg.Host() + "/v2/interop/app/manifests/a")
		require.NoError(t, err)
		resp.Body.Close()
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if mt != registry.MediaTypeDockerSchema1Signed {
			t.Errorf("Content-Type without Accept = %q, want %q", mt, registry.MediaTypeDockerSchema1Signed)
		}
	})
}
