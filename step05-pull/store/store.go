package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/internal/atomicfile"
	"minidocker/internal/flock"
	"minidocker/step03-rootfs-layers/image"
	"minidocker/step03-rootfs-layers/layers"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// ErrNotFound means no image matches; the error is a *NotFoundError.
var ErrNotFound = errors.New("no such image")

// NotFoundError is docker's "No such image: busybox".
type NotFoundError struct{ Arg string }

func (e *NotFoundError) Error() string        { return "No such image: " + e.Arg }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Store is the image store under a data root (see the package comment).
type Store struct {
	dir    string // <root>/images
	layers *layers.Store
}

// Image is one stored image.
type Image struct {
	ID          digest.Digest // the config's digest: docker's image ID
	RepoTags    []string      // familiar: "busybox:latest", "localhost:5000/x:1"
	RepoDigests []string      // familiar name@digest of what each name was pulled as
	Manifest    ocispec.Manifest
	Config      ocispec.Image
	Created     time.Time // from the config
	Size        int64     // the unpacked layers, summed
	// Intermediate is a build step's result, kept as the build cache.
	Intermediate bool
}

// PulledDigest is what docker pull prints as "Digest:" for ref: the digest
// the name pointed at when it was pulled (a multi-platform image's index),
// from the repo digest "name@sha256:…"; the image ID when none is kept.
func (img *Image) PulledDigest(ref reference.Reference) digest.Digest {
	for _, rd := range img.RepoDigests {
		if n, d, ok := strings.Cut(rd, "@"); ok && n == ref.Familiar() {
			return digest.Digest(d)
		}
	}
	return img.ID
}

// index is repositories.json.
type index struct {
	// Refs are the names: "docker.io/library/busybox:latest" (or
	// "…@sha256:…" for a pull by digest) -> what it points at.
	Refs map[string]refEntry `json:"refs"`
	// Images are the images by config digest; an image without names
	// stays while a container uses it (rmi -f of an image in use).
	Images map[digest.Digest]imageEntry `json:"images"`
	// Blobs are compressed blobs of layers that pushes left in
	// registries, by diffID: the next push finds them there.
	Blobs map[digest.Digest][]knownBlob `json:"blobs,omitempty"`
}

type refEntry struct {
	// Digest is what the name points at in its repository (an index, or
	// the manifest); "" for a name given by tag and not pushed yet.
	Digest digest.Digest `json:"digest,omitempty"`
	Image  digest.Digest `json:"image"` // the config digest
}

type imageEntry struct {
	Manifest digest.Digest `json:"manifest"`
	Pulled   time.Time     `json:"pulled"`
	// Build is set for an image a build committed (see Commit).
	Build *buildEntry `json:"build,omitempty"`
}

// Open opens the store under root, creating it when needed. The data root
// and the store's directories are private (0700), and are made so again on
// every open: a root that an older version created 0755 is fixed (see
// Private).
func Open(root string) (*Store, error) {
	dir := filepath.Join(root, "images")
	for _, d := range []string{root, dir, filepath.Join(dir, "blobs"), filepath.Join(dir, "blobs", "sha256")} {
		if err := Private(d); err != nil {
			return nil, fmt.Errorf("open image store: %w", err)
		}
	}
	ls, err := layers.NewStore(filepath.Join(root, "layers"))
	if err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	return &Store{dir: dir, layers: ls}, nil
}

// Private makes dir (and any missing parent) and sets its mode to 0700,
// whatever it was. Layers hold files an image says are setuid root: a local
// user who can reach layers/sha256/<hex>/bin/su runs it on the host with
// euid 0. Only root may walk into the data root (Docker: /var/lib/docker
// is 0710 root:root), so nothing below it is reachable by anyone else,
// whatever its own mode.
func Private(dir string) error {
	return layers.Private(dir)
}

// Layers is the layer store the images' layers are unpacked in.
func (s *Store) Layers() *layers.Store { return s.layers }

// blobPath is where the blob d lives.
func (s *Store) blobPath(d digest.Digest) string {
	return filepath.Join(s.dir, "blobs", d.Algorithm().String(), d.Encoded())
}

