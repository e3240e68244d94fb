package layers

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	"github.com/vbatts/tar-split/tar/asm"
	"github.com/vbatts/tar-split/tar/storage"
	"golang.org/x/sys/unix"
)

// Unpack decompresses one layer blob and extracts it into dir, verifying
// while it reads that the uncompressed bytes hash to diffID. It extracts
// into a temporary sibling of dir and renames that into place only when
// the digest matched, so dir either does not exist or holds the whole,
// verified layer. If dir exists already, Unpack does nothing.
func Unpack(dir string, compressed io.Reader, diffID digest.Digest) error {
	return unpack(dir, compressed, diffID, nil, nil)
}

// unpack is Unpack reporting skipped entries to warn (see ApplyWarn) and,
// when layout is not nil, writing the tar's layout to it (see Store.Tar).
func unpack(dir string, compressed io.Reader, diffID digest.Digest, warn func(entry string, err error), layout io.Writer) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := diffID.Validate(); err != nil {
		return fmt.Errorf("unpack layer: diffID %q: %w", diffID, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.RemoveAll(tmp)
		}
	}()
	// The temp dir is 0700; a layer's root directory is 0755 unless the
	// tar says otherwise.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}

	tarStream, err := Decompress(compressed)
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	defer tarStream.Close()
	digester := diffID.Algorithm().Digester()
	var tee io.Reader = io.TeeReader(tarStream, digester.Hash())
	var recorded <-chan error
	if layout != nil {
		// tar-split reads the same bytes on their way to Apply and notes
		// every header and padding block: with the files themselves, that
		// is enough to write this exact tar again (a push, a save).
		r, done, err := asm.NewInputTarStreamWithDone(tee, storage.NewJSONPacker(layout), nil)
		if err != nil {
			return fmt.Errorf("unpack layer %s: %w", diffID, err)
		}
		defer r.Close()
		tee, recorded = r, done
	}
	if _, err := ApplyWarn(tmp, tee, warn); err != nil {
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	// The tar reader stops at the end-of-archive marker; the padding after
	// it is part of what diffID hashes.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	if recorded != nil {
		if err := <-recorded; err != nil {
			return fmt.Errorf("unpack layer %s: record its layout: %w", diffID, err)
		}
	}
	if got := digester.Digest(); got != diffID {
		return fmt.Errorf("unpack layer: %w: got %s, want %s", ErrDiffIDMismatch, got, diffID)
	}
	// And the compressed stream to its end: a reader that verifies the
	// blob's own digest (a pull, image.Verify) says so only at EOF, and
	// nothing may be committed before.
	if _, err := io.Copy(io.Discard, compressed); err != nil {
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, unix.ENOTEMPTY) {
			return nil // another process unpacked it meanwhile
		}
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	ok = true
	return nil
}
