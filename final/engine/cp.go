package engine

// docker cp, as dockerd serves it: three operations on a path in a
// container (the archive endpoints, /containers/{id}/archive), StatPath
// (HEAD), ArchivePath (GET: a tar stream of it) and ExtractArchive (PUT: a
// tar stream unpacked into a directory). Docker's rules for where a copy
// lands are the client's (cpclient.go), so that the CLI in this process
// and the CLI through a daemon apply the same ones.
//
// The container's files are reached as an os.Root: a running container's
// root as its PID 1 sees it (/proc/<pid>/root: overlay, volumes and all),
// a stopped one's overlay mounted for the copy where only we see it
// (cproot_linux.go). Every path is resolved as the container would
// resolve it (securejoin: its symbolic links followed with its root as
// "/"), and nothing resolves out of it.

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"

	"minidocker/final/errdefs"
	"minidocker/step03-rootfs-layers/layers"
)

// PathStat is a path's stat as dockerd returns it in the
// X-Docker-Container-Path-Stat header (base64 JSON): LinkTarget, for a
// symbolic link, is where it leads, resolved in the container.
type PathStat struct {
	Name       string      `json:"name"`
	Size       int64       `json:"size"`
	Mode       fs.FileMode `json:"mode"`
	Mtime      time.Time   `json:"mtime"`
	LinkTarget string      `json:"linkTarget"`
}

// Archiver is what docker cp needs of a container: the engine here, or a
// daemon's archive endpoints (package apiclient).
type Archiver interface {
	// StatPath is HEAD /containers/{id}/archive?path=P.
	StatPath(ref, p string) (PathStat, error)
	// ArchivePath is GET /containers/{id}/archive?path=P: a tar stream of
	// P (a file, a link or a whole directory) named by its base name.
	// Close it.
	ArchivePath(ref, p string) (io.ReadCloser, PathStat, error)
	// ExtractArchive is PUT /containers/{id}/archive?path=DIR: the tar
	// stream r unpacked into the existing directory DIR.
	ExtractArchive(ref, dir string, r io.Reader) error
}

var _ Archiver = (*Engine)(nil)

// containerFS is a container's root filesystem opened for cp.
type containerFS struct {
	root    *os.Root
	dir     string // its path, for securejoin
	release func()
}

// openFS opens the container ref's root: a running container's through
// its init, a stopped one's (created or exited) as its overlay, mounted
// for us alone while we hold its lock (no start meanwhile). Call release.
func (e *Engine) openFS(ref string) (*containerFS, error) {
	c, err := e.Container(ref)
	if err != nil {
		return nil, err
	}
	if alive(c) {
		dir := "/proc/" + strconv.Itoa(c.State.Pid) + "/root"
		root, err := os.OpenRoot(dir)
		if err != nil {
			return nil, err
		}
		return &containerFS{root: root, dir: dir, release: func() { root.Close() }}, nil
	}
	unlock, err := e.containers.Lock(c.ID)
	if err != nil {
		return nil, containerErr(ref, err)
	}
	if c, err = e.reload(c.ID); err != nil {
		unlock()
		return nil, containerErr(ref, err)
	}
	if c.State.Running {
		// Started since: its init's view is the one to use.
		unlock()
		return e.openFS(c.ID)
	}
	img, err := e.images.Get(c.Config.ImageID)
	if err != nil {
		unlock()
		return nil, err
	}
	lowers, err := e.images.Runnable(img).Unpack(e.images.Layers())
	if err != nil {
		unlock()
		return nil, err
	}
	dir := e.containerDir(c.ID)
	var volumes []bind
	for _, m := range c.Config.Mounts {
		volumes = append(volumes, bind{source: m.Source, destination: m.Destination, readOnly: !m.RW})
	}
	f, unmount, err := mountPrivate(filepath.Join(dir, "rootfs"), lowers, filepath.Join(dir, "upper"), filepath.Join(dir, "work"), volumes)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("cp: the filesystem of container %s: %w", c.ShortID(), err)
	}
	fdDir := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	root, err := os.OpenRoot(fdDir)
	if err != nil {
		f.Close()
		unmount()
		unlock()
		return nil, err
	}
	return &containerFS{root: root, dir: fdDir, release: func() {
		root.Close()
		f.Close()
		unmount() // the namespace goes, and the overlay and volumes with it
		unlock()
	}}, nil
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

// resolve is dockerd's ResolvePath: p made absolute in the container (a
// trailing "/" or "/." kept), its directory resolved inside, its last
// component not followed unless the trailing "/" or "/." asks for it.
func (cf *containerFS) resolve(p string) (rel, abs string, err error) {
	abs = path.Join("/", p)
	switch {
	case strings.HasSuffix(p, "/."):
		abs += "/."
	case strings.HasSuffix(p, "/") && abs != "/":
		abs += "/"
	}
	if strings.HasSuffix(abs, "/") || strings.HasSuffix(abs, "/.") {
		rel, err = inside(cf.dir, abs)
		return rel, abs, err
	}
	parent, err := inside(cf.dir, path.Dir(abs))
	if err != nil {
		return "", "", err
	}
	return filepath.Join(parent, path.Base(abs)), abs, nil
}