// writeBlob stores data as the blob d, checked against d and replaced
// atomically (temporary file, fsync, rename): a blob that can be seen is
// always whole and right.
func (s *Store) writeBlob(d digest.Digest, data []byte) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if got := d.Algorithm().FromBytes(data); got != d {
		return fmt.Errorf("blob %s: %w: got %s", d, registry.ErrDigestMismatch, got)
	}
	final := s.blobPath(d)
	if _, err := os.Stat(final); err == nil {
		return nil // content addressed: the same name is the same bytes
	}
	return atomicfile.Write(final, data, 0o644)
}

func (s *Store) readBlob(d digest.Digest) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(s.blobPath(d))
	if err != nil {
		return nil, err
	}
	if got := d.Algorithm().FromBytes(data); got != d {
		return nil, fmt.Errorf("blob %s is corrupt (its bytes hash to %s)", d, got)
	}
	return data, nil
}

// lock takes the index's flock: every read-modify-write of
// repositories.json, and every deletion, happens under it. Whoever takes
// it first sweeps what dead pulls left (see sweep).
func (s *Store) lock() (unlock func(), err error) {
	unlock, err = flock.Lock(filepath.Join(s.dir, "lock"))
	if err != nil {
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	s.sweep()
	return unlock, nil
}

// sweep removes, with the lock held, the temporaries of pulls whose
// process is gone, as soon as the next command locks the store (not after
// some age, which a slow pull may well reach):
//
//   - a blob's temporary file ("blobs/sha256/.<hex>.tmp", atomicfile's):
//     blobs are written only with the lock held, so any one found by the
//     holder of the lock was left by a writer that died;
//   - a layer's temporary directory ("layers/sha256/.<hex>.tmp-*"), which
//     a pull writes while it downloads, without the store's lock but with
//     the layer's own (layers.Store.Sweep tells a dead writer's from a
//     live one's by that lock).
//
// It is best effort: what it cannot remove now, the next one tries again.
func (s *Store) sweep() {
	blobs := filepath.Join(s.dir, "blobs", "sha256")
	if entries, err := os.ReadDir(blobs); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".tmp") {
				_ = os.Remove(filepath.Join(blobs, e.Name()))
			}
		}
	}
	_, _ = s.layers.Sweep()
}

// readIndex reads repositories.json; it is only ever replaced by rename,
// so a reader without the lock sees one whole version.
func (s *Store) readIndex() (*index, error) {
	ix := &index{Refs: map[string]refEntry{}, Images: map[digest.Digest]imageEntry{}}
	data, err := os.ReadFile(filepath.Join(s.dir, "repositories.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return ix, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, ix); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(s.dir, "repositories.json"), err)
	}
	if ix.Refs == nil {
		ix.Refs = map[string]refEntry{}
	}
	if ix.Images == nil {
		ix.Images = map[digest.Digest]imageEntry{}
	}
	return ix, nil
}

// writeIndex replaces repositories.json. Call it with the lock held.
func (s *Store) writeIndex(ix *index) error {
	data, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.dir, "repositories.json"), data, 0o644)
}

// Images lists the images, newest first, each once with all its names.
func (s *Store) Images() ([]Image, error) {
	ix, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	var out []Image
	for id := range ix.Images {
		img, err := s.load(ix, id)
		if err != nil {
			return nil, err
		}
		if img.Intermediate && len(img.RepoTags) == 0 {
			continue // a build step's result: the cache, as docker images hides it
		}
		out = append(out, *img)
	}
	slices.SortFunc(out, func(a, b Image) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID.String(), b.ID.String())
	})
	return out, nil
}

// load reads image id's blobs and names.
func (s *Store) load(ix *index, id digest.Digest) (*Image, error) {
	entry, ok := ix.Images[id]
	if !ok {
		return nil, &NotFoundError{Arg: id.String()}
	}
	img := &Image{ID: id, Intermediate: entry.Build != nil && entry.Build.Intermediate}
	raw, err := s.readBlob(entry.Manifest)
	if err != nil {
		return nil, fmt.Errorf("image %s: manifest: %w", id, err)
	}
	if err := json.Unmarshal(raw, &img.Manifest); err != nil {
		return nil, fmt.Errorf("image %s: manifest: %w", id, err)
	}
	raw, err = s.readBlob(id)
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", id, err)
	}
	if img.Config, err = image.ParseConfig(raw, len(img.Manifest.Layers)); err != nil {
		return nil, fmt.Errorf("image %s: config: %w", id, err)
	}
	if img.Config.Created != nil {
		img.Created = *img.Config.Created
	}
	for _, d := range img.Config.RootFS.DiffIDs {
		img.Size += s.layers.Size(d)
	}
	keys := make([]string, 0, len(ix.Refs))
	for k := range ix.Refs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e := ix.Refs[k]
		if e.Image != id {
			continue
		}
		ref, err := reference.Parse(k)
		if err != nil {
			continue
		}
		if ref.Tag() != "" {
			img.RepoTags = append(img.RepoTags, ref.Familiar()+":"+ref.Tag())
		}
		if rd := ref.Familiar() + "@" + e.Digest.String(); e.Digest != "" && !slices.Contains(img.RepoDigests, rd) {
			img.RepoDigests = append(img.RepoDigests, rd)
		}
	}
	return img, nil
}

