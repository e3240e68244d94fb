package engine

import (
	"context"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/final/errdefs"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
	"minidocker/step05-pull/store"
)

// PushProgress receives a push's events, as PullProgress a pull's: Start
// once, Event per layer change, Done once the manifest is in.
type PushProgress interface {
	Start(ref reference.Reference)
	Event(p registry.Progress)
	Done(ref reference.Reference, manifest ocispec.Descriptor)
}

// Tag is docker tag: target names the image source names.
func (e *Engine) Tag(source, target string) error {
	_, err := e.images.Tag(source, target)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errdefs.NotFound(err)
	case err != nil:
		return errdefs.InvalidParameter(err)
	}
	return nil
}

// Push is docker push of ref (a name with a tag; "latest" when none): the
// image goes to ref's registry, and ref gets the digest it has there.
// Registries are reached as o says (insecure hosts; the platform and the
// mirror play no part).
func (e *Engine) Push(ctx context.Context, ref string, o PullOptions, progress PushProgress) (ocispec.Descriptor, error) {
	r, err := reference.Parse(ref)
	if err != nil {
		return ocispec.Descriptor{}, errdefs.InvalidParameter(err)
	}
	if r.Digest() != "" {
		return ocispec.Descriptor{}, errdefs.InvalidParameter(errors.New("cannot push a digest reference"))
	}
	o.Mirror, o.Platform = "", ""
	client, err := o.client()
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	var event func(registry.Progress)
	if progress != nil {
		progress.Start(r)
		event = progress.Event
	}
	pushed, err := e.images.Push(ctx, client, r, event)
	if errors.Is(err, store.ErrNotFound) {
		// dockerd's words for a name with nothing behind it.
		return ocispec.Descriptor{}, errdefs.NotFound(fmt.Errorf("An image does not exist locally with the tag: %s", r.Familiar()))
	}
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if progress != nil {
		progress.Done(r, pushed.Manifest)
	}
	return pushed.Manifest, nil
}
