package layers

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"minidocker/step02-namespaces/namespaces"
)

// Changes lets fn change the files of an image, the layers diffIDs (bottom
// first; none for an empty image), the way a container would: through an
// overlay whose upper directory is dir/upper, so that afterwards dir/upper
// holds exactly what fn changed, in overlay form, for Diff. A build's COPY
// is this: files written into the image's tree, then the upper directory
// made a layer.
//
// The overlay is mounted in a mount namespace of its own, on one OS thread
// that fn runs on and that dies afterwards (it is never handed back to Go's
// scheduler): no other process, and no other thread of this one, ever sees
// the mount, and nothing is left mounted whatever fn does. fn gets the
// merged tree as an os.Root, so none of its paths can leave it, and must
// do its work in the calling goroutine.
func (s *Store) Changes(diffIDs []digest.Digest, dir string, fn func(root *os.Root) error) error {
	upper, work, merged := filepath.Join(dir, "upper"), filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("changes: %w", err)
		}
	}
	lowers := s.Lowers(diffIDs)
	if len(lowers) == 0 {
		// FROM scratch: overlayfs wants a lower layer; an empty one.
		empty := filepath.Join(dir, "empty")
		if err := os.MkdirAll(empty, 0o755); err != nil {
			return fmt.Errorf("changes: %w", err)
		}
		lowers = []string{empty}
	}
	return onThrowawayThread(func() error { return changesHere(lowers, upper, work, merged, fn) })
}

// onThrowawayThread runs fn on an OS thread of its own that ends with it:
// fn may change what belongs to one thread (its mount namespace, its
// working directory) and nothing else in the process sees it. Go ends a
// thread whose goroutine exits locked to it, except the process's main
// thread, which it cannot end (its state would stay changed, and /proc/self
// describes it): so fn never runs there.
func onThrowawayThread(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // no Unlock: the thread dies with this goroutine
		if unix.Gettid() != unix.Getpid() {
			errc <- fn()
			return
		}
		// The main thread: hold it, so the goroutine below cannot be
		// scheduled on it, run fn there, and give the main thread back as
		// it was.
		inner := make(chan error, 1)
		go func() {
			runtime.LockOSThread()
			inner <- fn()
		}()
		err := <-inner
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

func changesHere(lowers []string, upper, work, merged string, fn func(root *os.Root) error) error {
	if err := unix.Unshare(unix.CLONE_NEWNS | unix.CLONE_FS); err != nil {
		return fmt.Errorf("changes: unshare(CLONE_NEWNS): %w", err)
	}
	// Private first: the overlay must not propagate to the host's
	// namespace through a shared /.
	if err := namespaces.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	here := func(dir, source, target, fstype string, flags uintptr, data string) error {
		if err := unix.Chdir(dir); err != nil {
			return &os.PathError{Op: "chdir", Path: dir, Err: err}
		}
		return namespaces.Mount(source, target, fstype, flags, data)
	}
	if err := mountOverlay(merged, lowers, upper, work, here); err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	defer unix.Unmount(merged, unix.MNT_DETACH)
	root, err := os.OpenRoot(merged)
	if err != nil {
		return fmt.Errorf("changes: %w", err)
	}
	defer root.Close()
	return fn(root)
}

// HasPath reports whether the image of layers diffIDs (bottom first) has name
// (a path relative to its root) in its merged view: the topmost layer that
// says anything about name decides, a whiteout saying no. A directory of a
// lower layer hidden by an opaque directory above is not seen.
func (s *Store) HasPath(diffIDs []digest.Digest, name string) bool {
	name = filepath.Clean(name)
	for i := len(diffIDs) - 1; i >= 0; i-- {
		layer := s.Path(diffIDs[i])
		// An opaque directory on the way hides everything below it.
		for dir := filepath.Dir(name); dir != "."; dir = filepath.Dir(dir) {
			if v, err := lgetxattr(filepath.Join(layer, dir), OverlayOpaqueXattr); err == nil && v == "y" {
				var st unix.Stat_t
				return unix.Lstat(filepath.Join(layer, name), &st) == nil && !(st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0)
			}
		}
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(layer, name), &st); err == nil {
			return !(st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0)
		}
	}
	return false
}
