package engine

// docker cp's client side: where a copy lands, by the docker CLI's rules
// (its archive.CopyInfoDestinationPath and PrepareArchiveCopy), the host's
// files read and written here, the container's through an Archiver: the
// engine in this process, or a daemon's archive endpoints (minidocker -H,
// package apiclient). Either way the same rules apply.

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"minidocker/final/errdefs"
	"minidocker/step03-rootfs-layers/layers"
)

// CopyFromContainer is docker cp CONTAINER:SRC DEST in this process.
func (e *Engine) CopyFromContainer(ref, src, dst string, followLink bool) error {
	return CopyFrom(e, ref, src, dst, followLink)
}

// CopyToContainer is docker cp SRC CONTAINER:DEST in this process.
func (e *Engine) CopyToContainer(ref, src, dst string) error { return CopyTo(e, ref, src, dst) }

// CopyFrom copies src in the container ref to dst on the host: into an
// existing directory dst as dst/base(src) (a directory src ending in "/."
// gives its contents instead); else to dst itself, whose parent must
// exist, which for a file must not end in "/", and a directory cannot
// replace a file. With followLink (docker cp -L), a link at src is copied
// as what it leads to in the container, under src's name.
func CopyFrom(a Archiver, ref, src, dst string, followLink bool) error {
	name := archiveBase(src)
	if followLink {
		if st, err := a.StatPath(ref, src); err == nil && st.Mode&fs.ModeSymlink != 0 {
			src = st.LinkTarget
		}
	}
	rc, st, err := a.ArchivePath(ref, src)
	if err != nil {
		return err
	}
	defer rc.Close()
	srcDir := st.Mode.IsDir()
	dstDir, as, err := landing(dst, srcDir, func(p string) (fs.FileInfo, error) { return os.Stat(p) })
	if err != nil {
		return err
	}
	if _, err := os.Stat(dstDir); err != nil {
		return fmt.Errorf("destination %s: %w", dst, err)
	}
	if as == "" {
		as = name
	}
	var in io.Reader = rc
	if got := archiveBase(src); got != as {
		in = rebase(rc, got, as)
	}
	root, err := os.OpenRoot(dstDir)
	if err != nil {
		return err
	}
	defer root.Close()
	_, err = layers.Apply(dstDir, noOverwrite(in, root))
	return refusal(err)
}

// CopyTo copies src on the host to dst in the container ref, with the
// rules of CopyFrom; a link at dst is followed in the container (its
// target as the container resolves it).
func CopyTo(a Archiver, ref, src, dst string) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("stat %s: %w", src, err)
	}
	statIn := func(p string) (fs.FileInfo, error) {
		st, err := a.StatPath(ref, p)
		if err == nil && st.Mode&fs.ModeSymlink != 0 {
			st, err = a.StatPath(ref, st.LinkTarget)
		}
		if errdefs.IsNotFound(err) {
			return nil, fs.ErrNotExist
		}
		if err != nil {
			return nil, err
		}
		return statInfo(st), nil
	}
	// A link at dst: the copy goes where it leads.
	if st, err := a.StatPath(ref, dst); err == nil && st.Mode&fs.ModeSymlink != 0 {
		dst = st.LinkTarget
	}
	dstDir, as, err := landing(dst, fi.IsDir(), statIn)
	if err != nil {
		return err
	}
	base := archiveBase(src)
	if as == "" {
		as = base
	}
	pr, pw := io.Pipe()
	go func() {
		dir := filepath.Dir(filepath.Clean(src))
		if base == "." {
			dir = src
		}
		pw.CloseWithError(WriteTar(pw, os.DirFS(dir), base, as))
	}()
	err = a.ExtractArchive(ref, dstDir, pr)
	pr.CloseWithError(err) // the writer stops if the extraction did
	return err
}

