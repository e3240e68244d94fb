package image

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Load reads the image at p: a docker save archive, or an OCI image layout
// as a directory or a tar (skopeo's oci-archive). If the store holds several
// images, Load takes the first (OCI: the first whose platform is this host).
func Load(p string) (*Image, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("load image: %w", err)
	}
	var store blobStore
	if fi.IsDir() {
		store = dirStore(p)
	} else {
		ts, err := openTar(p)
		if err != nil {
			return nil, fmt.Errorf("load image %s: %w", p, err)
		}
		store = ts
	}
	var img *Image
	switch {
	case store.has("manifest.json"):
		img, err = loadDockerArchive(store)
	case store.has("index.json"):
		img, err = loadOCILayout(store)
	default:
		err = errors.New("neither a docker save archive (manifest.json) nor an OCI image layout (index.json)")
	}
	if err != nil {
		return nil, fmt.Errorf("load image %s: %w", p, err)
	}
	return img, nil
}

// blobStore reads files of the image by their path inside it.
type blobStore interface {
	has(name string) bool
	open(name string) (io.ReadCloser, int64, error)
}

type dirStore string

func (d dirStore) has(name string) bool {
	_, err := os.Stat(filepath.Join(string(d), filepath.FromSlash(name)))
	return err == nil
}

func (d dirStore) open(name string) (io.ReadCloser, int64, error) {
	f, err := os.Open(filepath.Join(string(d), filepath.FromSlash(name)))
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// tarStore indexes a tar file once: name -> where its content starts.
type tarStore struct {
	path    string
	entries map[string]tarEntry
}

type tarEntry struct{ offset, size int64 }

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func openTar(p string) (*tarStore, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := &countingReader{r: f}
	tr := tar.NewReader(cr)
	ts := &tarStore{path: p, entries: map[string]tarEntry{}}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return ts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		if hdr.Typeflag == tar.TypeReg {
			// tar.Reader has read exactly the header blocks: the content
			// starts here.
			ts.entries[path.Clean(hdr.Name)] = tarEntry{offset: cr.n, size: hdr.Size}
		}
	}
}

func (t *tarStore) has(name string) bool { _, ok := t.entries[path.Clean(name)]; return ok }

func (t *tarStore) open(name string) (io.ReadCloser, int64, error) {
	e, ok := t.entries[path.Clean(name)]
	if !ok {
		return nil, 0, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	f, err := os.Open(t.path)
	if err != nil {
		return nil, 0, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, e.offset, e.size), f}, e.size, nil
}

func readJSON(s blobStore, name string, v any) ([]byte, error) {
	r, _, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, 32<<20))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

// loadDockerArchive reads docker save's manifest.json:
// [{"Config": "<hex>.json", "RepoTags": ["busybox:latest"], "Layers": ["<dir>/layer.tar", ...]}]
func loadDockerArchive(s blobStore) (*Image, error) {
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if _, err := readJSON(s, "manifest.json", &manifest); err != nil {
		return nil, err
	}
	if len(manifest) == 0 {
		return nil, errors.New("manifest.json lists no image")
	}
	m := manifest[0]
	var raw json.RawMessage
	data, err := readJSON(s, m.Config, &raw)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(data, len(m.Layers))
	if err != nil {
		return nil, err
	}
	img := &Image{Config: cfg, ConfigDigest: digest.FromBytes(data), RepoTags: m.RepoTags}
	for i, name := range m.Layers {
		if !s.has(name) {
			return nil, fmt.Errorf("layer %s: missing from the archive", name)
		}
		name := name
		l := Layer{DiffID: cfg.RootFS.DiffIDs[i], MediaType: "application/vnd.docker.image.rootfs.diff.tar"}
		// Newer docker save (and ggcr) name blobs by digest: verify them.
		if d, err := digest.Parse(path.Base(path.Dir(name)) + ":" + path.Base(name)); err == nil {
			l.Digest = d
		}
		l.Open = func() (io.ReadCloser, error) {
			r, size, err := s.open(name)
			if err != nil {
				return nil, err
			}
			if l.Digest == "" {
				return r, nil
			}
			return readCloser{Verify(r, l.Digest, size), r}, nil
		}
		l.Size, _ = sizeOf(s, name)
		img.Layers = append(img.Layers, l)
	}
	return img, nil
}

func sizeOf(s blobStore, name string) (int64, error) {
	r, size, err := s.open(name)
	if err == nil {
		r.Close()
	}
	return size, err
}

type readCloser struct {
	io.Reader
	io.Closer
}

func blobPath(d digest.Digest) string {
	return path.Join("blobs", string(d.Algorithm()), d.Encoded())
}

// loadOCILayout follows index.json -> (index ->) manifest -> config + layers.
func loadOCILayout(s blobStore) (*Image, error) {
	var index ocispec.Index
	if _, err := readJSON(s, "index.json", &index); err != nil {
		return nil, err
	}
	desc, err := pickManifest(s, index, 0)
	if err != nil {
		return nil, err
	}
	var manifest ocispec.Manifest
	if _, err := readVerifiedJSON(s, desc, &manifest); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	data, err := readVerifiedJSON(s, manifest.Config, &raw)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(data, len(manifest.Layers))
	if err != nil {
		return nil, err
	}
	img := &Image{Config: cfg, ConfigDigest: manifest.Config.Digest}
	if ref := desc.Annotations[ocispec.AnnotationRefName]; ref != "" {
		img.RepoTags = []string{ref}
	}
	for i, ld := range manifest.Layers {
		ld := ld
		if !s.has(blobPath(ld.Digest)) {
			return nil, fmt.Errorf("layer %s: missing from the layout", ld.Digest)
		}
		img.Layers = append(img.Layers, Layer{
			Digest: ld.Digest, DiffID: cfg.RootFS.DiffIDs[i], MediaType: ld.MediaType, Size: ld.Size,
			Open: func() (io.ReadCloser, error) {
				r, _, err := s.open(blobPath(ld.Digest))
				if err != nil {
					return nil, err
				}
				return readCloser{Verify(r, ld.Digest, ld.Size), r}, nil
			},
		})
	}
	return img, nil
}

// pickManifest chooses the image manifest: the first for this platform
// (or without one), following nested indexes.
func pickManifest(s blobStore, index ocispec.Index, depth int) (ocispec.Descriptor, error) {
	if depth > 4 {
		return ocispec.Descriptor{}, errors.New("index.json: indexes nested too deep")
	}
	for _, d := range index.Manifests {
		if p := d.Platform; p != nil && (p.OS != runtime.GOOS || p.Architecture != runtime.GOARCH) {
			continue
		}
		switch d.MediaType {
		case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
			var inner ocispec.Index
			if _, err := readVerifiedJSON(s, d, &inner); err != nil {
				return d, err
			}
			return pickManifest(s, inner, depth+1)
		default:
			return d, nil
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("index.json: no manifest for %s/%s", runtime.GOOS, runtime.GOARCH)
}

func readVerifiedJSON(s blobStore, d ocispec.Descriptor, v any) ([]byte, error) {
	if err := d.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("descriptor: %w", err)
	}
	r, _, err := s.open(blobPath(d.Digest))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(Verify(io.LimitReader(r, 32<<20), d.Digest, d.Size))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	return data, json.Unmarshal(data, v)
}
