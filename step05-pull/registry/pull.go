package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"minidocker/step05-pull/reference"
)

// The statuses of Progress, in docker pull's words. The store reports the
// last two while it unpacks.
const (
	StatusAlreadyExists    = "Already exists"
	StatusPullingFSLayer   = "Pulling fs layer"
	StatusWaiting          = "Waiting"
	StatusDownloading      = "Downloading"
	StatusRetrying         = "Retrying" // shown as "Retrying in N seconds"
	StatusVerifying        = "Verifying Checksum"
	StatusDownloadComplete = "Download complete"
	StatusExtracting       = "Extracting"
	StatusPullComplete     = "Pull complete"
)

// Progress is one event of a pull, for one layer.
type Progress struct {
	// ID is the layer's short ID: the first 12 hex digits of its digest.
	ID string
	// Status is one of the Status* constants; for StatusRetrying the text
	// is Docker's "Retrying in N seconds".
	Status string
	// Current and Total are bytes, for StatusDownloading (and Extracting).
	Current, Total int64
}

// progressEvery is how many bytes pass between two Downloading events.
const progressEvery = 512 << 10

// Sink is where Pull hands the layers. Every field may be nil.
type Sink struct {
	// Exists reports whether the layer is already stored (by its diffID,
	// say); Pull then does not fetch it and reports "Already exists".
	Exists func(l Layer) bool
	// Layer receives each layer's stream while it downloads, at most
	// WithConcurrency at a time. r returns an error wrapping
	// ErrDigestMismatch or ErrSizeMismatch instead of io.EOF when the blob
	// is not what the manifest says, so nothing may be committed before r
	// returned io.EOF. What Layer leaves unread, Pull reads and checks.
	// nil: the blob is read, checked and dropped.
	Layer func(ctx context.Context, l Layer, r io.Reader) error
	// Progress receives the events of every layer, one call at a time.
	Progress func(Progress)
}

// Pull resolves ref (Resolve) and streams its layers into sink, a few in
// parallel. It returns the resolved image once every layer arrived whole and
// every Sink.Layer call returned nil.
func (c *Client) Pull(ctx context.Context, ref reference.Reference, sink Sink) (*Image, error) {
	img, err := c.Resolve(ctx, ref)
	if errors.Is(err, ErrInvalidDigest) {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	if err != nil {
		return nil, err
	}
	if err := c.fetchLayers(ctx, img, sink); err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	return img, nil
}

func (c *Client) fetchLayers(ctx context.Context, img *Image, sink Sink) error {
	var mu sync.Mutex
	report := func(p Progress) {
		if sink.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		sink.Progress(p)
	}
	// The same blob can appear twice (an empty layer): fetch it once.
	var todo []Layer
	seen := map[string]bool{}
	for _, l := range img.Layers {
		switch {
		case seen[l.Digest.String()]:
		case sink.Exists != nil && sink.Exists(l):
			report(Progress{ID: l.ShortID(), Status: StatusAlreadyExists})
		default:
			report(Progress{ID: l.ShortID(), Status: StatusPullingFSLayer})
			todo = append(todo, l)
		}
		seen[l.Digest.String()] = true
	}
	for _, l := range todo[min(c.opts.concurrency, len(todo)):] {
		report(Progress{ID: l.ShortID(), Status: StatusWaiting})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.concurrency)
	for _, l := range todo {
		g.Go(func() error { return c.fetchLayer(gctx, img, l, sink, report) })
	}
	return g.Wait()
}

// fetchLayer streams one layer into sink.Layer, then reads and checks what
// it left.
func (c *Client) fetchLayer(ctx context.Context, img *Image, l Layer, sink Sink, report func(Progress)) error {
	id := l.ShortID()
	r := c.newBlobReader(ctx, img.endpoint, img.Ref.Path(), l.Descriptor)
	defer r.Close()
	var last int64 = -progressEvery
	r.onRead = func(n int64) {
		if n-last >= progressEvery || n == l.Size {
			last = n
			report(Progress{ID: id, Status: StatusDownloading, Current: n, Total: l.Size})
		}
	}
	r.onRetry = func(wait time.Duration, _ error) {
		secs, plural := int(math.Ceil(wait.Seconds())), "s"
		if secs == 1 {
			plural = ""
		}
		report(Progress{ID: id, Status: fmt.Sprintf("%s in %d second%s", StatusRetrying, secs, plural)})
	}
	r.onVerify = func() { report(Progress{ID: id, Status: StatusVerifying}) }
	r.onVerified = func() { report(Progress{ID: id, Status: StatusDownloadComplete}) }
	if sink.Layer != nil {
		if err := sink.Layer(ctx, l, r); err != nil {
			if r.err != nil && r.err != io.EOF {
				// The sink failed because the download did: say so.
				return fmt.Errorf("fetch blob %s: %w", l.Digest, r.err)
			}
			return fmt.Errorf("layer %s: %w", l.Digest, err)
		}
	}
	// The sink may stop early (a tar reader stops at the end-of-archive
	// blocks, before gzip's trailer); the digest covers every byte.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("fetch blob %s: %w", l.Digest, err)
	}
	return nil
}
