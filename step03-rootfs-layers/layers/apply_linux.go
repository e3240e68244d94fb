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
// touched. Entries Apply may skip (see ApplyWarn) are skipped silently.
func Apply(dir string, r io.Reader) (int64, error) {
	return ApplyWarn(dir, r, nil)
}

// ApplyWarn is Apply that reports, through warn (which may be nil), the
// entries it skipped rather than failing the layer, as Docker does: device
// nodes and fifos that mknod(2) refuses with EPERM (no CAP_MKNOD, as in a
// user namespace), and extended attributes the filesystem refuses with
// EPERM or ENOTSUP. And, unlike Docker, every xattr of the trusted.*
// namespace, which is never applied (ErrTrustedXattr; see imageXattrs).
func ApplyWarn(dir string, r io.Reader, warn func(entry string, err error)) (int64, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return 0, fmt.Errorf("apply layer: %w", err)
	}
	defer root.Close()
	if warn == nil {
		warn = func(string, error) {}
	}
	a := &applier{root: root, warn: warn, dirs: map[string]*tar.Header{}, made: map[string]bool{}, whiteouts: map[string]bool{},
		parents: map[string]*os.File{}, buf: make([]byte, 128<<10)}
	defer a.closeParents()
	n, err := a.apply(tar.NewReader(r))
	if err != nil {
		return n, fmt.Errorf("apply layer: %w", err)
	}
	return n, nil
}

type applier struct {
	root *os.Root
	warn func(entry string, err error)
	// dirs get their times set last: creating entries inside a directory
	// changes its mtime.
	dirs map[string]*tar.Header
	// made remembers parent directories known to exist, so that MkdirAll
	// runs once per directory rather than once per entry.
	made map[string]bool
	// whiteouts are the names this layer turned into whiteout devices: a
	// directory that later replaces one must hide the lower layers' directory.
	whiteouts map[string]bool
	// parents are directories opened for the *at syscalls, by name: the
	// descriptor saves resolving the path again for every entry. Anything
	// that removes entries closes them all.
	parents map[string]*os.File
	// buf is the copy buffer, reused from file to file.
	buf []byte
}

// maxParents bounds the open directory descriptors.
const maxParents = 64

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
		if name == "." || hdr.Typeflag == tar.TypeXGlobalHeader {
			continue // the layer's root itself, or pax defaults
		}
		n, err := a.entry(name, hdr, tr)
		written += n
		if err != nil {
			return written, fmt.Errorf("entry %q: %w", hdr.Name, escape(err))
		}
	}
	for name, h := range a.dirs {
		// Still a directory? A later entry may have replaced it.
		if fi, err := a.root.Lstat(name); err != nil || !fi.IsDir() {
			continue
		}
		if err := a.lutimes(name, h); err != nil {
			return written, fmt.Errorf("entry %q: %w", h.Name, escape(err))
		}
	}
	return written, nil
}

// escape marks os.Root's refusal with our sentinel. os.Root's own error
// (errPathEscapes) is not exported; its text is all there is to match.
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

func timespecs(h *tar.Header) []unix.Timespec {
	return []unix.Timespec{unix.NsecToTimespec(atime(h).UnixNano()), unix.NsecToTimespec(h.ModTime.UnixNano())}
}

