package layers

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Apply extracts the uncompressed tar stream r into dir, an existing
// directory, and returns the number of bytes of file content written.
// Whiteouts are converted to overlayfs' form (see the package comment).
// Every path is resolved inside dir with os.Root: an entry that would
// write outside is an error naming the entry, and nothing outside is
// touched.
func Apply(dir string, r io.Reader) (int64, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, fmt.Errorf("apply layer: %w", err)
	}
	defer root.Close()
	a := &applier{root: root, made: map[string]bool{}}
	n, err := a.apply(tar.NewReader(r))
	if err != nil {
		return n, fmt.Errorf("apply layer: %w", err)
	}
	return n, nil
}

type applier struct {
	root *os.Root
	// dirs get their times set last: creating entries inside a directory
	// changes its mtime.
	dirs []*tar.Header
	// made remembers parent directories known to exist, so that MkdirAll
	// runs once per directory rather than once per entry. Anything that
	// removes entries clears it.
	made map[string]bool
}

func (a *applier) apply(tr *tar.Reader) (int64, error) {
	var written int64
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return written, fmt.Errorf("read tar: %w", err)
		}
		name, err := CleanName(hdr.Name)
		if err != nil {
			return written, err
		}
		if name == "." {
			continue // the layer's root itself
		}
		n, err := a.entry(name, hdr, tr)
		written += n
		if err != nil {
			return written, fmt.Errorf("entry %q: %w", hdr.Name, escape(err))
		}
	}
	for i := len(a.dirs) - 1; i >= 0; i-- {
		h := a.dirs[i]
		if err := a.root.Chtimes(h.Name, atime(h), h.ModTime); err != nil {
			return written, fmt.Errorf("entry %q: %w", h.Name, err)
		}
	}
	return written, nil
}

// escape marks os.Root's refusal with our sentinel.
func escape(err error) error {
	if err != nil && strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%w: %w", ErrEscape, err)
	}
	return err
}

func atime(h *tar.Header) time.Time {
	if h.AccessTime.IsZero() {
		return h.ModTime
	}
	return h.AccessTime
}

// entry creates one entry at name (cleaned) inside the root.
func (a *applier) entry(name string, hdr *tar.Header, content io.Reader) (int64, error) {
	kind, target := Classify(name)
	if parent := path.Dir(target); parent != "." && !a.made[parent] {
		if err := a.root.MkdirAll(parent, 0o755); err != nil {
			return 0, err
		}
		a.made[parent] = true
	}
	switch kind {
	case Opaque:
		if err := a.root.MkdirAll(target, 0o755); err != nil {
			return 0, err
		}
		return 0, a.setXattr(target, OverlayOpaqueXattr, "y")
	case Whiteout:
		if err := a.removeAll(target); err != nil {
			return 0, err
		}
		return 0, a.mknod(target, unix.S_IFCHR, 0)
	}

	if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA {
		return a.regular(name, hdr, content)
	}
	// An entry replaces what an earlier entry of this layer put there,
	// except that a directory over a directory only updates it.
	if fi, err := a.root.Lstat(name); err == nil {
		if !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			if err := a.removeAll(name); err != nil {
				return 0, err
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}

	var written int64
	mode := hdr.FileInfo().Mode()
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := a.root.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return 0, err
		}
	case tar.TypeSymlink:
		// The target is stored as it is: it is only ever resolved inside
		// the container, and our own writes go through os.Root.
		if err := a.root.Symlink(hdr.Linkname, name); err != nil {
			return 0, err
		}
	case tar.TypeLink:
		target, err := CleanName(hdr.Linkname)
		if err != nil {
			return 0, fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		if err := a.root.Link(target, name); err != nil {
			return 0, fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		return 0, nil // a hard link shares the target's metadata
	case tar.TypeChar:
		if err := a.mknod(name, unix.S_IFCHR, unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))); err != nil {
			return 0, err
		}
	case tar.TypeBlock:
		if err := a.mknod(name, unix.S_IFBLK, unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))); err != nil {
			return 0, err
		}
	case tar.TypeFifo:
		if err := a.mknod(name, unix.S_IFIFO, 0); err != nil {
			return 0, err
		}
	case tar.TypeXGlobalHeader:
		return 0, nil
	default:
		return 0, fmt.Errorf("unsupported tar type %q", hdr.Typeflag)
	}
	return written, a.metadata(name, hdr, mode)
}

