package layers

import (
	"bufio"
	"bytes"
	"fmt"
	"hash"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Decompress returns the uncompressed tar stream of r, which may be
// gzip, zstd or plain tar: the first bytes decide, as the media type may be
// missing (docker save) or wrong.
func Decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("decompress gzip: %w", err)
		}
		return zr, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("decompress zstd: %w", err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

// Verify returns a reader of r that fails at EOF, with an error matching
// mismatch, unless what it read has digest want and, if size >= 0, is
// size bytes. Content addressing in one place: a blob checked against its
// digest on the way in, a layer's tar against its diffID on the way out.
func Verify(r io.Reader, want digest.Digest, size int64, mismatch error) io.Reader {
	return &verifier{r: r, want: want, size: size, mismatch: mismatch, h: want.Algorithm().Hash()}
}

type verifier struct {
	r        io.Reader
	want     digest.Digest
	size     int64
	n        int64
	mismatch error
	h        hash.Hash
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if err == io.EOF {
		if v.size >= 0 && v.n != v.size {
			return n, fmt.Errorf("blob %s: %w: read %d bytes, want %d", v.want, v.mismatch, v.n, v.size)
		}
		if got := digest.NewDigest(v.want.Algorithm(), v.h); got != v.want {
			return n, fmt.Errorf("%w: got %s, want %s", v.mismatch, got, v.want)
		}
	}
	return n, err
}