// Get finds an image by reference (busybox, busybox:latest,
// docker.io/library/busybox, name@sha256:…), by its full ID (sha256:… or
// the hex alone) or by a unique prefix of its ID, as docker does.
func (s *Store) Get(arg string) (*Image, error) {
	ix, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	id, err := s.find(ix, arg)
	if err != nil {
		return nil, err
	}
	return s.load(ix, id)
}

// find resolves arg to an image ID: first as a name, then as an ID.
func (s *Store) find(ix *index, arg string) (digest.Digest, error) {
	if key, ok := refKey(ix, arg); ok {
		return ix.Refs[key].Image, nil
	}
	hexID := strings.TrimPrefix(arg, "sha256:")
	if _, err := hex.DecodeString(hexID + strings.Repeat("0", len(hexID)%2)); err == nil && hexID != "" && strings.ToLower(hexID) == hexID {
		var found []digest.Digest
		for id := range ix.Images {
			if strings.HasPrefix(id.Encoded(), hexID) {
				found = append(found, id)
			}
		}
		switch len(found) {
		case 1:
			return found[0], nil
		case 0:
		default:
			return "", fmt.Errorf("multiple images found with provided prefix: %s", arg)
		}
	}
	return "", &NotFoundError{Arg: arg}
}

// refKey is the index key arg names, if it is stored.
func refKey(ix *index, arg string) (string, bool) {
	ref, err := reference.Parse(arg)
	if err != nil {
		return "", false
	}
	if _, ok := ix.Refs[ref.String()]; ok {
		return ref.String(), true
	}
	if d := ref.Digest(); d != "" {
		// name@digest: any name of that repository pulled as that digest
		for k, e := range ix.Refs {
			if e.Digest == d && strings.HasPrefix(k, ref.Name()+":") || k == ref.Name()+"@"+d.String() {
				return k, true
			}
		}
	}
	return "", false
}

// Runnable is img in step 3's form, for rootfs.Prepare: its layers are
// already unpacked in Layers(), so they are never opened.
func (s *Store) Runnable(img *Image) *image.Image {
	out := &image.Image{Config: img.Config, ConfigDigest: img.ID, RepoTags: img.RepoTags}
	for i, d := range img.Config.RootFS.DiffIDs {
		l := image.Layer{DiffID: d, Open: func() (io.ReadCloser, error) {
			return nil, fmt.Errorf("layer %s is not in the store: pull the image again", d)
		}}
		if i < len(img.Manifest.Layers) {
			l.Digest, l.MediaType, l.Size = img.Manifest.Layers[i].Digest, img.Manifest.Layers[i].MediaType, img.Manifest.Layers[i].Size
		}
		out.Layers = append(out.Layers, l)
	}
	return out
}

