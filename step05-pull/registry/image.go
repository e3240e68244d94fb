package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/step05-pull/reference"
)

// Image is a resolved image: the manifest for our platform and its config,
// everything a pull needs before the layers.
type Image struct {
	// Ref is the reference that was resolved.
	Ref reference.Reference
	// Digest is the digest of what Ref points at, the index for a
	// multi-platform image: what "docker pull" prints as "Digest:" and
	// keeps as the repo digest "name@digest".
	Digest digest.Digest
	// Index is the index (manifest list) Ref points at, or nil.
	Index *ocispec.Index
	// ManifestDescriptor describes the platform's manifest: media type
	// (OCI or Docker schema 2), digest and size.
	ManifestDescriptor ocispec.Descriptor
	// Manifest is that manifest; RawManifest its bytes, which hash to
	// ManifestDescriptor.Digest.
	Manifest    ocispec.Manifest
	RawManifest []byte
	// Config is the verified config blob; its digest,
	// Manifest.Config.Digest, is the image ID that "docker images" shows.
	Config []byte
	// Platform is the os, architecture and variant the config declares.
	Platform ocispec.Platform
	// Layers are the manifest's layers, bottom first, with their diffIDs.
	Layers []Layer

	endpoint endpoint // where the manifest came from: the layers come from there too
}

// Layer is a layer blob as the manifest lists it, with the digest of its
// uncompressed tar (the diffID, from the config's rootfs.diff_ids) that the
// layer store checks while unpacking.
type Layer struct {
	ocispec.Descriptor
	DiffID digest.Digest
}

// ShortID is the layer's digest shortened as docker pull prints it: the
// first 12 hex digits.
func (l Layer) ShortID() string { return shortID(l.Digest) }

func shortID(d digest.Digest) string {
	enc := d.Encoded()
	return enc[:min(12, len(enc))]
}

// Resolve fetches ref's manifest, picks the platform's manifest from an
// index, and fetches and checks the config: steps 1 to 5 of the package doc
// except the layers.
func (c *Client) Resolve(ctx context.Context, ref reference.Reference) (*Image, error) {
	img, err := c.resolve(ctx, ref)
	if err != nil {
		return nil, dockerError(ref, err)
	}
	return img, nil
}

func (c *Client) resolve(ctx context.Context, ref reference.Reference) (*Image, error) {
	desc, data, ep, err := c.manifestFromAny(ctx, ref)
	if err != nil {
		return nil, err
	}
	img := &Image{Ref: ref, Digest: desc.Digest, endpoint: ep}
	if isIndex(desc.MediaType) {
		var index ocispec.Index
		if err := json.Unmarshal(data, &index); err != nil {
			return nil, fmt.Errorf("parse index %s: %w", desc.Digest, err)
		}
		img.Index = &index
		// Every entry, not only ours: an index with a malformed digest is
		// not one to trust for the rest.
		for _, m := range index.Manifests {
			if err := checkDigest(m.Digest, "manifest digest", "index "+desc.Digest.String()); err != nil {
				return nil, err
			}
		}
		chosen, ok := matchPlatform(c.opts.platform, index.Manifests)
		if !ok {
			return nil, fmt.Errorf("%w for %s in the manifest list entries", ErrNoMatchingManifest, FormatPlatform(c.opts.platform))
		}
		if desc, data, err = c.fetchManifest(ctx, ep, ref.Path(), chosen.Digest.String()); err != nil {
			return nil, err
		}
		if desc.Size != chosen.Size {
			return nil, fmt.Errorf("manifest %s: %w", chosen.Digest, mismatch(ErrSizeMismatch, chosen.Size, desc.Size))
		}
	}
	switch {
	case isManifest(desc.MediaType):
	case desc.MediaType == MediaTypeDockerSchema1 || desc.MediaType == MediaTypeDockerSchema1Signed:
		return nil, fmt.Errorf("manifest %s: %w %s: Docker image manifest version 2, schema 1 is not supported", desc.Digest, ErrUnsupportedMediaType, desc.MediaType)
	default:
		return nil, fmt.Errorf("manifest %s: %w %q", desc.Digest, ErrUnsupportedMediaType, desc.MediaType)
	}
	img.ManifestDescriptor, img.RawManifest = desc, data
	if err := json.Unmarshal(data, &img.Manifest); err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", desc.Digest, err)
	}
	where := "manifest " + desc.Digest.String()
	if err := checkDigest(img.Manifest.Config.Digest, "config digest", where); err != nil {
		return nil, err
	}
	for _, l := range img.Manifest.Layers {
		if err := checkDigest(l.Digest, "layer digest", where); err != nil {
			return nil, err
		}
	}
	if err := c.fetchConfig(ctx, img); err != nil {
		return nil, err
	}
	return img, nil
}

// fetchConfig reads the config blob through the verifying reader and pairs
// each layer with its diffID.
func (c *Client) fetchConfig(ctx context.Context, img *Image) error {
	cd := img.Manifest.Config
	if err := validate(cd); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if cd.Size > MaxConfigSize {
		return fmt.Errorf("config %s: %d bytes, more than %d", cd.Digest, cd.Size, MaxConfigSize)
	}
	r := c.newBlobReader(ctx, img.endpoint, img.Ref.Path(), cd)
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("fetch config %s: %w", cd.Digest, err)
	}
	img.Config = data
	var config ocispec.Image
	if err := json.Unmarshal(data, &config); err != nil {
		return fmt.Errorf("parse config %s: %w", cd.Digest, err)
	}
	img.Platform = config.Platform
	if len(config.RootFS.DiffIDs) != len(img.Manifest.Layers) {
		return fmt.Errorf("config %s: %d diff_ids for %d layers", cd.Digest, len(config.RootFS.DiffIDs), len(img.Manifest.Layers))
	}
	// The diffIDs name the unpacked layers in the store: checked before
	// anything looks one up.
	for _, d := range config.RootFS.DiffIDs {
		if err := checkDigest(d, "diff_id", "image config"); err != nil {
			return err
		}
	}
	for i, l := range img.Manifest.Layers {
		if err := validate(l); err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		img.Layers = append(img.Layers, Layer{Descriptor: l, DiffID: config.RootFS.DiffIDs[i]})
	}
	return nil
}

// validate checks a descriptor from a manifest before its digest goes into
// a URL and its size into a Range header.
func validate(d ocispec.Descriptor) error {
	if err := checkDigest(d.Digest, "digest", "descriptor"); err != nil {
		return err
	}
	if d.Size < 0 {
		return fmt.Errorf("blob %s: negative size %d", d.Digest, d.Size)
	}
	return nil
}
