package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// AnnotationImageName is containerd's (and Docker's docker save's) name of
// an image in an OCI index: the whole reference, docker.io/library/busybox:latest.
const AnnotationImageName = "io.containerd.image.name"

// Load reads the image at p: a docker save archive, or an OCI image layout
// (skopeo's oci-archive), each as a tar file or as a directory. If it holds
// several images, Load takes the first (OCI: the first for this host's
// platform). Nothing is extracted: a layer's Open reads it in place.
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
	// Docker 25+ writes both: manifest.json carries the repository tags.
	case store.has("manifest.json"):
		img, err = loadDockerArchive(store)
	case store.has("index.json"):
		img, err = loadOCILayout(store)
	default:
		err = ErrUnknownFormat
	}
	if err != nil {
		return nil, fmt.Errorf("load image %s: %w", p, err)
	}
	return img, nil
}

// blobStore reads the files of an image by their path inside it.
type blobStore interface {
	has(name string) bool
	open(name string) (io.ReadCloser, int64, error)
}

// dirStore reads an image directory through os.Root: a manifest naming
// "../../etc/shadow" as a layer cannot read outside it.
type dirStore string

func (d dirStore) has(name string) bool {
	root, err := os.OpenRoot(string(d))
	if err != nil {
		return false
	}
	defer root.Close()
	_, err = root.Stat(name)
	return err == nil
}

func (d dirStore) open(name string) (io.ReadCloser, int64, error) {
	f, err := os.OpenInRoot(string(d), name)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, &fs.PathError{Op: "open", Path: name, Err: errors.New("not a regular file")}
	}
	return f, fi.Size(), nil
}

// tarStore indexes a tar file once: name -> where its content starts.
type tarStore struct {
	path    string
	entries map[string]tarEntry
	// links maps a symlink or hard link entry to the entry it names: docker
	// save links a layer that two images share instead of storing it twice.
	links map[string]string
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
	ts := &tarStore{path: p, entries: map[string]tarEntry{}, links: map[string]string{}}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return ts, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		name := path.Clean(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg:
			// tar.Reader has read exactly the header blocks: the content
			// starts here. (It reads the content of the previous entry
			// through to the end before the next header, unbuffered.)
			ts.entries[name] = tarEntry{offset: cr.n, size: hdr.Size}
		case tar.TypeSymlink:
			ts.links[name] = path.Join(path.Dir(name), hdr.Linkname)
		case tar.TypeLink:
			ts.links[name] = path.Clean(hdr.Linkname)
		}
	}
}

// resolve follows links to a regular entry (a few hops at most).
func (t *tarStore) resolve(name string) (tarEntry, bool) {
	name = path.Clean(name)
	for range 8 {
		if e, ok := t.entries[name]; ok {
			return e, true
		}
		target, ok := t.links[name]
		if !ok {
			break
		}
		name = target
	}
	return tarEntry{}, false
}

func (t *tarStore) has(name string) bool { _, ok := t.resolve(name); return ok }

