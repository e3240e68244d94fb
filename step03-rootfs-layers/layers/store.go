package layers

import (
	_ "crypto/sha256" // registers sha256 for go-digest
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// Store keeps unpacked layers under a root directory, one directory per
// diffID, shared by every image that has the layer:
//
//	root/sha256/<hex>/        the layer's files (an overlay lowerdir)
//	root/sha256/<hex>.size    bytes of file content, for docker images' SIZE
//	root/l/<12 hex>           short link to ../sha256/<hex>, for mount data
//	root/locks/<hex>          flock: one unpack of a layer at a time, across processes
type Store struct {
	root string
}

// NewStore opens (creating) a layer store at root.
func NewStore(root string) (*Store, error) {
	for _, d := range []string{"sha256", "l", "locks"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, fmt.Errorf("layer store: %w", err)
		}
	}
	return &Store{root: root}, nil
}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

// Path is where the layer diffID is (or would be) unpacked.
func (s *Store) Path(diffID digest.Digest) string {
	return filepath.Join(s.root, string(diffID.Algorithm()), diffID.Encoded())
}

// Link is the layer's short link, the path used in lowerdir.
func (s *Store) Link(diffID digest.Digest) string {
	return filepath.Join(s.root, "l", shortID(diffID))
}

func shortID(d digest.Digest) string { return d.Encoded()[:12] }

// Has reports whether diffID is unpacked.
func (s *Store) Has(diffID digest.Digest) bool {
	_, err := os.Lstat(s.Link(diffID))
	return err == nil
}

// Size is the content size recorded when the layer was unpacked.
func (s *Store) Size(diffID digest.Digest) int64 {
	b, err := os.ReadFile(s.Path(diffID) + ".size")
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

// Unpack unpacks a compressed layer blob as diffID unless it is there
// already (then compressed is not read), and returns the layer's directory.
// Two processes unpacking the same layer take turns; the second finds it
// done.
func (s *Store) Unpack(diffID digest.Digest, compressed io.Reader) (string, error) {
	if err := diffID.Validate(); err != nil {
		return "", fmt.Errorf("unpack layer: diffID %q: %w", diffID, err)
	}
	unlock, err := s.lock(diffID)
	if err != nil {
		return "", err
	}
	defer unlock()
	dir := s.Path(diffID)
	if s.Has(diffID) {
		return dir, nil
	}
	if err := Unpack(dir, compressed, diffID); err != nil {
		return "", err
	}
	size, err := dirSize(dir)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(dir+".size", []byte(strconv.FormatInt(size, 10)), 0o644); err != nil {
		return "", err
	}
	// The link goes last: Has means the layer is complete.
	link := s.Link(diffID)
	if err := os.Symlink(filepath.Join("..", string(diffID.Algorithm()), diffID.Encoded()), link); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("unpack layer %s: link: %w", diffID, err)
	}
	return dir, nil
}

// Remove deletes an unpacked layer. The caller makes sure no image or
// container still uses it.
func (s *Store) Remove(diffID digest.Digest) error {
	unlock, err := s.lock(diffID)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(s.Link(diffID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove layer %s: %w", diffID, err)
	}
	os.Remove(s.Path(diffID) + ".size")
	if err := os.RemoveAll(s.Path(diffID)); err != nil {
		return fmt.Errorf("remove layer %s: %w", diffID, err)
	}
	os.Remove(filepath.Join(s.root, "locks", diffID.Encoded()))
	return nil
}

// Lowers returns the lowerdir list for an image's layers, given bottom
// first as the image lists them; overlayfs wants the topmost first.
func (s *Store) Lowers(diffIDs []digest.Digest) []string {
	lowers := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		lowers[i] = s.Link(d)
	}
	slices.Reverse(lowers)
	return lowers
}

// Mount mounts the overlay of the image's layers (bottom first) under
// upper on target.
func (s *Store) Mount(target string, diffIDs []digest.Digest, upper, work string) error {
	return MountOverlay(target, s.Lowers(diffIDs), upper, work)
}

func (s *Store) lock(diffID digest.Digest) (func(), error) {
	f, err := os.OpenFile(filepath.Join(s.root, "locks", diffID.Encoded()), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock layer %s: %w", diffID, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock layer %s: %w", diffID, err)
	}
	return func() { f.Close() }, nil
}

// dirSize adds up the sizes of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			size += fi.Size()
		}
		return err
	})
	return size, err
}
