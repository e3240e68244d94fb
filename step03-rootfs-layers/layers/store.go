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
//	root/sha256/<hex>.tar-split.gz  the tar's headers and padding (see Tar)
//	root/l/<12 hex>           short link to ../sha256/<hex>, for mount data
//	root/locks/<hex>          flock: one unpack of a layer at a time, across processes
type Store struct {
	root string
	// Warn, when set, hears of the entries Unpack skipped rather than
	// failing the layer (see ApplyWarn). Set it before the first Unpack.
	Warn func(diffID digest.Digest, entry string, err error)
}

// NewStore opens (creating) a layer store at root. root and its
// directories are 0700, fixed on every open (see Private): the layers hold
// setuid-root files that no other local user may reach.
func NewStore(root string) (*Store, error) {
	for _, d := range []string{"", "sha256", "l", "locks"} {
		if err := Private(filepath.Join(root, d)); err != nil {
			return nil, fmt.Errorf("layer store: %w", err)
		}
	}
	return &Store{root: root}, nil
}

// Private makes dir (and missing parents) and sets its mode to 0700 if it
// is anything else: mkdir(2)'s mode applies only to a directory it
// creates, so a directory an older version made 0755 needs the chmod(2).
func Private(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	return nil
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

// Has reports whether diffID is unpacked: its short link, made last, is
// there and points to it.
func (s *Store) Has(diffID digest.Digest) bool {
	if diffID.Validate() != nil {
		return false // and no short link to compute from it
	}
	target, err := os.Readlink(s.Link(diffID))
	return err == nil && target == linkTarget(diffID)
}

func linkTarget(diffID digest.Digest) string {
	return filepath.Join("..", string(diffID.Algorithm()), diffID.Encoded())
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
	var warn func(string, error)
	if s.Warn != nil {
		warn = func(entry string, err error) { s.Warn(diffID, entry, err) }
	}
	layout, err := newLayoutFile(s.layoutPath(diffID))
	if err != nil {
		return "", fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	defer layout.discard()
	if err := unpack(dir, compressed, diffID, warn, layout); err != nil {
		return "", err
	}
	if err := layout.commit(); err != nil {
		return "", fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	size, err := DirSize(dir)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(dir+".size", []byte(strconv.FormatInt(size, 10)), 0o644); err != nil {
		return "", err
	}
	// The link goes last: Has means the layer is complete.
	if err := s.link(diffID); err != nil {
		return "", fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	return dir, nil
}

// link makes the short link l/<12 hex> -> ../sha256/<hex>. Two diffIDs
// that share their first 12 hex digits would share a link: refuse the
// second rather than mount the wrong layer.
func (s *Store) link(diffID digest.Digest) error {
	link := s.Link(diffID)
	target := linkTarget(diffID)
	err := os.Symlink(target, link)
	if errors.Is(err, fs.ErrExist) {
		if got, _ := os.Readlink(link); got == target {
			return nil
		}
		return fmt.Errorf("short link %s is taken by another layer", link)
	}
	return err
}

// Remove deletes an unpacked layer. The caller makes sure no image or
// container still uses it.
func (s *Store) Remove(diffID digest.Digest) error {
	unlock, err := s.lock(diffID)
	if err != nil {
		return err
	}
	defer unlock()
	if s.Has(diffID) { // the link might be another layer's (see link)
		if err := os.Remove(s.Link(diffID)); err != nil {
			return fmt.Errorf("remove layer %s: %w", diffID, err)
		}
	}
	os.Remove(s.Path(diffID) + ".size")
	os.Remove(s.layoutPath(diffID))
	if err := os.RemoveAll(s.Path(diffID)); err != nil {
		return fmt.Errorf("remove layer %s: %w", diffID, err)
	}
	// A process waiting on this lock file finds, once it has it, that the
	// file is gone, and locks the new one instead (see lockFile).
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
	unlock, _, err := lockFile(filepath.Join(s.root, "locks", diffID.Encoded()), true)
	if err != nil {
		return nil, fmt.Errorf("lock layer %s: %w", diffID, err)
	}
	return unlock, nil
}

// lockFile takes an exclusive flock(2) on path (creating it), waiting for
// the holder when wait is set; without wait, ok is false if someone holds
// it. Once locked, it checks that path still names the file it locked:
// Remove unlinks a layer's lock file while holding it, and a process that
// was waiting on the old file would otherwise hold a lock on a file nobody
// else can open, excluding no one (and Sweep would take the live unpack's
// temporary directory for a dead one's).
func lockFile(path string, wait bool) (unlock func(), ok bool, err error) {
	how := unix.LOCK_EX
	if !wait {
		how |= unix.LOCK_NB
	}
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, false, err
		}
		for {
			err = unix.Flock(int(f.Fd()), how)
			if err != unix.EINTR {
				break
			}
		}
		if err == unix.EWOULDBLOCK && !wait {
			f.Close()
			return nil, false, nil
		}
		if err != nil {
			f.Close()
			return nil, false, &os.PathError{Op: "flock", Path: path, Err: err}
		}
		var held, named unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(path, &named) == nil && held.Dev == named.Dev && held.Ino == named.Ino {
			return func() { f.Close() }, true, nil // close(2) drops the lock
		}
		f.Close() // unlinked or replaced meanwhile: lock the file there now
	}
}

// Sweep removes what unpacks that died left behind: the temporary
// directories ".<hex>.tmp-*" that Unpack renames into place only when a
// layer is whole. Unpack holds the layer's lock (locks/<hex>) from before
// it creates its temporary directory until after it renamed or removed it,
// and the kernel drops a flock when its holder dies, SIGKILL included. So
// a temporary directory whose lock Sweep takes without waiting belongs to
// no living process; one whose lock is held is being written now and is
// kept. It returns the directories it removed.
func (s *Store) Sweep() ([]string, error) {
	dir := filepath.Join(s.root, "sha256")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sweep layer store: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		hex, _, isTemp := strings.Cut(strings.TrimPrefix(e.Name(), "."), ".tmp-")
		d := digest.NewDigestFromEncoded(digest.SHA256, hex)
		if !strings.HasPrefix(e.Name(), ".") || !isTemp || d.Validate() != nil {
			continue
		}
		unlock, ok, err := lockFile(filepath.Join(s.root, "locks", hex), false)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue // an unpack is writing it
		}
		err = os.RemoveAll(filepath.Join(dir, e.Name()))
		unlock()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, filepath.Join(dir, e.Name()))
	}
	return removed, errors.Join(errs...)
}

// DirSize adds up the sizes of the regular files under dir: a layer's
// size as docker images counts it, and a container's writable layer's
// (its overlay upperdir) as docker ps -s does.
func DirSize(dir string) (int64, error) {
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
