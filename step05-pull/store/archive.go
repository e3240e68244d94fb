package store

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/step03-rootfs-layers/image"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// Save writes the images args name to w as docker save does (Docker 25
// and later): an OCI image layout (oci-layout, index.json, blobs/sha256/)
// whose layers are the uncompressed tars, named by their diffIDs, plus the
// older manifest.json and repositories that docker load and other tools
// read. A name saves that name; an ID saves the image without names.
// Every layer's tar is written again by the layer store (Layers().Tar),
// the same bytes that were pulled.
func (s *Store) Save(w io.Writer, args []string) error {
	ix, err := s.readIndex()
	if err != nil {
		return err
	}
	type saved struct {
		id    digest.Digest
		names []reference.Reference
	}
	var images []*saved
	byID := map[digest.Digest]*saved{}
	for _, arg := range args {
		id, err := s.find(ix, arg)
		if err != nil {
			return err
		}
		sv := byID[id]
		if sv == nil {
			sv = &saved{id: id}
			byID[id] = sv
			images = append(images, sv)
		}
		if key, ok := refKey(ix, arg); ok {
			if r, err := reference.Parse(key); err == nil && r.Tag() != "" && !slices.Contains(sv.names, r) {
				sv.names = append(sv.names, r)
			}
		}
	}
	a := &archiveWriter{tw: tar.NewWriter(w), written: map[string]bool{}}
	var legacy []dockerManifest
	repositories := map[string]map[string]string{}
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	for _, sv := range images {
		img, err := s.load(ix, sv.id)
		if err != nil {
			return err
		}
		config, err := s.readBlob(sv.id)
		if err != nil {
			return fmt.Errorf("image %s: config: %w", sv.id, err)
		}
		if err := a.blob(sv.id, config); err != nil {
			return err
		}
		m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest,
			Config: ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: sv.id, Size: int64(len(config))}}
		entry := dockerManifest{Config: blobName(sv.id)}
		for _, d := range img.Config.RootFS.DiffIDs {
			size, err := a.layer(s, d)
			if err != nil {
				return fmt.Errorf("save %s: %w", sv.id, err)
			}
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: d, Size: size})
			entry.Layers = append(entry.Layers, blobName(d))
		}
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		md := digest.FromBytes(data)
		if err := a.blob(md, data); err != nil {
			return err
		}
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: md, Size: int64(len(data))}
		if len(sv.names) == 0 {
			index.Manifests = append(index.Manifests, desc)
		}
		for _, r := range sv.names {
			named := desc
			named.Annotations = map[string]string{image.AnnotationImageName: r.String(), ocispec.AnnotationRefName: r.Tag()}
			index.Manifests = append(index.Manifests, named)
			entry.RepoTags = append(entry.RepoTags, r.Familiar()+":"+r.Tag())
			if repositories[r.Familiar()] == nil {
				repositories[r.Familiar()] = map[string]string{}
			}
			repositories[r.Familiar()][r.Tag()] = sv.id.Encoded()
		}
		legacy = append(legacy, entry)
	}
	if err := a.json(ocispec.ImageIndexFile, index); err != nil {
		return err
	}
	if err := a.json("manifest.json", legacy); err != nil {
		return err
	}
	if err := a.json(ocispec.ImageLayoutFile, ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion}); err != nil {
		return err
	}
	if len(repositories) > 0 {
		if err := a.json("repositories", repositories); err != nil {
			return err
		}
	}
	return a.tw.Close()
}

// dockerManifest is one image of docker save's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func blobName(d digest.Digest) string { return path.Join("blobs", string(d.Algorithm()), d.Encoded()) }

// archiveWriter writes the archive's entries, each blob once, with fixed
// times and owners: the same images save to the same bytes.
type archiveWriter struct {
	tw      *tar.Writer
	written map[string]bool
	dirs    bool
}

var epoch = time.Unix(0, 0)

func (a *archiveWriter) file(name string, size int64, body io.Reader) error {
	if !a.dirs {
		for _, dir := range []string{"blobs/", "blobs/sha256/"} {
			if err := a.tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
				return err
			}
		}
		a.dirs = true
	}
	if err := a.tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: epoch}); err != nil {
		return err
	}
	n, err := io.Copy(a.tw, body)
	if err == nil && n != size {
		err = fmt.Errorf("%s: %d bytes, want %d", name, n, size)
	}
	return err
}

