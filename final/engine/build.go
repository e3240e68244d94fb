package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/final/builder"
	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/step03-rootfs-layers/layers"
	"minidocker/step05-pull/progress"
	"minidocker/step05-pull/store"
	"minidocker/step06-networking/connect"
)

// BuildOptions are docker build's, and how to reach registries for FROM.
type BuildOptions struct {
	builder.Options
	Pull PullOptions
}

// Build is docker build: the classic builder (package builder) with this
// engine as its backend. Every RUN is a container of this engine, created
// and started as docker run's are: the same confinement, cgroups and
// network. It returns the image's ID.
func (e *Engine) Build(ctx context.Context, o BuildOptions, out io.Writer) (digest.Digest, error) {
	id, err := builder.Build(ctx, &buildBackend{e: e, ctx: ctx, pull: o.Pull}, o.Options, out)
	var be *builder.Error
	if errors.As(err, &be) && be.Code == 0 {
		return "", errdefs.InvalidParameter(err)
	}
	return id, err
}

// BuildArchive is Build of a context sent as a tar (docker build through
// the daemon): unpacked into a directory of the data root, every entry kept
// inside it (step 3's Apply), and removed afterwards. o.Dockerfile is a
// path inside the context ("" for Dockerfile).
func (e *Engine) BuildArchive(ctx context.Context, archive io.Reader, o BuildOptions, out io.Writer) (digest.Digest, error) {
	dir, err := os.MkdirTemp(e.Root, ".build-context-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	tarStream, err := layers.Decompress(archive)
	if err != nil {
		return "", errdefs.InvalidParameter(fmt.Errorf("build context: %w", err))
	}
	_, err = layers.Apply(dir, tarStream)
	tarStream.Close()
	if err != nil {
		return "", errdefs.InvalidParameter(fmt.Errorf("build context: %w", err))
	}
	o.Context = dir
	if o.Dockerfile != "" {
		if o.Dockerfile, err = securejoin.SecureJoin(dir, o.Dockerfile); err != nil {
			return "", errdefs.InvalidParameter(err)
		}
	}
	return e.Build(ctx, o, out)
}

type buildBackend struct {
	e    *Engine
	ctx  context.Context
	pull PullOptions
}

func (b *buildBackend) image(id digest.Digest) (builder.Image, *store.Image, error) {
	img, err := b.e.images.Get(id.String())
	if err != nil {
		return builder.Image{}, nil, err
	}
	return builder.Image{ID: img.ID, Config: img.Config}, img, nil
}

func (b *buildBackend) Base(ctx context.Context, ref string, out io.Writer) (builder.Image, error) {
	img, err := b.e.PullIfMissing(ctx, ref, b.pull, progress.New(out, false))
	if err != nil {
		return builder.Image{}, err
	}
	return builder.Image{ID: img.ID, Config: img.Config}, nil
}

// Run creates a container of parent whose command is spec's (the image's
// ENTRYPOINT does not apply to RUN), attached to out, and waits for it.
func (b *buildBackend) Run(ctx context.Context, parent builder.Image, spec builder.RunSpec, out io.Writer) (int, string, func(), error) {
	if parent.ID == "" {
		return 0, "", nil, errors.New("RUN in an image built FROM scratch: it has no files, no shell")
	}
	_, img, err := b.image(parent.ID)
	if err != nil {
		return 0, "", nil, err
	}
	empty := ""
	c, err := b.e.Create(RunOptions{Image: img, ImageRef: parent.ID.String(), Args: spec.Args, Entrypoint: &empty,
		Env: spec.Env, Dir: spec.Dir, User: spec.User, Network: connect.Bridge})
	if err != nil {
		return 0, "", nil, err
	}
	done := func() { _ = b.e.Remove(c.ID, RemoveOptions{Force: true, Volumes: true}) }
	started, err := b.e.Start(c.ID, &AttachOptions{Stdout: out, Stderr: out})
	if err != nil {
		return 0, "", done, err
	}
	code, err := started.Wait()
	if err != nil {
		return 0, "", done, err
	}
	// The container has exited; its changes stay in its upper directory
	// until it is removed (done).
	if _, err := b.e.Wait(ctx, c.ID); err != nil {
		return 0, "", done, err
	}
	upper := filepath.Join(b.e.containerDir(c.ID), "upper")
	if err := b.dropMountpoints(upper, parent, c); err != nil {
		return 0, "", done, err
	}
	return code, upper, done, nil
}

// dropMountpoints removes from a RUN container's upper directory what the
// container's set-up made there and the image did not have: the mount
// points of /proc, /sys and /dev, of the network's /etc files and of the
// volumes. What the command wrote under them went to the mounts, never to
// upper, so these are empty: left in, every RUN would add them to its
// layer. (Docker keeps them out with an "init" layer under the container's.)
func (b *buildBackend) dropMountpoints(upper string, parent builder.Image, c *state.Container) error {
	points := []string{"proc", "sys", "dev", "etc/hosts", "etc/hostname", "etc/resolv.conf"}
	for _, m := range c.Config.Mounts {
		points = append(points, strings.TrimPrefix(filepath.Clean(m.Destination), "/"))
	}
	for _, p := range points {
		if p == "" || p == "." || b.e.images.Layers().HasPath(parent.Config.RootFS.DiffIDs, p) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(upper, p)); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	return nil
}

func (b *buildBackend) Changes(parent builder.Image, fn func(root *os.Root) error) (string, func(), error) {
	dir, err := os.MkdirTemp(b.e.Root, ".build-")
	if err != nil {
		return "", nil, fmt.Errorf("build: %w", err)
	}
	done := func() { os.RemoveAll(dir) }
	if err := b.e.images.Layers().Changes(parent.Config.RootFS.DiffIDs, dir, fn); err != nil {
		return "", done, err
	}
	return filepath.Join(dir, "upper"), done, nil
}

func (b *buildBackend) Commit(parent builder.Image, upper string, cfg ocispec.Image, key string, intermediate bool, epoch *time.Time) (builder.Image, error) {
	id, err := b.e.images.Commit(parent.ID, upper, cfg, key, intermediate, epoch)
	if err != nil {
		return builder.Image{}, err
	}
	img, _, err := b.image(id)
	return img, err
}

func (b *buildBackend) Cached(parent builder.Image, key string) (builder.Image, bool) {
	img, ok := b.e.images.Cached(parent.ID, key)
	if !ok {
		return builder.Image{}, false
	}
	return builder.Image{ID: img.ID, Config: img.Config}, true
}

func (b *buildBackend) Tag(id digest.Digest, name string) error {
	_, err := b.e.images.Tag(id.String(), name)
	return err
}