// Pull pulls ref with client into the store. The layers go from the
// network straight into Layers().Unpack while they download (never whole
// in memory, never as a compressed file on disk); layers already stored are
// not fetched ("Already exists"). Then the manifest and config are stored
// and, last, under the lock, the name. progress (may be nil) gets the
// registry's events and "Pull complete" when a layer is in place. fresh is
// false when the name already pointed at this image ("Image is up to
// date").
func (s *Store) Pull(ctx context.Context, client *registry.Client, ref reference.Reference, progress func(registry.Progress)) (img *Image, fresh bool, err error) {
	var mu sync.Mutex
	report := func(p registry.Progress) {
		if progress != nil {
			mu.Lock()
			defer mu.Unlock()
			progress(p)
		}
	}
	sink := registry.Sink{
		Exists: func(l registry.Layer) bool { return s.layers.Has(l.DiffID) },
		Layer: func(ctx context.Context, l registry.Layer, r io.Reader) error {
			// Extracting while downloading: the tar streams through
			// decompression and the diffID check into a temporary directory
			// that is renamed into place only when both digests matched.
			// "Extracting" once the last byte arrived and checked out:
			// what is left is the end of the tar and the commit.
			r = &atEOF{r: r, fn: func() {
				report(registry.Progress{ID: l.ShortID(), Status: registry.StatusExtracting, Current: l.Size, Total: l.Size})
			}}
			if _, err := s.layers.Unpack(l.DiffID, r); err != nil {
				return err
			}
			report(registry.Progress{ID: l.ShortID(), Status: registry.StatusPullComplete})
			return nil
		},
		Progress: report,
	}
	pulled, err := client.Pull(ctx, ref, sink)
	if err != nil {
		return nil, false, err
	}
	id := pulled.Manifest.Config.Digest
	// Under the lock, so that an rmi collecting unreferenced blobs never
	// sees these before their name is written.
	unlock, err := s.lock()
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	if err := s.writeBlob(id, pulled.Config); err != nil {
		return nil, false, fmt.Errorf("pull %s: store config: %w", ref, err)
	}
	if err := s.writeBlob(pulled.ManifestDescriptor.Digest, pulled.RawManifest); err != nil {
		return nil, false, fmt.Errorf("pull %s: store manifest: %w", ref, err)
	}
	// An rmi running meanwhile may have removed a layer we found stored.
	for _, l := range pulled.Layers {
		if !s.layers.Has(l.DiffID) {
			return nil, false, fmt.Errorf("pull %s: layer %s was removed while pulling: pull again", ref, l.DiffID)
		}
	}
	ix, err := s.readIndex()
	if err != nil {
		return nil, false, err
	}
	key := ref.String()
	old, had := ix.Refs[key]
	fresh = !had || old.Digest != pulled.Digest || old.Image != id
	ix.Refs[key] = refEntry{Digest: pulled.Digest, Image: id}
	if _, ok := ix.Images[id]; !ok {
		ix.Images[id] = imageEntry{Manifest: pulled.ManifestDescriptor.Digest, Pulled: time.Now().UTC()}
	}
	if err := s.writeIndex(ix); err != nil {
		return nil, false, fmt.Errorf("pull %s: %w", ref, err)
	}
	// The tag moved away from an image nothing else names: it stays,
	// untagged (<none>), as in Docker, until rmi or prune.
	img, err = s.load(ix, id)
	return img, fresh, err
}