// landing applies docker cp's rules to a destination dst for a source
// that is a directory or not: the directory to unpack into, and the name
// the source's archive takes there ("" for its own).
func landing(dst string, srcDir bool, stat func(string) (fs.FileInfo, error)) (dir, as string, err error) {
	trailing := strings.HasSuffix(dst, "/") || strings.HasSuffix(dst, "/.")
	clean := filepath.Clean(dst)
	fi, err := stat(clean)
	switch {
	case err == nil && fi.IsDir():
		return clean, "", nil
	case err == nil && srcDir:
		return "", "", errdefs.InvalidParameter(fmt.Errorf("cannot copy a directory to a file: %s", dst))
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", "", err
	case err != nil && trailing && !srcDir:
		return "", "", errdefs.InvalidParameter(fmt.Errorf("no such directory: %s", dst))
	}
	return filepath.Dir(clean), filepath.Base(clean), nil
}

// noOverwrite passes the tar stream r on, as long as no entry would put
// a directory where root has a file or a file where it has a directory
// (docker cp's noOverwriteDirNonDir, which the docker CLI always asks
// for): layers.Apply would replace the one by the other, and a file over a
// directory would take everything in it.
func noOverwrite(r io.Reader, root *os.Root) io.Reader {
	return retar(r, func(hdr *tar.Header) error {
		name := filepath.Clean(hdr.Name)
		if name == "." {
			return nil
		}
		fi, err := root.Lstat(name)
		if err != nil {
			return nil // nothing there, or Apply will say
		}
		dir := hdr.Typeflag == tar.TypeDir
		switch {
		case fi.IsDir() && !dir:
			return &overwriteError{fmt.Sprintf("cannot overwrite directory %q with non-directory %q", name, hdr.Name)}
		case !fi.IsDir() && dir:
			return &overwriteError{fmt.Sprintf("cannot overwrite non-directory %q with directory %q", name, hdr.Name)}
		}
		return nil
	})
}

// overwriteError is noOverwrite's refusal, in dockerd's words.
type overwriteError struct{ msg string }

func (e *overwriteError) Error() string { return e.msg }

// refusal is an extraction's error: noOverwrite's refusal alone (an
// invalid parameter) when it was one, else err as it is.
func refusal(err error) error {
	if oe, ok := errors.AsType[*overwriteError](err); ok {
		return errdefs.InvalidParameter(oe)
	}
	return err
}

// rebase renames the entries of the tar stream r named old or old/...
// to new, new/..., as the docker CLI's RebaseArchiveEntries does.
func rebase(r io.Reader, old, new string) io.Reader {
	return retar(r, func(hdr *tar.Header) error {
		if hdr.Name == old || strings.HasPrefix(hdr.Name, old+"/") {
			hdr.Name = new + strings.TrimPrefix(hdr.Name, old)
		}
		return nil
	})
}

// retar passes the tar stream r on through fn, which may change each
// header or stop the stream with an error.
func retar(r io.Reader, fn func(*tar.Header) error) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tr, tw := tar.NewReader(r), tar.NewWriter(pw)
		err := func() error {
			for {
				hdr, err := tr.Next()
				if err == io.EOF {
					return tw.Close()
				}
				if err != nil {
					return err
				}
				if err := fn(hdr); err != nil {
					return err
				}
				if err := tw.WriteHeader(hdr); err != nil {
					return err
				}
				if _, err := io.Copy(tw, tr); err != nil {
					return err
				}
			}
		}()
		pw.CloseWithError(err)
	}()
	return pr
}

// statInfo is a PathStat as an fs.FileInfo (what landing reads).
func statInfo(st PathStat) fs.FileInfo { return pathInfo{st} }

type pathInfo struct{ st PathStat }

func (i pathInfo) Name() string       { return i.st.Name }
func (i pathInfo) Size() int64        { return i.st.Size }
func (i pathInfo) Mode() fs.FileMode  { return i.st.Mode }
func (i pathInfo) ModTime() time.Time { return i.st.Mtime }
func (i pathInfo) IsDir() bool        { return i.st.Mode.IsDir() }
func (i pathInfo) Sys() any           { return nil }
