package engine

// docker cp, between a running container and the host. The container's
// files are reached through /proc/<init>/root, its root as its PID 1 sees
// it (overlay, volumes and all), opened as an os.Root: every path inside
// is resolved as the container would resolve it (securejoin: its symbolic
// links followed with its root as "/"), and nothing resolves out of it.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"

	"minidocker/final/errdefs"
)

// containerRoot opens the running container ref's root.
func (e *Engine) containerRoot(ref string) (*os.Root, string, error) {
	c, err := e.Container(ref)
	if err != nil {
		return nil, "", err
	}
	if !alive(c) {
		return nil, "", errdefs.Conflict(fmt.Errorf("container %s is not running (minidocker cp needs a running container)", c.ID))
	}
	dir := "/proc/" + strconv.Itoa(c.State.Pid) + "/root"
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, "", err
	}
	return root, dir, nil
}

// inside resolves p (absolute, in the container) to a path relative to
// the container's root, its symbolic links followed inside.
func inside(dir, p string) (string, error) {
	full, err := securejoin.SecureJoin(dir, p)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(dir, full)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("%s: outside the container", p)
	}
	return rel, nil
}

// CopyFromContainer is docker cp CONTAINER:SRC DEST.
func (e *Engine) CopyFromContainer(ref, src, dst string) error {
	root, dir, err := e.containerRoot(ref)
	if err != nil {
		return err
	}
	defer root.Close()
	rel, err := inside(dir, src)
	if err != nil {
		return err
	}
	fi, err := root.Stat(rel)
	if err != nil {
		return errdefs.NotFound(fmt.Errorf("Could not find the file %s in container %s", src, ref))
	}
	target, err := copyTarget(dst, src, fi.IsDir(), func(p string) (fs.FileInfo, error) { return os.Stat(p) })
	if err != nil {
		return err
	}
	return copyTree(root.FS(), rel, target, fi.IsDir(), hostWriter{})
}

// CopyToContainer is docker cp SRC CONTAINER:DEST.
func (e *Engine) CopyToContainer(ref, src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	root, dir, err := e.containerRoot(ref)
	if err != nil {
		return err
	}
	defer root.Close()
	parent, err := inside(dir, path.Dir(path.Clean("/"+dst)))
	if err != nil {
		return err
	}
	// The destination's last component is resolved inside too, if it is
	// a link (to a directory, the usual case).
	last := path.Base(path.Clean("/" + dst))
	name := filepath.Join(parent, last)
	if resolved, err := inside(dir, "/"+name); err == nil {
		name = resolved
	}
	if strings.HasSuffix(dst, "/") {
		name += "/"
	}
	target, err := copyTarget(name, src, fi.IsDir(), func(p string) (fs.FileInfo, error) { return root.Stat(p) })
	if err != nil {
		return err
	}
	return copyTree(os.DirFS(filepath.Dir(filepath.Clean(src))), filepath.Base(filepath.Clean(src)), target, fi.IsDir(), rootWriter{root})
}

// copyTarget applies docker cp's rules for where SRC lands: into an
// existing directory DEST as DEST/base(SRC) (a directory SRC ending in
// "/." gives its contents instead); else at DEST itself, which for a file
// must not end in "/" (no such directory), and a directory cannot replace
// a file.
func copyTarget(dst, src string, srcDir bool, stat func(string) (fs.FileInfo, error)) (string, error) {
	trailing := strings.HasSuffix(dst, "/")
	clean := filepath.Clean(dst)
	fi, err := stat(clean)
	switch {
	case err == nil && fi.IsDir():
		if srcDir && (strings.HasSuffix(src, "/.") || src == ".") {
			return clean, nil
		}
		return filepath.Join(clean, path.Base(path.Clean(src))), nil
	case err == nil && srcDir:
		return "", errdefs.InvalidParameter(fmt.Errorf("cannot copy a directory to a file: %s", dst))
	case err == nil:
		return clean, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	case trailing && !srcDir:
		return "", errdefs.InvalidParameter(fmt.Errorf("no such directory: %s", dst))
	}
	return clean, nil
}

// writer makes files where a copy lands: on the host, or in the
// container through its os.Root.
type writer interface {
	mkdir(name string, perm fs.FileMode) error
	create(name string, perm fs.FileMode) (io.WriteCloser, error)
	symlink(target, name string) error
}

type hostWriter struct{}

func (hostWriter) mkdir(name string, perm fs.FileMode) error {
	if err := os.Mkdir(name, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
func (hostWriter) create(name string, perm fs.FileMode) (io.WriteCloser, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
}
func (hostWriter) symlink(target, name string) error { return os.Symlink(target, name) }

type rootWriter struct{ r *os.Root }

func (w rootWriter) mkdir(name string, perm fs.FileMode) error {
	if err := w.r.Mkdir(name, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}
func (w rootWriter) create(name string, perm fs.FileMode) (io.WriteCloser, error) {
	return w.r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
}
func (w rootWriter) symlink(target, name string) error { return w.r.Symlink(target, name) }

// copyTree copies name of from (a file, a link or a whole directory) to
// target through w: modes kept, links copied as links.
func copyTree(from fs.FS, name, target string, dir bool, w writer) error {
	if !dir {
		return copyEntry(from, name, target, w)
	}
	return fs.WalkDir(from, name, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, name), "/")
		out := filepath.Join(target, filepath.FromSlash(rel))
		if d.IsDir() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			return w.mkdir(out, info.Mode().Perm())
		}
		return copyEntry(from, p, out, w)
	})
}

func copyEntry(from fs.FS, p, out string, w writer) error {
	info, err := fs.Lstat(from, p)
	if err != nil {
		return err
	}
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		link, err := fs.ReadLink(from, p)
		if err != nil {
			return err
		}
		return w.symlink(link, out)
	case !info.Mode().IsRegular():
		return nil // devices, fifos, sockets: not copied
	}
	in, err := from.Open(p)
	if err != nil {
		return err
	}
	defer in.Close()
	f, err := w.create(out, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, in); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