// stat is dockerd's StatPath of p; a link's target is where it leads.
func (cf *containerFS) stat(ref, p string) (rel string, st PathStat, err error) {
	rel, abs, err := cf.resolve(p)
	if err != nil {
		return "", st, err
	}
	fi, err := cf.root.Lstat(rel)
	if err != nil {
		return "", st, errdefs.NotFound(fmt.Errorf("Could not find the file %s in container %s", p, ref))
	}
	st = PathStat{Name: path.Base(abs), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := inside(cf.dir, abs)
		if err != nil {
			return "", st, err
		}
		st.LinkTarget = path.Join("/", filepath.ToSlash(target))
	}
	return rel, st, nil
}

// StatPath is docker cp's stat of p in the container ref (running or not).
func (e *Engine) StatPath(ref, p string) (PathStat, error) {
	cf, err := e.openFS(ref)
	if err != nil {
		return PathStat{}, err
	}
	defer cf.release()
	_, st, err := cf.stat(ref, p)
	return st, err
}

// ArchivePath is p in the container ref as a tar stream, named by p's
// base name ("." for DIR/.); the container stays open until it is read
// to its end or closed.
func (e *Engine) ArchivePath(ref, p string) (io.ReadCloser, PathStat, error) {
	cf, err := e.openFS(ref)
	if err != nil {
		return nil, PathStat{}, err
	}
	rel, st, err := cf.stat(ref, p)
	if err != nil {
		cf.release()
		return nil, st, err
	}
	pr, pw := io.Pipe()
	go func() {
		defer cf.release()
		pw.CloseWithError(WriteTar(pw, cf.root.FS(), filepath.ToSlash(rel), archiveBase(p)))
	}()
	return pr, st, nil
}

// ExtractArchive unpacks the tar stream r into dir, an existing directory
// in the container ref (running or not), through the container's root:
// what a running one's init sees, or a stopped one's own layer, which it
// sees when it starts.
func (e *Engine) ExtractArchive(ref, dir string, r io.Reader) error {
	cf, err := e.openFS(ref)
	if err != nil {
		return err
	}
	defer cf.release()
	rel, err := inside(cf.dir, path.Join("/", dir))
	if err != nil {
		return err
	}
	fi, err := cf.root.Stat(rel)
	if err != nil {
		return errdefs.NotFound(fmt.Errorf("Could not find the file %s in container %s", dir, ref))
	}
	if !fi.IsDir() {
		return errdefs.InvalidParameter(errors.New("extraction point is not a directory"))
	}
	// The directory opened inside the root; layers.Apply writes through an
	// os.Root of it, so no entry leads out.
	d, err := cf.root.Open(rel)
	if err != nil {
		return err
	}
	defer d.Close()
	sub, err := cf.root.OpenRoot(rel)
	if err != nil {
		return err
	}
	defer sub.Close()
	if _, err := layers.Apply("/proc/self/fd/"+strconv.Itoa(int(d.Fd())), noOverwrite(r, sub)); err != nil {
		return errdefs.InvalidParameter(refusal(err))
	}
	return nil
}

// archiveBase is the name the archive of p has, as dockerd and the docker
// CLI's SplitPathDirEntry give it: "." for DIR/., else the base name.
func archiveBase(p string) string {
	if p == "." || strings.HasSuffix(p, "/.") {
		return "."
	}
	return path.Base(path.Clean("/" + p))
}

// under is p (found by walking from name) relative to name: "" for name
// itself.
func under(p, name string) string {
	if name == "." {
		return strings.TrimPrefix(p, ".")
	}
	return strings.TrimPrefix(strings.TrimPrefix(p, name), "/")
}

// WriteTar writes name of fsys (a file, a link, or a directory and all in
// it) to w as a tar stream whose entries are named as, as/..., in place of
// name. Sockets are left out (tar has no type for them). docker cp's
// archives are made with it, and so is a build context sent to a daemon.
func WriteTar(w io.Writer, fsys fs.FS, name, as string) error {
	tw := tar.NewWriter(w)
	one := func(p string) error {
		fi, err := fs.Lstat(fsys, p)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSocket != 0 {
			return nil
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = fs.ReadLink(fsys, p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name = as
		if r := under(p, name); r != "" {
			hdr.Name += "/" + r
		}
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	}
	fi, err := fs.Lstat(fsys, name)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		err = one(name)
	} else {
		err = fs.WalkDir(fsys, name, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return one(p)
		})
	}
	if err != nil {
		return err
	}
	return tw.Close()
}
