package layers

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
	"golang.org/x/sys/unix"
)

// ErrNoLayout is returned by Tar for a layer unpacked without its tar's
// layout: by a version of the store that did not keep it.
var ErrNoLayout = errors.New("the layer's tar layout was not kept (unpacked by an older minidocker): remove the image (rmi) and pull it again")

// The store keeps layers unpacked, as Docker does, not as the blobs they
// came in. To hand a layer on (a push, a save), its tar must be written
// again, and byte for byte: the image's config names each layer by the
// digest of its uncompressed tar (the diffID), and a tar made afresh from
// the files (header order, padding, PAX records) would hash differently.
// So while Unpack reads a layer, tar-split notes everything in the stream
// that is not file content (the headers and the padding, a few bytes per
// file) in <hex>.tar-split.gz; Tar puts that and the unpacked files back
// together. Docker's layer store does the same.

const layoutSuffix = ".tar-split.gz"

func (s *Store) layoutPath(diffID digest.Digest) string { return s.Path(diffID) + layoutSuffix }

// Tar returns the layer diffID's tar, the same bytes that were unpacked.
// The result is checked against diffID as it is read: a file changed on
// disk since makes the last Read fail rather than hand on other bytes.
func (s *Store) Tar(diffID digest.Digest) (io.ReadCloser, error) {
	if !s.Has(diffID) {
		return nil, fmt.Errorf("layer %s: %w", diffID, fs.ErrNotExist)
	}
	f, err := os.Open(s.layoutPath(diffID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("layer %s: %w", diffID, ErrNoLayout)
	}
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", diffID, err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("layer %s: layout: %w", diffID, err)
	}
	root, err := os.OpenRoot(s.Path(diffID))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("layer %s: %w", diffID, err)
	}
	out := asm.NewOutputTarStream(rootedFiles{root}, storage.NewJSONUnpacker(zr))
	return &layerTar{ReadCloser: out, verify: Verify(out, diffID, -1, ErrDiffIDMismatch), close: func() { root.Close(); f.Close() }}, nil
}

// rootedFiles hands tar-split the files of a layer directory. Only
// regular files, found inside the layer with os.Root and never through a
// symlink as the last component: a layer is what an image made it, and a
// name in its tar must never read a file of the host.
type rootedFiles struct{ root *os.Root }

func (r rootedFiles) Get(name string) (io.ReadCloser, error) {
	clean, err := CleanName(name)
	if err != nil {
		return nil, err
	}
	f, err := r.root.OpenFile(clean, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file in the layer", name)
	}
	return f, nil
}

type layerTar struct {
	io.ReadCloser
	verify io.Reader
	close  func()
}

func (l *layerTar) Read(p []byte) (int, error) { return l.verify.Read(p) }

func (l *layerTar) Close() error {
	err := l.ReadCloser.Close()
	l.close()
	return err
}

// layoutFile is the layout being recorded: a temporary file renamed into
// place only when the layer is complete.
type layoutFile struct {
	path string
	f    *os.File
	zw   *gzip.Writer
	done bool
}

// Its temporary name is one Sweep knows (".<hex>.tmp-*"): a pull killed
// while writing it leaves nothing that stays.
func newLayoutFile(path string) (*layoutFile, error) {
	hex := strings.TrimSuffix(filepath.Base(path), layoutSuffix)
	f, err := os.CreateTemp(filepath.Dir(path), "."+hex+".tmp-layout-")
	if err != nil {
		return nil, err
	}
	return &layoutFile{path: path, f: f, zw: gzip.NewWriter(f)}, nil
}

func (l *layoutFile) Write(p []byte) (int, error) { return l.zw.Write(p) }

func (l *layoutFile) commit() error {
	if err := l.zw.Close(); err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(l.f.Name(), l.path); err != nil {
		return err
	}
	l.done = true
	return nil
}

func (l *layoutFile) discard() {
	if !l.done {
		l.f.Close()
		os.Remove(l.f.Name())
	}
}
