package builder

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/layers"
)

type copySpec struct {
	name         string // COPY or ADD
	sources      []string
	dest         string
	from         string
	chown, chmod string
	unpack       bool // ADD: a local tar archive is extracted
}

// item is one file or directory to copy: its path on the host, and where
// it goes in the image.
type item struct {
	src, dst string
	info     fs.FileInfo
}

// dockerignore is the context's .dockerignore: what COPY . never sees.
type dockerignore struct {
	pm *patternmatcher.PatternMatcher
}

func readDockerignore(dir string) (*dockerignore, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return &dockerignore{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, err
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, err
	}
	return &dockerignore{pm: pm}, nil
}

func (d *dockerignore) ignored(rel string) bool {
	if d == nil || d.pm == nil {
		return false
	}
	ok, _ := d.pm.MatchesOrParentMatches(filepath.ToSlash(rel))
	return ok
}

// copy runs COPY or ADD: the sources resolved (globs, .dockerignore, or
// another stage's files for --from), hashed for the cache key, and written
// into the image's tree through layers.Changes.
func (b *build) copy(ctx context.Context, s *state, c copySpec, final bool, fail func(error) error) error {
	root, ignore := b.o.Context, b.ignore
	if c.from != "" {
		dir, done, err := b.copyOut(ctx, c.from, c.sources)
		if done != nil {
			defer done()
		}
		if err != nil {
			return fail(err)
		}
		root, ignore = dir, nil
	}
	dest := c.dest
	if !path.IsAbs(dest) {
		dest = path.Join("/", s.img.Config.Config.WorkingDir, dest) + map[bool]string{true: "/"}[strings.HasSuffix(c.dest, "/")]
	}
	items, err := collect(root, ignore, c.sources, dest)
	if err != nil {
		return fail(err)
	}
	var mode *os.FileMode
	if c.chmod != "" {
		m, err := strconv.ParseUint(c.chmod, 8, 32)
		if err != nil || m > 0o7777 {
			return fail(fmt.Errorf("invalid chmod %q: an octal mode", c.chmod))
		}
		fm := os.FileMode(m)
		mode = &fm
	}
	sum, err := contentHash(items)
	if err != nil {
		return fail(err)
	}
	text := fmt.Sprintf("%s %s:%s in %s", c.name, map[bool]string{true: "dir", false: "file"}[len(items) > 1], sum, dest)
	k := key(s.img.ID.String(), text, c.chown, c.chmod, c.from)
	return b.commit(s, k, final, func() (string, ocispec.Image, func(), error) {
		upper, done, err := b.be.Changes(s.img, func(r *os.Root) error {
			uid, gid, err := owner(r, c.chown)
			if err != nil {
				return err
			}
			return write(r, items, uid, gid, mode, c.unpack)
		})
		if err != nil {
			return "", ocispec.Image{}, done, fail(err)
		}
		cfg := cloneConfig(s.img.Config)
		b.history(&cfg, "/bin/sh -c #(nop) "+text+" ", false)
		return upper, cfg, done, nil
	})
}

