package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/step05-pull/reference"
)

// The statuses of a push, in Docker's words.
const (
	StatusPreparing   = "Preparing"
	StatusLayerExists = "Layer already exists"
	StatusMounted     = "Mounted from " // followed by the source repository's path
	StatusPushing     = "Pushing"
	StatusPushed      = "Pushed"
)

// PushImage is an image to push: its config, exactly as its digest names
// it, and its layers, bottom first.
type PushImage struct {
	Config []byte
	// OCI selects the OCI media types for the manifest, config and
	// layers; otherwise Docker's (image manifest v2, schema 2), which is
	// what docker push writes.
	OCI    bool
	Layers []PushLayer
}

// PushLayer is one layer of a PushImage.
type PushLayer struct {
	DiffID digest.Digest
	// Known are compressed blobs already made of this layer (the one it
	// was pulled as, earlier pushes): if the registry has one, or can
	// mount it from the repository it came from, nothing is uploaded.
	Known []KnownBlob
	// Open returns the layer's uncompressed tar, whose digest is DiffID.
	Open func() (io.ReadCloser, error)
}

// KnownBlob is a compressed blob of a layer and where it is known to be.
type KnownBlob struct {
	Desc ocispec.Descriptor
	// Repo is the repository it was pulled from or pushed to
	// ("127.0.0.1:5000/team/app"); empty when unknown.
	Repo string
}

// Pushed is what Push did.
type Pushed struct {
	Manifest ocispec.Descriptor
	// Layers are the blobs the manifest lists, bottom first; those that
	// were uploaded are new KnownBlobs of their layers.
	Layers []KnownBlob
}