func (t *tarStore) open(name string) (io.ReadCloser, int64, error) {
	e, ok := t.resolve(name)
	if !ok {
		return nil, 0, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	f, err := os.Open(t.path)
	if err != nil {
		return nil, 0, err
	}
	return readCloser{io.NewSectionReader(f, e.offset, e.size), f}, e.size, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// maxJSON bounds what Load reads of a manifest, index or config.
const maxJSON = 32 << 20

// readJSON decodes the file name of the image into v and returns its bytes.
// When want is not "", the bytes must have that digest.
func readJSON(s blobStore, name string, want digest.Digest, size int64, v any) ([]byte, error) {
	rc, _, err := s.open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var r io.Reader = io.LimitReader(rc, maxJSON)
	if want != "" {
		r = Verify(r, want, size)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

// nameDigest is the digest that a file's name in a docker save archive
// gives, or "": "blobs/sha256/<hex>" (Docker 25+), "sha256:<hex>" and
// "<hex>.tar.gz" (go-containerregistry), "<hex>.json" and "<hex>.tar"
// (docker save, skopeo: the uncompressed layer, so <hex> is its diffID).
// Older docker save names a layer "<v1 id>/layer.tar", which says nothing.
func nameDigest(name string) digest.Digest {
	hex := path.Base(name)
	if path.Dir(name) == "blobs/sha256" {
		hex = "sha256:" + hex
	}
	hex = strings.TrimPrefix(hex, "sha256:")
	for _, ext := range []string{".tar.gz", ".tar", ".json"} {
		hex = strings.TrimSuffix(hex, ext)
	}
	d := digest.NewDigestFromEncoded(digest.SHA256, hex)
	if d.Validate() != nil {
		return ""
	}
	return d
}

// loadDockerArchive reads docker save's manifest.json:
// [{"Config": "<hex>.json", "RepoTags": ["busybox:latest"], "Layers": ["<dir>/layer.tar", ...]}]
func loadDockerArchive(s blobStore) (*Image, error) {
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if _, err := readJSON(s, "manifest.json", "", -1, &manifest); err != nil {
		return nil, err
	}
	if len(manifest) == 0 {
		return nil, errors.New("manifest.json lists no image")
	}
	m := manifest[0]
	if m.Config == "" {
		return nil, errors.New("manifest.json: no Config")
	}
	var raw json.RawMessage
	data, err := readJSON(s, m.Config, nameDigest(m.Config), -1, &raw)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(data, len(m.Layers))
	if err != nil {
		return nil, err
	}
	img := &Image{Config: cfg, ConfigDigest: digest.FromBytes(data), RawConfig: data, RepoTags: m.RepoTags}
	for i, name := range m.Layers {
		l := Layer{Digest: nameDigest(name), DiffID: cfg.RootFS.DiffIDs[i]}
		if l.Size, l.MediaType, err = sniff(s, name); err != nil {
			return nil, fmt.Errorf("layer %s: %w", name, err)
		}
		l.Open = openBlob(s, name, l.Digest, l.Size)
		img.Layers = append(img.Layers, l)
	}
	return img, nil
}

// sniff returns a docker save layer's size and, from its first bytes, its
// media type: docker save stores layers uncompressed, other tools gzip them.
func sniff(s blobStore, name string) (int64, string, error) {
	r, size, err := s.open(name)
	if err != nil {
		return 0, "", err
	}
	defer r.Close()
	head, _ := bufio.NewReader(r).Peek(4)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return size, "application/vnd.docker.image.rootfs.diff.tar.gzip", nil
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return size, ocispec.MediaTypeImageLayerZstd, nil
	}
	return size, "application/vnd.docker.image.rootfs.diff.tar", nil
}

// openBlob is a Layer's Open: the blob as stored, verified against d (when
// known) as it is read.
func openBlob(s blobStore, name string, d digest.Digest, size int64) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) {
		r, _, err := s.open(name)
		if err != nil {
			return nil, err
		}
		if d == "" {
			return r, nil
		}
		return readCloser{Verify(r, d, size), r}, nil
	}
}

func blobPath(d digest.Digest) string {
	return path.Join("blobs", string(d.Algorithm()), d.Encoded())
}

// loadOCILayout follows index.json -> (index ->) manifest -> config + layers.
func loadOCILayout(s blobStore) (*Image, error) {
	var layout ocispec.ImageLayout
	if _, err := readJSON(s, ocispec.ImageLayoutFile, "", -1, &layout); err != nil {
		return nil, fmt.Errorf("not an OCI image layout: %w", err)
	}
	if layout.Version != ocispec.ImageLayoutVersion {
		return nil, fmt.Errorf("%s: imageLayoutVersion %q, want %q", ocispec.ImageLayoutFile, layout.Version, ocispec.ImageLayoutVersion)
	}
	var index ocispec.Index
	if _, err := readJSON(s, ocispec.ImageIndexFile, "", -1, &index); err != nil {
		return nil, err
	}
	desc, err := pickManifest(s, index, 0)
	if err != nil {
		return nil, err
	}
	var manifest ocispec.Manifest
	if _, err := readBlobJSON(s, desc, &manifest); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var raw json.RawMessage
	data, err := readBlobJSON(s, manifest.Config, &raw)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := ParseConfig(data, len(manifest.Layers))
	if err != nil {
		return nil, err
	}
	img := &Image{Config: cfg, ConfigDigest: manifest.Config.Digest, RawConfig: data}
	// The image's name: containerd and Docker write the whole reference in
	// io.containerd.image.name; the OCI annotation is often only the tag
	// (skopeo's oci:dir:v1), which names no repository.
	if ref := desc.Annotations[AnnotationImageName]; ref != "" {
		img.RepoTags = []string{ref}
	} else if ref := desc.Annotations[ocispec.AnnotationRefName]; strings.ContainsAny(ref, ":/") {
		img.RepoTags = []string{ref}
	}
	for i, ld := range manifest.Layers {
		if err := ld.Digest.Validate(); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if !s.has(blobPath(ld.Digest)) {
			return nil, fmt.Errorf("layer %s: %w", ld.Digest, fs.ErrNotExist)
		}
		img.Layers = append(img.Layers, Layer{
			Digest: ld.Digest, DiffID: cfg.RootFS.DiffIDs[i], MediaType: ld.MediaType, Size: ld.Size,
			Open: openBlob(s, blobPath(ld.Digest), ld.Digest, ld.Size),
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
		if err := d.Digest.Validate(); err != nil {
			return d, fmt.Errorf("index: invalid manifest digest %q: %w", string(d.Digest), err)
		}
	}
	for _, d := range index.Manifests {
		if p := d.Platform; p != nil && (p.OS != runtime.GOOS || p.Architecture != runtime.GOARCH) {
			continue
		}
		switch d.MediaType {
		case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
			var inner ocispec.Index
			if _, err := readBlobJSON(s, d, &inner); err != nil {
				return d, err
			}
			return pickManifest(s, inner, depth+1)
		default:
			return d, nil
		}
	}
	return ocispec.Descriptor{}, fmt.Errorf("index.json: no manifest for %s/%s", runtime.GOOS, runtime.GOARCH)
}

// readBlobJSON reads the blob of descriptor d, verified, into v.
func readBlobJSON(s blobStore, d ocispec.Descriptor, v any) ([]byte, error) {
	if err := d.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("descriptor: %w", err)
	}
	return readJSON(s, blobPath(d.Digest), d.Digest, d.Size, v)
}