func (a *archiveWriter) blob(d digest.Digest, data []byte) error {
	name := blobName(d)
	if a.written[name] {
		return nil
	}
	a.written[name] = true
	return a.file(name, int64(len(data)), bytes.NewReader(data))
}

func (a *archiveWriter) json(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return a.file(name, int64(len(data)), bytes.NewReader(data))
}

// layer writes the tar of layer d as blobs/sha256/<diffID>. A tar header
// needs the size first: the tar is written again twice, once to count.
func (a *archiveWriter) layer(s *Store, d digest.Digest) (int64, error) {
	count, err := s.layers.Tar(d)
	if err != nil {
		return 0, err
	}
	size, err := io.Copy(io.Discard, count)
	count.Close()
	if err != nil {
		return 0, err
	}
	name := blobName(d)
	if a.written[name] {
		return size, nil
	}
	a.written[name] = true
	r, err := s.layers.Tar(d)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return size, a.file(name, size, r)
}

// Loaded is what Load put in the store: the image, and its names.
type Loaded struct {
	ID    digest.Digest
	Names []string // familiar: busybox:latest
}

// Load puts an image read by step 3's image.Load (a docker save archive
// or an OCI layout) into the store, as docker load does: each layer
// unpacked (Already-stored ones skipped), then, under the lock, the
// config, a manifest listing the layers as the archive held them, and the
// names the archive gives. A name that pointed at another image moves.
func (s *Store) Load(img *image.Image) (*Loaded, error) {
	if len(img.RawConfig) == 0 || digest.FromBytes(img.RawConfig) != img.ConfigDigest {
		return nil, errors.New("load: the image's config does not match its digest")
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: registry.MediaTypeDockerManifest,
		Config: ocispec.Descriptor{MediaType: registry.MediaTypeDockerConfig, Digest: img.ConfigDigest, Size: int64(len(img.RawConfig))}}
	for _, l := range img.Layers {
		if !s.layers.Has(l.DiffID) {
			r, err := l.Open()
			if err != nil {
				return nil, fmt.Errorf("load layer %s: %w", l.DiffID, err)
			}
			_, err = s.layers.Unpack(l.DiffID, r)
			r.Close()
			if err != nil {
				return nil, fmt.Errorf("load: %w", err)
			}
		}
		d := ocispec.Descriptor{MediaType: l.MediaType, Digest: l.Digest, Size: l.Size}
		if d.Digest == "" {
			d.Digest = l.DiffID
		}
		m.Layers = append(m.Layers, d)
	}
	var names []reference.Reference
	for _, t := range img.RepoTags {
		r, err := reference.Parse(t)
		if err != nil {
			return nil, fmt.Errorf("load: the archive's name %q: %w", t, err)
		}
		names = append(names, r)
	}
	manifest, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.writeBlob(img.ConfigDigest, img.RawConfig); err != nil {
		return nil, fmt.Errorf("load: store config: %w", err)
	}
	md := digest.FromBytes(manifest)
	ix, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	if _, ok := ix.Images[img.ConfigDigest]; !ok {
		if err := s.writeBlob(md, manifest); err != nil {
			return nil, fmt.Errorf("load: store manifest: %w", err)
		}
		ix.Images[img.ConfigDigest] = imageEntry{Manifest: md, Pulled: time.Now().UTC()}
	}
	for _, l := range img.Layers {
		if !s.layers.Has(l.DiffID) {
			return nil, fmt.Errorf("load: layer %s was removed while loading: load again", l.DiffID)
		}
	}
	out := &Loaded{ID: img.ConfigDigest}
	for _, r := range names {
		if e, ok := ix.Refs[r.String()]; !ok || e.Image != img.ConfigDigest {
			ix.Refs[r.String()] = refEntry{Image: img.ConfigDigest}
		}
		out.Names = append(out.Names, r.Familiar()+":"+r.Tag())
	}
	if err := s.writeIndex(ix); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return out, nil
}
