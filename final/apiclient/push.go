package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/moby/moby/client"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// Tag is POST /images/{name}/tag.
func (c *Client) Tag(source, target string) error {
	if _, err := c.api.ImageTag(c.ctx, client.ImageTagOptions{Source: source, Target: target}); err != nil {
		return kind(err)
	}
	return nil
}

// Push is POST /images/{name}/push, its progress read from the stream:
// the layers' lines, then the "aux" record with the digest and size.
func (c *Client) Push(ctx context.Context, ref string, o engine.PullOptions, progress engine.PushProgress) (ocispec.Descriptor, error) {
	r, err := reference.Parse(ref)
	if err != nil {
		return ocispec.Descriptor{}, errdefs.InvalidParameter(err)
	}
	// The daemon uses its own credentials; the header must still be there.
	resp, err := c.api.ImagePush(ctx, r.String(), client.ImagePushOptions{RegistryAuth: "e30="})
	if err != nil {
		return ocispec.Descriptor{}, kind(err)
	}
	defer resp.Close()
	var out ocispec.Descriptor
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return ocispec.Descriptor{}, kind(err)
		}
		if m.Error != nil {
			e := &daemonError{msg: m.Error.Message, err: errors.New(m.Error.Message)}
			return ocispec.Descriptor{}, errdefs.System(e)
		}
		switch {
		case strings.HasPrefix(m.Status, "The push refers to repository"):
			if progress != nil {
				progress.Start(r)
			}
		case m.Aux != nil:
			var aux struct {
				Digest digest.Digest
				Size   int64
			}
			if err := json.Unmarshal(*m.Aux, &aux); err == nil {
				out = ocispec.Descriptor{Digest: aux.Digest, Size: aux.Size}
			}
		case m.ID != "" && progress != nil:
			p := registry.Progress{ID: m.ID, Status: m.Status}
			if m.Progress != nil {
				p.Current, p.Total = m.Progress.Current, m.Progress.Total
			}
			progress.Event(p)
		}
	}
	if out.Digest == "" {
		return out, errdefs.System(errors.New("push: the daemon did not say the digest"))
	}
	if progress != nil {
		progress.Done(r, out)
	}
	return out, nil
}
