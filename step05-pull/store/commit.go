package store

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/step03-rootfs-layers/layers"
	"minidocker/step05-pull/registry"
)

// buildEntry is what a build knows of an image it committed: the image it
// grew from and the step that made it, the build cache's key.
type buildEntry struct {
	Parent digest.Digest `json:"parent,omitempty"`
	Key    string        `json:"key"`
	// Intermediate: a step's result, not what the build was for; such
	// images are the cache, not listed by Images unless named.
	Intermediate bool `json:"intermediate,omitempty"`
}

// Commit stores a new image made from parent ("" for none: FROM scratch)
// by one build step: the layer that upper, an overlay upper directory,
// describes (none when upper is ""), and cfg, the new config, whose
// RootFS.DiffIDs list the parent's layers (the new one is appended here).
// key is the build cache's key for the step (see Cached). The layer's tar
// is made by Diff, with times clamped to epoch when it is not nil, so the
// same changes give the same diffID; it is unpacked into the layer store as
// a pulled layer is (its tar's layout kept for push and save). It returns
// the new image's ID.
func (s *Store) Commit(parent digest.Digest, upper string, cfg ocispec.Image, key string, intermediate bool, epoch *time.Time) (digest.Digest, error) {
	var manifest ocispec.Manifest
	if parent != "" {
		ix, err := s.readIndex()
		if err != nil {
			return "", err
		}
		p, err := s.load(ix, parent)
		if err != nil {
			return "", fmt.Errorf("commit: parent: %w", err)
		}
		manifest.Layers = append(manifest.Layers, p.Manifest.Layers...)
	}
	if upper != "" {
		desc, err := s.commitLayer(upper, epoch)
		if err != nil {
			return "", err
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, desc.Digest)
		manifest.Layers = append(manifest.Layers, desc)
	}
	cfg.RootFS.Type = "layers"
	config, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	id := digest.FromBytes(config)
	manifest.Versioned = specs.Versioned{SchemaVersion: 2}
	manifest.MediaType = registry.MediaTypeDockerManifest
	manifest.Config = ocispec.Descriptor{MediaType: registry.MediaTypeDockerConfig, Digest: id, Size: int64(len(config))}
	mdata, err := json.Marshal(manifest)
	if err != nil {
		return "", err
	}
	md := digest.FromBytes(mdata)

	unlock, err := s.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	for _, d := range cfg.RootFS.DiffIDs {
		if !s.layers.Has(d) {
			return "", fmt.Errorf("commit: layer %s is not stored (removed meanwhile?)", d)
		}
	}
	if err := s.writeBlob(id, config); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	if err := s.writeBlob(md, mdata); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	ix, err := s.readIndex()
	if err != nil {
		return "", err
	}
	e, ok := ix.Images[id]
	if !ok {
		e = imageEntry{Manifest: md, Pulled: time.Now().UTC()}
	}
	// The same step again (--no-cache, or another build) makes the same
	// image: it stays, and stays visible if it ever was.
	if e.Build == nil || (e.Build.Intermediate && !intermediate) {
		e.Build = &buildEntry{Parent: parent, Key: key, Intermediate: intermediate}
	}
	ix.Images[id] = e
	if err := s.writeIndex(ix); err != nil {
		return "", fmt.Errorf("commit: %w", err)
	}
	return id, nil
}

// commitLayer makes upper a layer of the store and returns its descriptor
// as a manifest lists an uncompressed layer: the tar's digest is the diffID.
func (s *Store) commitLayer(upper string, epoch *time.Time) (ocispec.Descriptor, error) {
	f, err := os.CreateTemp(s.dir, ".layer-*.tar")
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("commit: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	digester := digest.Canonical.Digester()
	counter := &countingWriter{}
	if _, err := layers.Diff(io.MultiWriter(f, digester.Hash(), counter), upper, layers.DiffOptions{Epoch: epoch}); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("commit: %w", err)
	}
	diffID := digester.Digest()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ocispec.Descriptor{}, err
	}
	if _, err := s.layers.Unpack(diffID, f); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("commit: %w", err)
	}
	return ocispec.Descriptor{MediaType: MediaTypeDockerLayerTar, Digest: diffID, Size: counter.n}, nil
}

// MediaTypeDockerLayerTar is an uncompressed layer in a Docker manifest.
const MediaTypeDockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar"

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// Cached is the build cache: the image a step with key made from parent,
// if it is still stored whole.
func (s *Store) Cached(parent digest.Digest, key string) (*Image, bool) {
	ix, err := s.readIndex()
	if err != nil {
		return nil, false
	}
	for id, e := range ix.Images {
		if e.Build == nil || e.Build.Key != key || e.Build.Parent != parent {
			continue
		}
		img, err := s.load(ix, id)
		if err != nil {
			continue
		}
		whole := true
		for _, d := range img.Config.RootFS.DiffIDs {
			whole = whole && s.layers.Has(d)
		}
		if whole {
			return img, true
		}
	}
	return nil, false
}
