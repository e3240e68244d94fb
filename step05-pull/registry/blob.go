package registry

import (
	"context"
	_ "crypto/sha256" // digest.SHA256 needs the hash linked in
	_ "crypto/sha512" // and digest.SHA512 this one
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/step05-pull/reference"
)

// Blob opens the blob desc of ref's repository as a stream, from a mirror
// first for Docker Hub images. The stream hashes what it returns and ends
// with an error matching ErrDigestMismatch or ErrSizeMismatch instead of
// io.EOF when the content is not what desc names: a caller must read to
// io.EOF before trusting anything it wrote. Cut connections are resumed
// with a Range request. The caller closes the stream.
func (c *Client) Blob(ctx context.Context, ref reference.Reference, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if err := validate(desc); err != nil {
		return nil, err
	}
	eps := c.endpoints(ref)
	for i, ep := range eps {
		b := c.newBlobReader(ctx, ep, ref.Path(), desc)
		err := b.open()
		if err == nil || i == len(eps)-1 || ctx.Err() != nil {
			if err != nil {
				return nil, fmt.Errorf("fetch blob %s: %w", desc.Digest, err)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("fetch blob %s: no endpoint", desc.Digest)
}

// blobReader is the verified, resuming stream behind Blob and Pull.
type blobReader struct {
	ctx  context.Context
	c    *Client
	ep   endpoint
	repo string
	desc ocispec.Descriptor

	digester digest.Digester
	body     io.ReadCloser
	n        int64 // bytes received and hashed
	failures int   // cut connections so far
	err      error // sticky: once set, every Read returns it

	// Hooks for Pull's progress; nil is fine.
	onRead     func(n int64)
	onRetry    func(wait time.Duration, err error)
	onVerify   func() // all bytes arrived, before the hash is compared
	onVerified func() // the hash matched
}

var _ io.ReadCloser = (*blobReader)(nil)

func (c *Client) newBlobReader(ctx context.Context, ep endpoint, repo string, desc ocispec.Descriptor) *blobReader {
	return &blobReader{ctx: ctx, c: c, ep: ep, repo: repo, desc: desc, digester: desc.Digest.Algorithm().Digester()}
}

// open sends GET /v2/<repo>/blobs/<digest>, with "Range: bytes=n-end" when
// n bytes already arrived. A registry may ignore Range and send everything
// (200): the first n bytes are then skipped.
func (b *blobReader) open() error {
	hdr := http.Header{}
	if b.n > 0 {
		// Both ends: some registries (ggcr's) do not parse "bytes=n-".
		hdr.Set("Range", fmt.Sprintf("bytes=%d-%d", b.n, b.desc.Size-1))
	}
	resp, err := b.c.do(b.ctx, b.ep, b.repo, "/v2/"+b.repo+"/blobs/"+b.desc.Digest.String(), hdr)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		if resp.ContentLength >= 0 && resp.ContentLength != b.desc.Size {
			drain(resp)
			return mismatch(ErrSizeMismatch, b.desc.Size, resp.ContentLength)
		}
		if b.n > 0 {
			if _, err := io.CopyN(io.Discard, resp.Body, b.n); err != nil {
				resp.Body.Close()
				return fmt.Errorf("skip %d bytes already received: %w", b.n, err)
			}
		}
	case resp.StatusCode == http.StatusPartialContent && b.n > 0:
		var start, end, total int64
		if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/%d", &start, &end, &total); err != nil || start != b.n {
			drain(resp)
			return fmt.Errorf("resume at byte %d: bad Content-Range %q", b.n, resp.Header.Get("Content-Range"))
		}
	default:
		return responseError(resp)
	}
	b.body = resp.Body
	return nil
}

func (b *blobReader) Read(p []byte) (int, error) {
	for b.err == nil {
		if b.body == nil {
			if err := b.open(); err != nil {
				b.err = err
				break
			}
		}
		n, err := b.body.Read(p)
		if n > 0 {
			if b.n+int64(n) > b.desc.Size {
				b.err = mismatch(ErrSizeMismatch, b.desc.Size, fmt.Sprintf("more than %d", b.desc.Size))
				break
			}
			b.digester.Hash().Write(p[:n])
			b.n += int64(n)
			if b.onRead != nil {
				b.onRead(b.n)
			}
		}
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF && b.n == b.desc.Size:
			b.err = b.verify()
			return n, b.err
		case b.ctx.Err() != nil:
			b.err = b.ctx.Err()
		default:
			// A cut connection (io.ErrUnexpectedEOF, "connection reset by
			// peer") or an early clean EOF: reconnect and ask for the rest.
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			b.body.Close()
			b.body = nil
			if rerr := b.retry(err); rerr != nil {
				b.err = rerr
			}
		}
		if n > 0 && b.err == nil {
			return n, nil
		}
	}
	return 0, b.err
}

// retry waits before the next attempt after a cut connection, or gives up
// after the configured number of attempts.
func (b *blobReader) retry(cause error) error {
	b.failures++
	if b.failures >= b.c.opts.attempts {
		return fmt.Errorf("after %d attempts, at byte %d of %d: %w", b.failures, b.n, b.desc.Size, cause)
	}
	wait := b.c.backoff(b.failures)
	if b.onRetry != nil {
		b.onRetry(wait, cause)
	}
	return sleep(b.ctx, wait)
}

// verify compares the hash of everything received with the digest.
func (b *blobReader) verify() error {
	if b.onVerify != nil {
		b.onVerify()
	}
	// exercise:begin 05-digest Compare the digest of every byte received (b.digester.Digest()) with b.desc.Digest: a difference is mismatch(ErrDigestMismatch, want, got); a match calls b.onVerified (if set) and returns io.EOF
	if got := b.digester.Digest(); got != b.desc.Digest {
		return mismatch(ErrDigestMismatch, b.desc.Digest, got)
	}
	if b.onVerified != nil {
		b.onVerified()
	}
	return io.EOF
	// exercise:end
}

// Close releases the connection.
func (b *blobReader) Close() error {
	if b.err == nil {
		b.err = errors.New("read after close")
	}
	if b.body != nil {
		err := b.body.Close()
		b.body = nil
		return err
	}
	return nil
}