// Push uploads img to ref's repository and tags it with ref's tag, the
// way docker push does:
//
//  1. For each layer, HEAD /v2/<name>/blobs/<digest> of every blob known
//     for it: the registry may have it already ("Layer already exists").
//  2. Else, if one came from another repository of the same registry,
//     POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo> asks the
//     registry to link it without a byte sent ("Mounted from ...").
//  3. Else the layer's tar is compressed on the fly and sent: POST opens
//     an upload session, PATCH streams the bytes, PUT ?digest= closes it
//     with the digest the registry checks.
//  4. The config, the same way (it is small: one PUT with the body).
//  5. PUT /v2/<name>/manifests/<tag>: the manifest listing those blobs.
//
// The token asked for is repository:<name>:pull,push (and
// repository:<from>:pull for a mount).
func (c *Client) Push(ctx context.Context, ref reference.Reference, img PushImage, progress func(Progress)) (*Pushed, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	if ref.Digest() != "" {
		return nil, fmt.Errorf("push %s: cannot push a digest reference", ref)
	}
	ep := endpoint{host: ref.Host()}
	p := &pusher{c: c, ep: ep, ref: ref, repo: ref.Path(), progress: progress}
	p.scope = "repository:" + p.repo + ":pull,push"
	var cfg ocispec.Image
	if err := json.Unmarshal(img.Config, &cfg); err != nil {
		return nil, fmt.Errorf("push %s: image config: %w", ref, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(img.Layers) {
		return nil, fmt.Errorf("push %s: the config lists %d layers, the image has %d", ref, len(cfg.RootFS.DiffIDs), len(img.Layers))
	}
	layerType, configType, manifestType := MediaTypeDockerLayer, MediaTypeDockerConfig, MediaTypeDockerManifest
	if img.OCI {
		layerType, configType, manifestType = ocispec.MediaTypeImageLayerGzip, ocispec.MediaTypeImageConfig, ocispec.MediaTypeImageManifest
	}
	for _, l := range img.Layers {
		progress(Progress{ID: shortID(l.DiffID), Status: StatusPreparing})
	}
	out := &Pushed{}
	for i, l := range img.Layers {
		if l.DiffID != cfg.RootFS.DiffIDs[i] {
			return nil, fmt.Errorf("push %s: layer %d is %s, the config says %s", ref, i, l.DiffID, cfg.RootFS.DiffIDs[i])
		}
		blob, err := p.layer(ctx, l, layerType)
		if err != nil {
			return nil, fmt.Errorf("push %s: layer %s: %w", ref, shortID(l.DiffID), err)
		}
		out.Layers = append(out.Layers, blob)
	}
	configDesc := ocispec.Descriptor{MediaType: configType, Digest: digest.FromBytes(img.Config), Size: int64(len(img.Config))}
	if err := p.smallBlob(ctx, configDesc, img.Config); err != nil {
		return nil, fmt.Errorf("push %s: config: %w", ref, err)
	}
	m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: manifestType, Config: configDesc}
	for _, b := range out.Layers {
		m.Layers = append(m.Layers, b.Desc)
	}
	data, err := json.MarshalIndent(m, "", "   ")
	if err != nil {
		return nil, err
	}
	out.Manifest = ocispec.Descriptor{MediaType: manifestType, Digest: digest.FromBytes(data), Size: int64(len(data))}
	resp, err := c.request(ctx, ep, call{method: http.MethodPut, target: "/v2/" + p.repo + "/manifests/" + ref.Tag(), scope: p.scope,
		hdr: http.Header{"Content-Type": {manifestType}}, body: bytes.NewReader(data), length: int64(len(data))})
	if err != nil {
		return nil, fmt.Errorf("push %s: manifest: %w", ref, err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("push %s: manifest: %w", ref, responseError(resp))
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != out.Manifest.Digest.String() {
		return nil, fmt.Errorf("push %s: manifest: the registry stored %s, we sent %s", ref, got, out.Manifest.Digest)
	}
	return out, nil
}

type pusher struct {
	c        *Client
	ep       endpoint
	ref      reference.Reference
	repo     string
	scope    string
	progress func(Progress)
}

// layer makes sure the registry has a blob of l in p.repo and returns it.
func (p *pusher) layer(ctx context.Context, l PushLayer, mediaType string) (KnownBlob, error) {
	id := shortID(l.DiffID)
	for _, k := range l.Known {
		ok, err := p.has(ctx, k.Desc.Digest)
		if err != nil {
			return KnownBlob{}, err
		}
		if ok {
			p.progress(Progress{ID: id, Status: StatusLayerExists})
			return KnownBlob{Desc: withType(k.Desc, mediaType), Repo: p.ref.Name()}, nil
		}
	}
	for _, k := range l.Known {
		from, err := reference.Parse(k.Repo)
		if err != nil || from.Host() != p.ref.Host() || from.Path() == p.repo {
			continue
		}
		ok, err := p.mount(ctx, k.Desc.Digest, from.Path())
		if err != nil {
			return KnownBlob{}, err
		}
		if ok {
			p.progress(Progress{ID: id, Status: StatusMounted + from.Path()})
			return KnownBlob{Desc: withType(k.Desc, mediaType), Repo: p.ref.Name()}, nil
		}
	}
	desc, err := p.upload(ctx, l, mediaType)
	if err != nil {
		return KnownBlob{}, err
	}
	p.progress(Progress{ID: id, Status: StatusPushed})
	return KnownBlob{Desc: desc, Repo: p.ref.Name()}, nil
}

// withType is d as the manifest lists it: a gzip layer gets the media type
// of the manifest's kind (the same bytes are both a Docker and an OCI
// layer); another compression keeps its own.
func withType(d ocispec.Descriptor, gzipType string) ocispec.Descriptor {
	mt := d.MediaType
	if mt == MediaTypeDockerLayer || mt == ocispec.MediaTypeImageLayerGzip || mt == "" {
		mt = gzipType
	}
	return ocispec.Descriptor{MediaType: mt, Digest: d.Digest, Size: d.Size}
}

// has asks HEAD /v2/<name>/blobs/<digest>.
func (p *pusher) has(ctx context.Context, d digest.Digest) (bool, error) {
	resp, err := p.c.request(ctx, p.ep, call{method: http.MethodHead, target: "/v2/" + p.repo + "/blobs/" + d.String(), scope: p.scope})
	if err != nil {
		return false, err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, fmt.Errorf("HEAD blob %s: %w", d, responseError(resp))
}

// mount asks for a cross-repository mount of d from the repository from.
// A registry that cannot (or may not) answers 202 with an upload session,
// which is closed again unused.
func (p *pusher) mount(ctx context.Context, d digest.Digest, from string) (bool, error) {
	q := url.Values{"mount": {d.String()}, "from": {from}}
	resp, err := p.c.request(ctx, p.ep, call{method: http.MethodPost, target: "/v2/" + p.repo + "/blobs/uploads/?" + q.Encode(),
		scope: p.scope + " repository:" + from + ":pull"})
	if err != nil {
		return false, err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusCreated:
		return true, nil
	case http.StatusAccepted:
		if loc, err := p.location(resp); err == nil {
			if r, err := p.c.request(ctx, p.ep, call{method: http.MethodDelete, target: loc, scope: p.scope}); err == nil {
				drain(r)
			}
		}
		return false, nil
	}
	return false, fmt.Errorf("mount blob %s from %s: %w", d, from, responseError(resp))
}

// start opens an upload session: POST /v2/<name>/blobs/uploads/.
func (p *pusher) start(ctx context.Context) (string, error) {
	resp, err := p.c.request(ctx, p.ep, call{method: http.MethodPost, target: "/v2/" + p.repo + "/blobs/uploads/", scope: p.scope})
	if err != nil {
		return "", err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("start upload: %w", responseError(resp))
	}
	return p.location(resp)
}

// location is the upload session's URL from a response, made absolute.
func (p *pusher) location(resp *http.Response) (string, error) {
	loc, err := resp.Location()
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	return loc.String(), nil
}

// finish closes the session at loc with PUT ?digest=d and the remaining
// body (may be empty).
func (p *pusher) finish(ctx context.Context, loc string, d digest.Digest, body []byte) error {
	u, err := url.Parse(loc)
	if err != nil {
		return fmt.Errorf("upload: location %q: %w", loc, err)
	}
	q := u.Query()
	q.Set("digest", d.String())
	u.RawQuery = q.Encode()
	resp, err := p.c.request(ctx, p.ep, call{method: http.MethodPut, target: u.String(), scope: p.scope,
		hdr: http.Header{"Content-Type": {"application/octet-stream"}}, body: bytes.NewReader(body), length: int64(len(body))})
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("finish upload of %s: %w", d, responseError(resp))
	}
	return nil
}

// smallBlob uploads data (a config) unless the registry has it: one
// POST, one PUT with the body.
func (p *pusher) smallBlob(ctx context.Context, desc ocispec.Descriptor, data []byte) error {
	if ok, err := p.has(ctx, desc.Digest); err != nil || ok {
		return err
	}
	loc, err := p.start(ctx)
	if err != nil {
		return err
	}
	return p.finish(ctx, loc, desc.Digest, data)
}

// pushEvery is how many bytes pass between two Pushing events.
const pushEvery = 512 << 10

// upload compresses l's tar while it streams it to the registry in one
// PATCH, and closes the session with the digest of what was sent. The tar
// is checked against the diffID on the way (Open's reader must fail at
// EOF otherwise): a wrong layer never gets its PUT, so the registry never
// commits it.
func (p *pusher) upload(ctx context.Context, l PushLayer, mediaType string) (ocispec.Descriptor, error) {
	if l.Open == nil {
		return ocispec.Descriptor{}, errors.New("the layer's content is not available")
	}
	loc, err := p.start(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	tarStream, err := l.Open()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer tarStream.Close()

	pr, pw := io.Pipe()
	digester := digest.Canonical.Digester()
	counter := &countWriter{id: shortID(l.DiffID), progress: p.progress}
	compressed := make(chan error, 1)
	go func() {
		// gzip with no name and no time in its header: the same tar gives
		// the same blob, so pushing it again finds it there.
		zw, err := gzip.NewWriterLevel(io.MultiWriter(pw, digester.Hash(), counter), gzip.DefaultCompression)
		if err == nil {
			_, err = io.Copy(zw, tarStream)
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
		}
		pw.CloseWithError(err)
		compressed <- err
	}()
	resp, err := p.c.request(ctx, p.ep, call{method: http.MethodPatch, target: loc, scope: p.scope,
		hdr: http.Header{"Content-Type": {"application/octet-stream"}}, body: pr, length: -1})
	pr.CloseWithError(errors.New("upload ended")) // the writer stops if the request did
	// What was read is checked before anything is committed: the whole
	// tar went through, and it hashed to the diffID.
	if cerr := <-compressed; cerr != nil {
		if resp != nil {
			drain(resp)
		}
		return ocispec.Descriptor{}, cerr
	}
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("upload: %w", err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusNoContent {
		return ocispec.Descriptor{}, fmt.Errorf("upload: %w", responseError(resp))
	}
	if loc, err = p.location(resp); err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digester.Digest(), Size: counter.n}
	if err := p.finish(ctx, loc, desc.Digest, nil); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// countWriter counts the compressed bytes and reports Pushing events.
type countWriter struct {
	id       string
	n, last  int64
	progress func(Progress)
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.n-w.last >= pushEvery {
		w.last = w.n
		w.progress(Progress{ID: w.id, Status: StatusPushing, Current: w.n})
	}
	return len(p), nil
}

// FormatPushed is docker push's last line: "latest: digest: sha256:… size: 527".
func FormatPushed(tag string, m ocispec.Descriptor) string {
	return tag + ": digest: " + m.Digest.String() + " size: " + strconv.FormatInt(m.Size, 10)
}