// collect resolves the sources in root (the context) into the items to
// copy, with Docker's rules: a directory's contents (not the directory)
// go to dest; several sources, or a glob, need a dest ending in "/".
func collect(root string, ignore *dockerignore, sources []string, dest string) ([]item, error) {
	var matched []string
	for _, src := range sources {
		rel := filepath.Clean(filepath.Join("/", src))[1:] // inside the context, never above
		if strings.ContainsAny(src, "*?[") {
			all, err := filepath.Glob(filepath.Join(root, rel))
			if err != nil {
				return nil, err
			}
			for _, m := range all {
				r, _ := filepath.Rel(root, m)
				if !ignore.ignored(r) {
					matched = append(matched, r)
				}
			}
			continue
		}
		if rel != "" && ignore.ignored(rel) {
			return nil, fmt.Errorf("%s: not found in the build context (excluded by .dockerignore)", src)
		}
		matched = append(matched, rel)
	}
	if len(matched) == 0 {
		return nil, fmt.Errorf("no source files were specified (%s matched nothing)", strings.Join(sources, " "))
	}
	if len(matched) > 1 && !strings.HasSuffix(dest, "/") {
		return nil, errors.New("When using COPY with more than one source file, the destination must be a directory and end with a /")
	}
	var items []item
	for _, rel := range matched {
		src := filepath.Join(root, rel)
		fi, err := os.Lstat(src)
		if err != nil {
			return nil, fmt.Errorf("%s: not found in the build context", rel)
		}
		if !fi.IsDir() {
			dst := dest
			if strings.HasSuffix(dest, "/") {
				dst = path.Join(dest, filepath.Base(src))
			}
			items = append(items, item{src: src, dst: dst, info: fi})
			continue
		}
		err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			r, _ := filepath.Rel(root, p)
			if p != src && ignore.ignored(r) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			within, _ := filepath.Rel(src, p)
			items = append(items, item{src: p, dst: path.Join(dest, filepath.ToSlash(within)), info: info})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return items, nil
}

// contentHash is the cache key's part for the files: names, modes, link
// targets and contents, not times, as Docker's classic builder hashes them.
func contentHash(items []item) (string, error) {
	h := sha256.New()
	for _, it := range items {
		fmt.Fprintf(h, "%s\x00%o\x00", it.dst, it.info.Mode())
		switch {
		case it.info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(it.src)
			if err != nil {
				return "", err
			}
			h.Write([]byte(target))
		case it.info.Mode().IsRegular():
			f, err := os.Open(it.src)
			if err != nil {
				return "", err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return "", err
			}
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// write puts the items into the image's tree r: parents made as needed
// (root's, 0755), files with their modes and times, owned by uid:gid.
// Every path goes through r: an image's symbolic link cannot send a file
// outside its tree.
func write(r *os.Root, items []item, uid, gid int, mode *os.FileMode, unpack bool) error {
	for _, it := range items {
		dst := strings.TrimPrefix(path.Clean(it.dst), "/")
		if dst == "" {
			dst = "."
		}
		if parent := path.Dir(dst); parent != "." {
			if err := r.MkdirAll(parent, 0o755); err != nil {
				return err
			}
		}
		// A file to an existing directory without a trailing slash goes
		// into it, as the classic builder does.
		if fi, err := r.Stat(dst); err == nil && fi.IsDir() && !it.info.IsDir() {
			dst = path.Join(dst, filepath.Base(it.src))
		}
		perm := it.info.Mode()
		if mode != nil {
			perm = perm&^fs.ModePerm&^(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | *mode
		}
		switch {
		case it.info.IsDir():
			if err := r.MkdirAll(dst, 0o755); err != nil {
				return err
			}
			if err := r.Chmod(dst, perm&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
				return err
			}
		case it.info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(it.src)
			if err != nil {
				return err
			}
			_ = r.Remove(dst)
			if err := r.Symlink(target, dst); err != nil {
				return err
			}
		case it.info.Mode().IsRegular():
			if unpack && isArchive(it.src) {
				if err := extract(r, it.src, path.Dir(dst)); err != nil {
					return fmt.Errorf("ADD %s: %w", filepath.Base(it.src), err)
				}
				continue
			}
			if err := copyFile(r, it.src, dst, perm); err != nil {
				return err
			}
		default:
			continue // sockets, devices, fifos of the context: not copied
		}
		if err := r.Lchown(dst, uid, gid); err != nil {
			return err
		}
		if it.info.Mode()&fs.ModeSymlink == 0 {
			if err := r.Chtimes(dst, it.info.ModTime(), it.info.ModTime()); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(r *os.Root, src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	_ = r.Remove(dst)
	out, err := r.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return r.Chmod(dst, perm&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
}

// isArchive says whether ADD extracts src: a tar, plain or compressed
// (gzip, zstd), by its first bytes as Docker decides.
func isArchive(src string) bool {
	f, err := os.Open(src)
	if err != nil {
		return false
	}
	defer f.Close()
	r, err := layers.Decompress(bufio.NewReader(f))
	if err != nil {
		return false
	}
	defer r.Close()
	head := make([]byte, 512)
	if _, err := io.ReadFull(r, head); err != nil {
		return false
	}
	return string(head[257:262]) == "ustar"
}

// extract unpacks the archive src into dir of the image's tree: dir is
// resolved inside the tree (its symbolic links as the container would
// follow them), and the archive's entries cannot leave it (layers.Apply).
func extract(r *os.Root, src, dir string) error {
	if err := r.MkdirAll(strings.TrimPrefix(dir, "/"), 0o755); err != nil && dir != "/" {
		return err
	}
	target, err := securejoin.SecureJoin(r.Name(), dir)
	if err != nil {
		return err
	}
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	tr, err := layers.Decompress(f)
	if err != nil {
		return err
	}
	defer tr.Close()
	_, err = layers.Apply(target, tr)
	return err
}

// owner is --chown's uid and gid, 0:0 without it: numbers, or names
// looked up in the image's own /etc/passwd and /etc/group (read through r,
// the image's tree) as docker run --user's are (step 2's ResolveUser). A
// user without a group gets the group of the same number, as Docker's
// --chown does.
func owner(r *os.Root, chown string) (int, int, error) {
	if chown == "" {
		return 0, 0, nil
	}
	open := func(name string) io.Reader {
		data, err := r.ReadFile(name)
		if err != nil {
			return strings.NewReader("")
		}
		return strings.NewReader(string(data))
	}
	u, err := namespaces.ResolveUser(chown, open("etc/passwd"), open("etc/group"))
	if err != nil {
		return 0, 0, fmt.Errorf("--chown=%s: %w", chown, err)
	}
	if !strings.Contains(chown, ":") {
		u.GID = u.UID
	}
	return int(u.UID), int(u.GID), nil
}

// copyOut copies the sources of COPY --from out of that stage (or image)
// into a temporary directory, which the copy then treats as its context.
func (b *build) copyOut(ctx context.Context, from string, sources []string) (string, func(), error) {
	img, ok := b.stages[strings.ToLower(from)]
	if !ok {
		var err error
		if img, err = b.be.Base(ctx, from, b.out); err != nil {
			return "", nil, err
		}
	}
	dir, err := os.MkdirTemp("", "minidocker-copy-from-")
	if err != nil {
		return "", nil, err
	}
	done := func() { os.RemoveAll(dir) }
	var upperDone func()
	_, upperDone, err = b.be.Changes(img, func(r *os.Root) error {
		for _, src := range sources {
			rel := strings.TrimPrefix(path.Clean("/"+src), "/")
			if rel == "" {
				rel = "."
			}
			if err := copyTree(r, rel, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
				return fmt.Errorf("COPY --from=%s %s: %w", from, src, err)
			}
		}
		return nil
	})
	if upperDone != nil {
		upperDone()
	}
	if err != nil {
		done()
		return "", nil, err
	}
	return dir, done, nil
}

// copyTree copies name of the tree r (a file, a link or a directory with
// everything in it) to the host path to, keeping modes and times.
func copyTree(r *os.Root, name, to string) error {
	return fs.WalkDir(r.FS(), name, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, name), "/")
		dst := filepath.Join(to, filepath.FromSlash(rel))
		info, err := d.Info()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(dst, info.Mode().Perm()|0o700); err != nil {
				return err
			}
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := r.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		case info.Mode().IsRegular():
			in, err := r.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
			if err != nil {
				return err
			}
			_, err = io.Copy(out, in)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return nil
		}
		return os.Chtimes(dst, info.ModTime(), info.ModTime())
	})
}