func (a *applier) removeAll(name string) error {
	clear(a.made)
	return a.root.RemoveAll(name)
}

// regular creates a file and sets its metadata through the open file
// descriptor: the most common entry, so it avoids resolving the path again
// for each attribute. An existing entry (from earlier in this layer) is
// replaced.
func (a *applier) regular(name string, hdr *tar.Header, content io.Reader) (int64, error) {
	f, err := a.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		if err := a.removeAll(name); err != nil {
			return 0, err
		}
		f, err = a.root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	written, err := io.Copy(f, content)
	if err != nil {
		return written, err
	}
	fd := int(f.Fd())
	if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
		return written, &os.PathError{Op: "fchown", Path: name, Err: err}
	}
	if err := f.Chmod(hdr.FileInfo().Mode()); err != nil {
		return written, err
	}
	for key, value := range hdr.PAXRecords {
		if attr, ok := strings.CutPrefix(key, "SCHILY.xattr."); ok {
			if err := unix.Fsetxattr(fd, attr, []byte(value), 0); err != nil {
				return written, &os.PathError{Op: "setxattr " + attr, Path: name, Err: err}
			}
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime(hdr).UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, fdPath(fd), ts, 0); err != nil {
		return written, &os.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return written, f.Close()
}

func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// metadata sets owner, then mode (chown clears setuid bits), xattrs and
// times. Symlinks keep their owner and times only.
func (a *applier) metadata(name string, hdr *tar.Header, mode fs.FileMode) error {
	if err := a.root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return a.lutimes(name, hdr)
	}
	if err := a.root.Chmod(name, mode); err != nil {
		return err
	}
	// Only files and directories: opening a fifo or a device to set an
	// xattr on it would block or touch the device.
	for key, value := range hdr.PAXRecords {
		if hdr.Typeflag != tar.TypeDir && hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA {
			break
		}
		if attr, ok := strings.CutPrefix(key, "SCHILY.xattr."); ok {
			if err := a.setXattr(name, attr, value); err != nil {
				return err
			}
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		h := *hdr
		h.Name = name
		a.dirs = append(a.dirs, &h)
		return nil
	}
	return a.root.Chtimes(name, atime(hdr), hdr.ModTime)
}

// parent opens the directory that holds name, for the *at syscalls that
// os.Root does not wrap (mknodat, utimensat on a symlink).
func (a *applier) parent(name string) (*os.File, string, error) {
	f, err := a.root.OpenFile(path.Dir(name), os.O_RDONLY|unix.O_DIRECTORY, 0)
	return f, path.Base(name), err
}

func (a *applier) mknod(name string, typ uint32, dev uint64) error {
	dir, base, err := a.parent(name)
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := unix.Mknodat(int(dir.Fd()), base, typ|0o600, int(dev)); err != nil {
		return &os.PathError{Op: "mknodat", Path: name, Err: err}
	}
	return nil
}

func (a *applier) lutimes(name string, hdr *tar.Header) error {
	dir, base, err := a.parent(name)
	if err != nil {
		return err
	}
	defer dir.Close()
	ts := []unix.Timespec{unix.NsecToTimespec(atime(hdr).UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	if err := unix.UtimesNanoAt(int(dir.Fd()), base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return nil
}

func (a *applier) setXattr(name, attr, value string) error {
	f, err := a.root.OpenFile(name, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), attr, []byte(value), 0); err != nil {
		return &os.PathError{Op: "setxattr " + attr, Path: name, Err: err}
	}
	return nil
}
