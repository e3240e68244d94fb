package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/step05-pull/reference"
)

// Docker's media types; the OCI ones are ocispec.MediaType*.
const (
	MediaTypeDockerManifest      = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList  = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	MediaTypeDockerConfig        = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayer         = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// AcceptManifests is the Accept header of manifest requests: every kind this
// client reads, indexes first. A registry answers with one of them, or with
// what it has when it can convert nothing (Debian's docker-registry 2.8
// serves an OCI manifest only when Accept lists the OCI type, and converts a
// schema 2 manifest to schema 1 for clients that do not list schema 2).
const AcceptManifests = ocispec.MediaTypeImageIndex + ", " + MediaTypeDockerManifestList + ", " +
	ocispec.MediaTypeImageManifest + ", " + MediaTypeDockerManifest

// Limits on what is read into memory.
const (
	// MaxManifestSize bounds a manifest or index (containerd's limit).
	MaxManifestSize = 4 << 20
	// MaxConfigSize bounds an image config blob.
	MaxConfigSize = 16 << 20
)

func isIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == MediaTypeDockerManifestList
}

func isManifest(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageManifest || mediaType == MediaTypeDockerManifest
}

// Manifest fetches what ref names, by tag or digest (from a mirror first
// for Docker Hub images), and checks its digest. The descriptor carries the
// media type the registry sent, the digest and the size.
func (c *Client) Manifest(ctx context.Context, ref reference.Reference) (ocispec.Descriptor, []byte, error) {
	desc, data, _, err := c.manifestFromAny(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, nil, dockerError(ref, err)
	}
	return desc, data, nil
}

// manifestFromAny tries each endpoint of ref in turn: a failing mirror only
// means going on to the next.
func (c *Client) manifestFromAny(ctx context.Context, ref reference.Reference) (ocispec.Descriptor, []byte, endpoint, error) {
	eps := c.endpoints(ref)
	for _, ep := range eps[:len(eps)-1] {
		// A mirror that fails (down, or without the image) is skipped, as
		// Docker does; WithTrace shows what it answered.
		if desc, data, err := c.fetchManifest(ctx, ep, ref.Path(), ref.Identifier()); err == nil || ctx.Err() != nil {
			return desc, data, ep, err
		}
	}
	ep := eps[len(eps)-1]
	desc, data, err := c.fetchManifest(ctx, ep, ref.Path(), ref.Identifier())
	return desc, data, ep, err
}

// fetchManifest is step 3 of the package doc: GET the manifest with the
// Accept list, read at most MaxManifestSize, hash it and compare the hash
// with the digest asked for (by digest) or announced (Docker-Content-Digest).
func (c *Client) fetchManifest(ctx context.Context, ep endpoint, repo, id string) (ocispec.Descriptor, []byte, error) {
	want, byDigest := digest.Digest(id), false
	if err := want.Validate(); err == nil {
		byDigest = true
	}
	resp, err := c.do(ctx, ep, repo, "/v2/"+repo+"/manifests/"+id, http.Header{"Accept": {AcceptManifests}})
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return ocispec.Descriptor{}, nil, responseError(resp)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxManifestSize+1))
	if err != nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("read manifest %s: %w", id, err)
	}
	if len(data) > MaxManifestSize {
		return ocispec.Descriptor{}, nil, fmt.Errorf("manifest %s: larger than %d bytes", id, MaxManifestSize)
	}
	if !byDigest {
		// A tag names no digest; the registry's header does. Our own hash is
		// the truth either way (the header is only checked when present).
		want = digest.Digest(resp.Header.Get("Docker-Content-Digest"))
		if want.Validate() != nil {
			want = digest.Canonical.FromBytes(data)
		}
	}
	// exercise:begin 05-digest Hash data with want's algorithm; a different digest is a mismatch(ErrDigestMismatch, want, got) error naming the manifest id, else return the descriptor (media type, want, size) and data
	if got := want.Algorithm().FromBytes(data); got != want {
		return ocispec.Descriptor{}, nil, fmt.Errorf("manifest %s: %w", id, mismatch(ErrDigestMismatch, want, got))
	}
	return ocispec.Descriptor{MediaType: mediaType(resp.Header.Get("Content-Type"), data), Digest: want, Size: int64(len(data))}, data, nil
	// exercise:end
}

// mediaType is the Content-Type without parameters; registries that send
// none or a generic one are covered by the "mediaType" field of the body.
func mediaType(contentType string, data []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "", "application/json", "text/plain", "application/octet-stream":
		var probe struct {
			MediaType string `json:"mediaType"`
		}
		if json.Unmarshal(data, &probe) == nil && probe.MediaType != "" {
			return probe.MediaType
		}
	}
	return mt
}

// dockerError rewords the registry's answers the way "docker pull" prints
// them, keeping the registry's own message at the end and the chain intact
// for errors.Is. Other errors pass unchanged.
func dockerError(ref reference.Reference, err error) error {
	var re *ResponseError
	errors.As(err, &re)
	switch {
	case errors.Is(err, ErrAccessDenied) || (re != nil && re.HasCode("DENIED")):
		return fmt.Errorf("pull access denied for %s, repository does not exist or may require 'docker login': %w", ref.Familiar(), err)
	case re != nil && re.HasCode("NAME_UNKNOWN"):
		return fmt.Errorf("repository %s not found: %w", ref.Familiar(), err)
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("manifest for %s not found: %w", ref.FamiliarString(), err)
	}
	return err
}
