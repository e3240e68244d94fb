package layers

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Diff writes the layer that upper describes, an overlay upper directory,
// to w as an uncompressed tar in the image-spec's form: the reverse of
// Apply. Overlayfs records a deletion as a character device 0/0 and a
// directory that hides the lower ones with the trusted.overlay.opaque
// xattr; the image-spec records them as ".wh.NAME" and
// "DIR/.wh..wh..opq" entries. Everything else is copied as it is.
//
// The output depends only on the files: entries in lexical order (a
// directory before what it holds), times in whole seconds and clamped to
// Epoch, no user or group names, no access or change times, hard links
// written once and then as links to the first name. It returns the bytes
// of file content written.
//
// Diff refuses an upper directory that uses overlayfs' redirect_dir or
// metacopy features (a renamed directory or a copied-up file whose data
// still lives below): reading only upper would then miss content, and a
// naive diff against the lower layers would be needed.
func Diff(w io.Writer, upper string, o DiffOptions) (int64, error) {
	root, err := os.OpenRoot(upper)
	if err != nil {
		return 0, fmt.Errorf("diff %s: %w", upper, err)
	}
	defer root.Close()
	d := &differ{root: root, tw: tar.NewWriter(w), epoch: o.Epoch, links: map[[2]uint64]string{}, buf: make([]byte, 128<<10)}
	err = fs.WalkDir(root.FS(), ".", func(name string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == "." {
			return nil
		}
		return d.entry(name)
	})
	if err == nil {
		err = d.tw.Close()
	}
	if err != nil {
		return d.written, fmt.Errorf("diff %s: %w", upper, err)
	}
	return d.written, nil
}

type differ struct {
	root    *os.Root
	tw      *tar.Writer
	epoch   *time.Time
	links   map[[2]uint64]string // (dev, inode) of a file with several names -> the first name written
	buf     []byte
	written int64
}

func (d *differ) entry(name string) error {
	full := filepath.Join(d.root.Name(), name)
	var st unix.Stat_t
	if err := unix.Lstat(full, &st); err != nil {
		return &os.PathError{Op: "lstat", Path: name, Err: err}
	}
	for _, attr := range []string{"trusted.overlay.redirect", "trusted.overlay.metacopy"} {
		if _, err := unix.Lgetxattr(full, attr, nil); err == nil {
			return fmt.Errorf("%s: %s: %w", name, attr, ErrOverlayFeature)
		}
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: d.clamp(time.Unix(st.Mtim.Unix())),
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		if st.Rdev == 0 {
			// Overlayfs' whiteout: NAME was deleted from the lower layers.
			dir, base := path.Split(name)
			hdr.Name = dir + WhiteoutPrefix + base
			hdr.Typeflag, hdr.Mode = tar.TypeReg, 0o600
			return d.write(hdr, nil)
		}
		hdr.Typeflag = tar.TypeChar
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFBLK:
		hdr.Typeflag = tar.TypeBlock
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	case unix.S_IFLNK:
		target, err := d.root.Readlink(name)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		if err := d.xattrs(hdr, full); err != nil {
			return err
		}
		if err := d.write(hdr, nil); err != nil {
			return err
		}
		if v, err := lgetxattr(full, OverlayOpaqueXattr); err == nil && v == "y" {
			// The directory hides the lower layers' one: the image-spec's
			// opaque marker, with the directory's owner and time.
			return d.write(&tar.Header{Name: name + "/" + WhiteoutOpaque, Typeflag: tar.TypeReg, Mode: 0o600,
				Uid: hdr.Uid, Gid: hdr.Gid, ModTime: hdr.ModTime}, nil)
		}
		return nil
	case unix.S_IFREG:
		if st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if first, ok := d.links[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeLink, first, 0
				return d.write(hdr, nil)
			}
			d.links[key] = name
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
		if err := d.xattrs(hdr, full); err != nil {
			return err
		}
		f, err := d.root.OpenFile(name, os.O_RDONLY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		return d.write(hdr, f)
	case unix.S_IFSOCK:
		return nil // a socket is not content: tar and Docker skip it
	default:
		return fmt.Errorf("%s: unsupported file type %#o", name, st.Mode&unix.S_IFMT)
	}
	if err := d.xattrs(hdr, full); err != nil {
		return err
	}
	return d.write(hdr, nil)
}

// clamp drops sub-second precision (a PAX record per file otherwise, and
// noise) and applies the epoch.
func (d *differ) clamp(t time.Time) time.Time {
	t = t.Truncate(time.Second)
	if d.epoch != nil && t.After(*d.epoch) {
		return d.epoch.Truncate(time.Second)
	}
	return t
}

// xattrs copies the extended attributes Apply would set again as PAX
// records: security.capability (file capabilities) and user.*. Never
// trusted.*, where overlayfs keeps its own bookkeeping (see imageXattrs).
func (d *differ) xattrs(hdr *tar.Header, full string) error {
	names, err := llistxattr(full)
	if err != nil {
		return err
	}
	for _, attr := range names {
		if attr != "security.capability" && !strings.HasPrefix(attr, "user.") {
			continue
		}
		v, err := lgetxattr(full, attr)
		if err != nil {
			return err
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+attr] = v
	}
	return nil
}

func (d *differ) write(hdr *tar.Header, content io.Reader) error {
	if err := d.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", hdr.Name, err)
	}
	if content == nil {
		return nil
	}
	n, err := io.CopyBuffer(struct{ io.Writer }{d.tw}, io.LimitReader(content, hdr.Size), d.buf)
	d.written += n
	if err == nil && n != hdr.Size {
		err = fmt.Errorf("file changed size while read (%d of %d bytes)", n, hdr.Size)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", hdr.Name, err)
	}
	return nil
}

func lgetxattr(path, attr string) (string, error) {
	buf := make([]byte, 256)
	for {
		n, err := unix.Lgetxattr(path, attr, buf)
		if err == unix.ERANGE {
			buf = make([]byte, 2*len(buf))
			continue
		}
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
}

func llistxattr(path string) ([]string, error) {
	buf := make([]byte, 1024)
	for {
		n, err := unix.Llistxattr(path, buf)
		if err == unix.ERANGE {
			buf = make([]byte, 2*len(buf))
			continue
		}
		if err == unix.ENOTSUP {
			return nil, nil
		}
		if err != nil {
			return nil, &os.PathError{Op: "llistxattr", Path: path, Err: err}
		}
		var names []string
		for _, s := range strings.Split(string(buf[:n]), "\x00") {
			if s != "" {
				names = append(names, s)
			}
		}
		return names, nil
	}
}
