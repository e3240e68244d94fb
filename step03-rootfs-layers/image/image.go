package image

import (
	_ "crypto/sha256" // registers sha256 for go-digest
	"encoding/json"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/step03-rootfs-layers/layers"
)

// Image is an image read from disk.
type Image struct {
	// Config is the image's config, with the runtime defaults in Config.Config.
	Config ocispec.Image
	// ConfigDigest is the digest of the config blob: Docker's image ID.
	ConfigDigest digest.Digest
	// RawConfig is the config blob itself, the bytes ConfigDigest names.
	RawConfig []byte
	// Layers are bottom first, as the manifest lists them.
	Layers []Layer
	// RepoTags are the names the archive gives the image, if any.
	RepoTags []string
}

// Layer is one layer blob as stored (usually compressed).
type Layer struct {
	Digest    digest.Digest // of the blob as stored; "" when the format does not say
	DiffID    digest.Digest // of the uncompressed tar, from the config
	MediaType string
	Size      int64
	// Open reads the blob; when Digest is known the reader fails at EOF if
	// the bytes do not match it.
	Open func() (io.ReadCloser, error)
}

// DiffIDs lists the layers' diffIDs, bottom first.
func (img *Image) DiffIDs() []digest.Digest {
	ids := make([]digest.Digest, len(img.Layers))
	for i, l := range img.Layers {
		ids[i] = l.DiffID
	}
	return ids
}

// Verify returns a reader of r that fails at EOF (with ErrDigestMismatch)
// unless what it read has digest want, and, if size >= 0, is size bytes.
func Verify(r io.Reader, want digest.Digest, size int64) io.Reader {
	return layers.Verify(r, want, size, ErrDigestMismatch)
}

// ParseConfig decodes an image config and checks it has a well-formed
// diffID for each of n layers.
func ParseConfig(data []byte, n int) (ocispec.Image, error) {
	var cfg ocispec.Image
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, fmt.Errorf("image config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != n {
		return cfg, fmt.Errorf("image config: %d diffIDs for %d layers", len(cfg.RootFS.DiffIDs), n)
	}
	// A diffID names a directory of the layer store and is cut to 12 hex
	// digits for its short link: a malformed one ("sha256:ab") must stop
	// here, not deep inside as a path or a slice index out of range.
	for _, d := range cfg.RootFS.DiffIDs {
		if err := d.Validate(); err != nil {
			return cfg, fmt.Errorf("invalid diff_id %q in image config: %w", string(d), err)
		}
	}
	return cfg, nil
}
