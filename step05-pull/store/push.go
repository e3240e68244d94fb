package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// knownBlob is a compressed blob of a layer, and the repository that has
// it: what a push may find there or mount from, instead of uploading.
type knownBlob struct {
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
	MediaType string        `json:"mediaType"`
	Repo      string        `json:"repo"`
}

// ErrTagDigest is docker tag's refusal of a target with a digest.
var ErrTagDigest = errors.New("refusing to create a tag with a digest reference")

// Tag gives the image that source names the name target as well (docker
// tag): only a new entry in the index, no file is copied. A target
// without a tag gets "latest". The new name has no repository digest
// until it is pushed: nothing in that repository holds it yet.
func (s *Store) Tag(source, target string) (reference.Reference, error) {
	ref, err := reference.Parse(target)
	if err != nil {
		return ref, err
	}
	if ref.Digest() != "" {
		return ref, ErrTagDigest
	}
	unlock, err := s.lock()
	if err != nil {
		return ref, err
	}
	defer unlock()
	ix, err := s.readIndex()
	if err != nil {
		return ref, err
	}
	id, err := s.find(ix, source)
	if err != nil {
		return ref, err
	}
	ix.Refs[ref.String()] = refEntry{Image: id}
	if err := s.writeIndex(ix); err != nil {
		return ref, fmt.Errorf("tag %s: %w", target, err)
	}
	return ref, nil
}

// PushSource is what Push needs of the image ref names in the store: its
// config as stored, each layer's tar written again from the layer store
// (Layers().Tar), and the blobs of each layer known to be in a registry:
// those it was pulled as, in the repositories of its names, and those of
// earlier pushes.
func (s *Store) PushSource(ref reference.Reference) (registry.PushImage, digest.Digest, error) {
	ix, err := s.readIndex()
	if err != nil {
		return registry.PushImage{}, "", err
	}
	key, ok := refKey(ix, ref.String())
	if !ok {
		return registry.PushImage{}, "", &NotFoundError{Arg: ref.Familiar()}
	}
	id := ix.Refs[key].Image
	img, err := s.load(ix, id)
	if err != nil {
		return registry.PushImage{}, "", err
	}
	config, err := s.readBlob(id)
	if err != nil {
		return registry.PushImage{}, "", fmt.Errorf("image %s: config: %w", id, err)
	}
	var repos []string
	for k, e := range ix.Refs {
		if e.Image == id && e.Digest != "" {
			if r, err := reference.Parse(k); err == nil && !slices.Contains(repos, r.Name()) {
				repos = append(repos, r.Name())
			}
		}
	}
	slices.Sort(repos)
	out := registry.PushImage{Config: config, OCI: img.Manifest.MediaType == ocispec.MediaTypeImageManifest}
	for i, d := range img.Config.RootFS.DiffIDs {
		l := registry.PushLayer{DiffID: d, Open: func() (io.ReadCloser, error) { return s.layers.Tar(d) }}
		if i < len(img.Manifest.Layers) {
			for _, repo := range repos {
				l.Known = append(l.Known, registry.KnownBlob{Desc: img.Manifest.Layers[i], Repo: repo})
			}
		}
		for _, k := range ix.Blobs[d] {
			l.Known = append(l.Known, registry.KnownBlob{Desc: ocispec.Descriptor{MediaType: k.MediaType, Digest: k.Digest, Size: k.Size}, Repo: k.Repo})
		}
		out.Layers = append(out.Layers, l)
	}
	return out, id, nil
}

// Push is docker push of ref: PushSource, the registry's Push, and then,
// under the lock, the name's repository digest and the blobs the registry
// now has, for the next push.
func (s *Store) Push(ctx context.Context, client *registry.Client, ref reference.Reference, progress func(registry.Progress)) (*registry.Pushed, error) {
	src, id, err := s.PushSource(ref)
	if err != nil {
		return nil, err
	}
	pushed, err := client.Push(ctx, ref, src, progress)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ix, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	if e, ok := ix.Refs[ref.String()]; ok && e.Image == id {
		ix.Refs[ref.String()] = refEntry{Digest: pushed.Manifest.Digest, Image: id}
	}
	if ix.Blobs == nil {
		ix.Blobs = map[digest.Digest][]knownBlob{}
	}
	for i, b := range pushed.Layers {
		d := src.Layers[i].DiffID
		k := knownBlob{Digest: b.Desc.Digest, Size: b.Desc.Size, MediaType: b.Desc.MediaType, Repo: b.Repo}
		if !slices.Contains(ix.Blobs[d], k) {
			ix.Blobs[d] = append(ix.Blobs[d], k)
		}
	}
	if err := s.writeIndex(ix); err != nil {
		return nil, fmt.Errorf("push %s: %w", ref, err)
	}
	return pushed, nil
}
