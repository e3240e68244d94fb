package apiclient

import (
	"context"
	"errors"
	"io"

	"github.com/opencontainers/go-digest"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
)

// Build through a daemon is not served yet: docker build's POST /build
// with the context as a tar.
func (c *Client) Build(ctx context.Context, o engine.BuildOptions, out io.Writer) (digest.Digest, error) {
	return "", errdefs.InvalidParameter(errors.New("build through a daemon (-H) is not supported yet: run minidocker build without -H"))
}
