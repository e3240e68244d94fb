package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	"github.com/opencontainers/go-digest"

	"minidocker/final/builder"
	"minidocker/final/engine"
)

// Build is POST /build, as the docker CLI's classic builder sends it: the
// context directory as a tar in the body (the daemon applies
// .dockerignore), the Dockerfile named by its path inside it, and the
// builder's output copied from the answer's "stream" lines.
func (c *Client) Build(ctx context.Context, o engine.BuildOptions, out io.Writer) (digest.Digest, error) {
	dockerfile := ""
	if o.Dockerfile != "" {
		rel, err := filepath.Rel(o.Context, o.Dockerfile)
		if err != nil || strings.HasPrefix(rel, "..") {
			return "", errors.New("the Dockerfile must be inside the build context when building through a daemon")
		}
		dockerfile = filepath.ToSlash(rel)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(engine.WriteTar(pw, os.DirFS(o.Context), ".", ".")) }()
	defer pr.Close()
	args := map[string]*string{}
	for k, v := range o.BuildArgs {
		args[k] = &v
	}
	res, err := c.api.ImageBuild(ctx, pr, client.ImageBuildOptions{Tags: o.Tags, Dockerfile: dockerfile, BuildArgs: args,
		NoCache: o.NoCache, Target: o.Target, SuppressOutput: o.Quiet, Remove: true})
	if err != nil {
		return "", kind(err)
	}
	defer res.Body.Close()
	var id digest.Digest
	dec := json.NewDecoder(res.Body)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return "", kind(err)
		}
		if m.Error != nil {
			return "", &builder.Error{File: "Dockerfile", Err: errors.New(m.Error.Message), Code: m.Error.Code}
		}
		if m.Aux != nil {
			var aux struct{ ID digest.Digest }
			if json.Unmarshal(*m.Aux, &aux) == nil && aux.ID != "" {
				id = aux.ID
			}
			continue
		}
		if m.Stream != "" && !o.Quiet {
			io.WriteString(out, m.Stream)
		}
	}
	if id == "" {
		return "", errors.New("build: the daemon did not say the image's ID")
	}
	return id, nil
}