// entry creates one entry at name (cleaned) inside the root.
func (a *applier) entry(name string, hdr *tar.Header, content io.Reader) (int64, error) {
	kind, target := Classify(name)
	if parent := path.Dir(target); parent != "." && !a.made[parent] {
		if err := a.whiteoutsToDirs(parent); err != nil {
			return 0, err
		}
		if err := a.root.MkdirAll(parent, 0o755); err != nil {
			return 0, err
		}
		a.made[parent] = true
	}
	switch kind {
	case Opaque:
		return 0, a.opaque(target)
	case Whiteout:
		return 0, a.whiteout(target)
	}

	if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeGNUSparse {
		return a.regular(name, hdr, content) // archive/tar expands sparse files
	}
	// An entry replaces what an earlier entry of this layer put there,
	// except that a directory over a directory only updates it (tar and
	// Docker do the same).
	wasWhiteout := a.whiteouts[name]
	if fi, err := a.root.Lstat(name); err == nil {
		if !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
			if err := a.removeAll(name); err != nil {
				return 0, err
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}

	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := a.root.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return 0, err
		}
		if wasWhiteout {
			// ".wh.NAME" then "NAME/": the lower layers' NAME is deleted
			// and this layer has a new directory there. For overlayfs that
			// is an opaque directory, not one merged with the lower one.
			if err := a.setXattr(name, OverlayOpaqueXattr, "y"); err != nil {
				return 0, err
			}
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
		// linkat(2) without AT_SYMLINK_FOLLOW: a link to a symlink links
		// the symlink itself, never what it points to.
		if err := a.root.Link(target, name); err != nil {
			return 0, fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		return 0, nil // a hard link shares the target's metadata
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		typ := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		err := a.mknod(name, typ|0o600, unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
		if errors.Is(err, unix.EPERM) {
			a.warn(hdr.Name, err) // no CAP_MKNOD: a layer is still usable without its device nodes
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("unsupported tar type %q", hdr.Typeflag)
	}
	delete(a.whiteouts, name)
	return 0, a.metadata(name, hdr)
}

// whiteout converts ".wh.NAME" into overlayfs' whiteout: a character
// device 0/0 at NAME. A whiteout applies only to the lower layers
// (image-spec layer.md), so when this layer has NAME itself, NAME already
// hides the lower one; a directory is made opaque so that it does not merge
// with the lower layers' directory.
func (a *applier) whiteout(name string) error {
	fi, err := a.root.Lstat(name)
	switch {
	case err == nil && fi.IsDir():
		return a.setXattr(name, OverlayOpaqueXattr, "y")
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	// exercise:begin 03-whiteout Nothing is there yet: leave overlayfs's whiteout, a character device 0/0 (a.mknod with unix.S_IFCHR and mode 0), and note name in a.whiteouts
	// mknod of the 0/0 whiteout device needs no CAP_MKNOD (Linux 5.8+).
	// Mode 0, as overlayfs makes its own whiteouts.
	if err := a.mknod(name, unix.S_IFCHR, 0); err != nil {
		return err
	}
	a.whiteouts[name] = true
	return nil
	// exercise:end
}

// opaque marks dir opaque: overlayfs shows none of the lower layers' dir.
// The directory's own header may come before or after the marker.
func (a *applier) opaque(dir string) error {
	fi, err := a.root.Lstat(dir)
	switch {
	case err == nil && !fi.IsDir() && a.whiteouts[dir]:
		// ".wh.NAME" then "NAME/.wh..wh..opq": NAME is a new, opaque directory.
		if err := a.removeAll(dir); err != nil {
			return err
		}
	case err == nil && !fi.IsDir():
		return fmt.Errorf("opaque marker in %s, which is not a directory", dir)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := a.root.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return a.setXattr(dir, OverlayOpaqueXattr, "y")
}

// whiteoutsToDirs handles ".wh.NAME" followed by "NAME/x" without a
// "NAME/" entry between them: the whiteout device this layer made at NAME
// (or above) becomes an opaque directory, so that x can go in it.
func (a *applier) whiteoutsToDirs(dir string) error {
	for w := range a.whiteouts {
		if dir == w || strings.HasPrefix(dir, w+"/") {
			if err := a.removeAll(w); err != nil {
				return err
			}
			if err := a.opaque(w); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeAll removes an entry of this layer that a later one replaces.
func (a *applier) removeAll(name string) error {
	clear(a.made)
	a.closeParents()
	for w := range a.whiteouts {
		if w == name || strings.HasPrefix(w, name+"/") {
			delete(a.whiteouts, w)
		}
	}
	return a.root.RemoveAll(name)
}

// openParent returns a descriptor of the directory that holds name and
// name's last component, for the *at syscalls. The directory is opened
// through os.Root, so it is inside; the last component is one name that
// the *at calls below never follow as a symlink, so they stay inside too.
func (a *applier) openParent(name string) (*os.File, string, error) {
	dir, base := path.Split(name)
	dir = path.Clean(dir)
	if f, ok := a.parents[dir]; ok {
		return f, base, nil
	}
	if len(a.parents) >= maxParents {
		a.closeParents()
	}
	f, err := a.root.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, "", err
	}
	a.parents[dir] = f
	return f, base, nil
}

func (a *applier) closeParents() {
	for dir, f := range a.parents {
		f.Close()
		delete(a.parents, dir)
	}
}

// regular creates a file and sets its metadata through the open file
// descriptor: the most common entry, so it avoids resolving the path again
// for each attribute. An existing entry (from earlier in this layer) is
// replaced.
func (a *applier) regular(name string, hdr *tar.Header, content io.Reader) (int64, error) {
	const flags = unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	dir, base, err := a.openParent(name)
	if err != nil {
		return 0, err
	}
	fd, err := unix.Openat(int(dir.Fd()), base, flags, 0o600)
	if err == unix.EEXIST {
		if err := a.removeAll(name); err != nil {
			return 0, err
		}
		if dir, base, err = a.openParent(name); err != nil {
			return 0, err
		}
		fd, err = unix.Openat(int(dir.Fd()), base, flags, 0o600)
	}
	if err != nil {
		return 0, &os.PathError{Op: "openat", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	// Through a plain io.Writer: os.File's ReadFrom would allocate a new
	// buffer for every file.
	written, err := io.CopyBuffer(struct{ io.Writer }{f}, content, a.buf)
	if err != nil {
		return written, err
	}
	// Owner first: chown(2) clears the setuid and setgid bits, and the
	// security.capability xattr.
	if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
		return written, &os.PathError{Op: "fchown", Path: name, Err: err}
	}
	if err := f.Chmod(hdr.FileInfo().Mode()); err != nil {
		return written, err
	}
	for attr, value := range a.imageXattrs(hdr) {
		if err := unix.Fsetxattr(fd, attr, []byte(value), 0); err != nil {
			if err := a.xattrFailed(hdr, name, attr, err); err != nil {
				return written, err
			}
		}
	}
	if err := unix.UtimesNanoAt(fd, "", timespecs(hdr), unix.AT_EMPTY_PATH); err != nil {
		return written, &os.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return written, f.Close()
}

// xattrs are the extended attributes of an entry: PAX records
// "SCHILY.xattr.<name>", as GNU tar and Go's archive/tar write them.
func xattrs(hdr *tar.Header) map[string]string {
	var out map[string]string
	for key, value := range hdr.PAXRecords {
		if attr, ok := strings.CutPrefix(key, "SCHILY.xattr."); ok {
			if out == nil {
				out = map[string]string{}
			}
			out[attr] = value
		}
	}
	return out
}

// imageXattrs are the xattrs of an entry that a layer may set: all but
// those of the trusted.* namespace, each of which is reported to warn.
//
// trusted.* is the namespace only CAP_SYS_ADMIN may read or write, kept
// for the kernel and privileged daemons; overlayfs stores its own metadata
// there: trusted.overlay.opaque (hide the lower layers' directory),
// .redirect (this directory shows another lower path's content), .metacopy
// (the data lives in another lower file), .origin, .upper... A layer that
// carried them would be steering how the overlay of someone else's layers
// is merged, rather than describing its own files. Our own opaque markers
// come from the image-spec's ".wh..wh..opq" (see opaque), never from the
// image's xattrs. moby's archive.createTarFile applies every
// SCHILY.xattr.* record (tolerating only EPERM and ENOTSUP), and so does
// containerd's; both skip trusted.* only when copying a directory up. We
// refuse them when unpacking. security.capability (file capabilities:
// busybox's ping, say; bounded by the container's own capability sets)
// and user.* are applied as Docker does.
func (a *applier) imageXattrs(hdr *tar.Header) map[string]string {
	all := xattrs(hdr)
	for attr := range all {
		if strings.HasPrefix(attr, "trusted.") {
			a.warn(hdr.Name, fmt.Errorf("xattr %s: %w", attr, ErrTrustedXattr))
			delete(all, attr)
		}
	}
	return all
}

// xattrFailed decides whether an xattr the kernel refused fails the layer.
// Like Docker, EPERM and ENOTSUP are warnings: user.* xattrs are not
// allowed on symlinks and devices, and not every filesystem has them.
func (a *applier) xattrFailed(hdr *tar.Header, name, attr string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENOTSUP) {
		a.warn(hdr.Name, &os.PathError{Op: "setxattr " + attr, Path: name, Err: err})
		return nil
	}
	return &os.PathError{Op: "setxattr " + attr, Path: name, Err: err}
}

// metadata sets owner, then mode (chown clears setuid bits), xattrs and
// times. Symlinks have no mode of their own.
func (a *applier) metadata(name string, hdr *tar.Header) error {
	if err := a.root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeSymlink {
		if err := a.root.Chmod(name, hdr.FileInfo().Mode()); err != nil {
			return err
		}
	}
	for attr, value := range a.imageXattrs(hdr) {
		if err := a.lsetxattr(name, attr, value); err != nil {
			if err := a.xattrFailed(hdr, name, attr, err); err != nil {
				return err
			}
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		h := *hdr
		a.dirs[name] = &h
		return nil
	}
	return a.lutimes(name, hdr)
}

// mknod makes a device node or fifo; mode holds the S_IF* type.
func (a *applier) mknod(name string, mode uint32, dev uint64) error {
	dir, base, err := a.openParent(name)
	if err != nil {
		return err
	}
	if err := unix.Mknodat(int(dir.Fd()), base, mode, int(dev)); err != nil {
		return &os.PathError{Op: "mknodat", Path: name, Err: err}
	}
	return nil
}

// lutimes sets the times of name itself, not of what a symlink points to.
func (a *applier) lutimes(name string, hdr *tar.Header) error {
	dir, base, err := a.openParent(name)
	if err != nil {
		return err
	}
	if err := unix.UtimesNanoAt(int(dir.Fd()), base, timespecs(hdr), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return nil
}

// lsetxattr sets an xattr on name itself (a symlink, device or fifo
// included, which cannot be opened for fsetxattr). There is no
// lsetxattrat(2) before Linux 6.13, so the path goes through the parent's
// descriptor in /proc/self/fd: the kernel resolves that magic link to the
// directory, and the last component is not followed.
func (a *applier) lsetxattr(name, attr, value string) error {
	dir, base, err := a.openParent(name)
	if err != nil {
		return err
	}
	p := "/proc/self/fd/" + strconv.Itoa(int(dir.Fd())) + "/" + base
	if err := unix.Lsetxattr(p, attr, []byte(value), 0); err != nil {
		return err // xattrFailed wraps it
	}
	return nil
}

// setXattr sets an xattr on a directory of this layer (the opaque marker).
func (a *applier) setXattr(name, attr, value string) error {
	f, err := a.root.OpenFile(name, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), attr, []byte(value), 0); err != nil {
		return &os.PathError{Op: "setxattr " + attr, Path: name, Err: err}
	}
	return nil
}
