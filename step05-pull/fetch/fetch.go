// Package fetch is the glue between the registry client, the store and the
// progress display: docker pull's and docker run's "get me this image",
// shared by step 5's demo, step 6's and final.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"minidocker/internal/units"
	"minidocker/step05-pull/progress"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
	"minidocker/step05-pull/store"
)

// MirrorEnv names a registry mirror for docker.io, like Docker's
// "registry-mirrors" in daemon.json.
const MirrorEnv = "MINIDOCKER_REGISTRY_MIRROR"

// Flags are how to reach registries: the values of the flags of every
// command that may pull, which that command declares (Mirror defaults to
// $MINIDOCKER_REGISTRY_MIRROR, MirrorEnv).
type Flags struct {
	Platform string   // --platform os/arch[/variant]
	Mirror   string   // --registry-mirror URL, for docker.io
	Insecure []string // --insecure-registry host[:port]
	Trace    bool     // --trace: print the HTTP exchange on stderr
}

// Client is a registry client with the flags' options.
func (r *Flags) Client() (*registry.Client, error) {
	opts := []registry.Option{registry.WithInsecure(r.Insecure...)}
	if r.Platform != "" {
		opts = append(opts, registry.WithPlatform(r.Platform))
	}
	if r.Mirror != "" {
		opts = append(opts, registry.WithMirror(r.Mirror))
	}
	if r.Trace {
		opts = append(opts, registry.WithTrace(os.Stderr))
	}
	return registry.New(opts...)
}

// Pull pulls arg (an image reference) into s, showing progress on out like docker pull.
func (r *Flags) Pull(ctx context.Context, s *store.Store, arg string, out io.Writer) (*store.Image, error) {
	ref, err := reference.Parse(arg)
	if err != nil {
		return nil, err
	}
	client, err := r.Client()
	if err != nil {
		return nil, err
	}
	tty := false
	if f, ok := out.(*os.File); ok {
		tty = progress.IsTerminal(f)
	}
	p := progress.New(out, tty)
	p.Start(ref)
	img, fresh, err := s.Pull(ctx, client, ref, p.Event)
	if err != nil {
		return nil, err
	}
	p.Done(img.PulledDigest(ref), ref, fresh)
	return img, nil
}

// GetOrPull returns the stored image arg, pulling it first when the store
// does not have it, as docker run does; the pull's progress goes to out.
func (r *Flags) GetOrPull(ctx context.Context, s *store.Store, arg string, out io.Writer) (*store.Image, error) {
	img, err := s.Get(arg)
	if errors.Is(err, store.ErrNotFound) {
		fmt.Fprintf(out, "Unable to find image '%s' locally\n", arg)
		return r.Pull(ctx, s, arg, out)
	}
	return img, err
}

// PrintImages prints list as docker images does:
//
//	REPOSITORY   TAG       IMAGE ID       CREATED        SIZE
//	busybox      latest    3f57d9401f8d   2 weeks ago    4.26MB
func PrintImages(w io.Writer, list []store.Image, quiet bool, now time.Time) {
	if quiet {
		for _, img := range list {
			fmt.Fprintln(w, img.ID.Encoded()[:12])
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	for _, img := range list {
		created := "N/A"
		if !img.Created.IsZero() {
			created = units.HumanDuration(now.Sub(img.Created)) + " ago"
		}
		tags := img.RepoTags
		if len(tags) == 0 {
			tags = []string{"<none>:<none>"}
		}
		for _, t := range tags {
			i := strings.LastIndexByte(t, ':')
			if i < strings.LastIndexByte(t, '/') {
				i = -1
			}
			repo, tag := t, "<none>"
			if i >= 0 {
				repo, tag = t[:i], t[i+1:]
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", repo, tag, img.ID.Encoded()[:12], created, units.HumanSize(img.Size))
		}
	}
	tw.Flush()
}