// Remove is docker rmi of arg (see the package comment for the rules).
// inUse (may be nil) returns the short ID of a container that uses an
// image ID, or "". It returns the lines docker prints.
func (s *Store) Remove(arg string, force bool, inUse func(id digest.Digest) string) ([]string, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	ix, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	id, err := s.find(ix, arg)
	if err != nil {
		return nil, err
	}
	short := id.Encoded()[:12]
	var names []string
	for k, e := range ix.Refs {
		if e.Image == id {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	user := ""
	if inUse != nil {
		user = inUse(id)
	}
	var untag []string
	if key, byName := refKey(ix, arg); byName {
		untag = []string{key}
		if user != "" && len(names) == 1 && !force {
			return nil, fmt.Errorf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s", arg, user, short)
		}
	} else {
		untag = names
		repos := map[string]bool{}
		for _, k := range names {
			if ref, err := reference.Parse(k); err == nil {
				repos[ref.Name()] = true
			}
		}
		if len(repos) > 1 && !force {
			return nil, fmt.Errorf("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", short)
		}
		if user != "" && !force {
			return nil, fmt.Errorf("conflict: unable to delete %s (must be forced) - image is being used by container %s", short, user)
		}
	}

	var lines []string
	for _, k := range untag {
		lines = append(lines, untagRef(ix, k)...)
	}
	named := false
	for _, e := range ix.Refs {
		named = named || e.Image == id
	}
	if named || user != "" {
		// Still named, or a container still uses it: the image stays.
		return lines, s.writeIndex(ix)
	}
	delete(ix.Images, id)
	// The index goes first: a crash after it leaves unreferenced files,
	// which the next removal collects, never a name without its files.
	if err := s.writeIndex(ix); err != nil {
		return lines, err
	}
	lines = append(lines, "Deleted: "+id.String())
	removed, _, err := s.collect(ix, []digest.Digest{id})
	return append(lines, removed...), err
}

// untagRef removes the name k from the index and returns docker's lines
// for it: "Untagged: busybox:latest", "Untagged: busybox@sha256:…".
func untagRef(ix *index, k string) []string {
	e := ix.Refs[k]
	delete(ix.Refs, k)
	ref, err := reference.Parse(k)
	if err != nil {
		return nil
	}
	var lines []string
	if ref.Tag() != "" {
		lines = append(lines, "Untagged: "+ref.Familiar()+":"+ref.Tag())
	}
	return append(lines, "Untagged: "+ref.Familiar()+"@"+e.Digest.String())
}

// Prune is docker image prune's deletion: under one hold of the lock, every
// image pick chooses loses all its names and goes, with the layers no
// remaining image lists (a layer two images share stays as long as one of
// them does). pick sees each image as it is under the lock, so a pull
// that tagged it meanwhile is seen. It returns docker rmi's lines and the
// bytes of the layers deleted.
func (s *Store) Prune(pick func(img *Image) bool) (lines []string, reclaimed int64, err error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, 0, err
	}
	defer unlock()
	ix, err := s.readIndex()
	if err != nil {
		return nil, 0, err
	}
	var gone []digest.Digest
	for _, id := range slices.Sorted(maps.Keys(ix.Images)) {
		img, err := s.load(ix, id)
		if err != nil {
			return nil, 0, err
		}
		if !pick(img) {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(ix.Refs)) {
			if ix.Refs[k].Image == id {
				lines = append(lines, untagRef(ix, k)...)
			}
		}
		delete(ix.Images, id)
		gone = append(gone, id)
	}
	if len(gone) == 0 {
		return nil, 0, nil
	}
	if err := s.writeIndex(ix); err != nil { // first, as in Remove
		return nil, 0, err
	}
	for _, id := range gone {
		lines = append(lines, "Deleted: "+id.String())
	}
	removed, reclaimed, err := s.collect(ix, gone)
	return append(lines, removed...), reclaimed, err
}

// collect deletes the blobs of the images ids (gone from the index) and
// the layers no remaining image uses, with the lock held, and any blob
// nothing references. It returns a "Deleted: <diffID>" line per layer
// deleted and the bytes those layers held.
func (s *Store) collect(ix *index, ids []digest.Digest) ([]string, int64, error) {
	var lines []string
	var reclaimed int64
	var errs []error
	keep := map[digest.Digest]bool{}
	for other, e := range ix.Images {
		keep[other], keep[e.Manifest] = true, true
		if raw, err := s.readBlob(other); err == nil {
			var cfg ocispec.Image
			if json.Unmarshal(raw, &cfg) == nil {
				for _, d := range cfg.RootFS.DiffIDs {
					keep[d] = true
				}
			}
		} else {
			// An unreadable config: keep everything rather than guess.
			return lines, 0, fmt.Errorf("image %s: %w", other, err)
		}
	}
	for _, id := range ids {
		var diffIDs []digest.Digest
		if raw, err := s.readBlob(id); err == nil {
			var cfg ocispec.Image
			if json.Unmarshal(raw, &cfg) == nil {
				diffIDs = cfg.RootFS.DiffIDs
			}
		}
		for _, d := range slices.Backward(diffIDs) {
			if keep[d] {
				continue
			}
			keep[d] = true // a layer twice in one image, or in two of ids: once
			size := s.layers.Size(d)
			if err := s.layers.Remove(d); err != nil {
				errs = append(errs, err)
				continue
			}
			reclaimed += size
			lines = append(lines, "Deleted: "+d.String())
		}
	}
	// Blobs: these images', and any other that no image references (left
	// by an earlier crash). Temporary files went with sweep, under the lock.
	entries, err := os.ReadDir(filepath.Join(s.dir, "blobs", "sha256"))
	if err != nil {
		return lines, reclaimed, errors.Join(append(errs, err)...)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if d := digest.NewDigestFromEncoded(digest.SHA256, name); !keep[d] {
			if err := os.Remove(s.blobPath(d)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return lines, reclaimed, errors.Join(errs...)
}

// atEOF calls fn once, when r first returns io.EOF.
type atEOF struct {
	r    io.Reader
	fn   func()
	done bool
}

func (a *atEOF) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err == io.EOF && !a.done {
		a.done = true
		a.fn()
	}
	return n, err
}
