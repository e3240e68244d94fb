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
	"path"
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

// ImagesFormat is what docker images' flags change in its table.
type ImagesFormat struct {
	Quiet   bool // -q: the short IDs alone
	Digests bool // --digests: a DIGEST column
}

// PrintImages prints list as docker images does:
//
//	REPOSITORY   TAG       IMAGE ID       CREATED        SIZE
//	busybox      latest    3f57d9401f8d   2 weeks ago    4.26MB
//
// One row per repository and tag; with Digests, one per repository, tag
// and the digest that name was pulled as (<none> when none is known), and
// an image pulled by digest alone shows its digests with the tag <none>.
func PrintImages(w io.Writer, list []store.Image, f ImagesFormat, now time.Time) {
	if f.Quiet {
		for _, img := range list {
			fmt.Fprintln(w, img.ID.Encoded()[:12])
		}
		return
	}
	// The docker CLI's table: cells at least 10 wide, 3 spaces between.
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	if f.Digests {
		fmt.Fprintln(tw, "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE")
	} else {
		fmt.Fprintln(tw, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
	}
	for _, img := range list {
		created := "N/A"
		if !img.Created.IsZero() {
			created = units.HumanDuration(now.Sub(img.Created)) + " ago"
		}
		for _, r := range imageRows(img, f.Digests) {
			if f.Digests {
				fmt.Fprintf(tw, "%s\t%s\t%s\t", r.repo, r.tag, r.digest)
			} else {
				fmt.Fprintf(tw, "%s\t%s\t", r.repo, r.tag)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", img.ID.Encoded()[:12], created, units.HumanSize(img.Size))
		}
	}
	tw.Flush()
}

type imageRow struct{ repo, tag, digest string }

// imageRows are img's rows in docker images, as the docker CLI makes them
// from RepoTags ("busybox:latest") and RepoDigests ("busybox@sha256:…"):
// each tag of a repository once, or once per digest of that repository
// with digests; then the repositories that have digests but no tag.
func imageRows(img store.Image, digests bool) []imageRow {
	var repos []string // in the order they come: RepoTags are sorted
	tags := map[string][]string{}
	dgsts := map[string][]string{}
	for _, t := range img.RepoTags {
		i := strings.LastIndexByte(t, ':')
		if i < strings.LastIndexByte(t, '/') {
			continue // no tag
		}
		repo := t[:i]
		if _, ok := tags[repo]; !ok {
			repos = append(repos, repo)
		}
		tags[repo] = append(tags[repo], t[i+1:])
	}
	var untagged []string
	for _, rd := range img.RepoDigests {
		repo, d, ok := strings.Cut(rd, "@")
		if !ok {
			continue
		}
		if _, ok := tags[repo]; !ok && len(dgsts[repo]) == 0 {
			untagged = append(untagged, repo)
		}
		dgsts[repo] = append(dgsts[repo], d)
	}
	if len(repos) == 0 && len(untagged) == 0 {
		return []imageRow{{"<none>", "<none>", "<none>"}} // dangling
	}
	var rows []imageRow
	for _, repo := range repos {
		for _, tag := range tags[repo] {
			if !digests || len(dgsts[repo]) == 0 {
				rows = append(rows, imageRow{repo, tag, "<none>"})
				continue
			}
			for _, d := range dgsts[repo] {
				rows = append(rows, imageRow{repo, tag, d})
			}
		}
	}
	for _, repo := range untagged {
		if !digests {
			rows = append(rows, imageRow{repo, "<none>", ""})
			continue
		}
		for _, d := range dgsts[repo] {
			rows = append(rows, imageRow{repo, "<none>", d})
		}
	}
	return rows
}

// MatchImages keeps the images with a name that matches pattern, as
// docker images REPOSITORY[:TAG] (its reference filter) does: the pattern
// against "repo:tag", or against "repo" when it has no tag; each image
// keeps only its matching names.
func MatchImages(list []store.Image, pattern string) []store.Image {
	var out []store.Image
	for _, img := range list {
		var tags []string
		for _, rt := range img.RepoTags {
			repo := rt // "localhost:5000/x:1": the tag's colon is after the last slash
			if i := strings.LastIndex(rt, ":"); i > strings.LastIndex(rt, "/") {
				repo = rt[:i]
			}
			if ok, _ := path.Match(pattern, rt); ok {
				tags = append(tags, rt)
			} else if ok, _ := path.Match(pattern, repo); ok {
				tags = append(tags, rt)
			}
		}
		if len(tags) > 0 {
			img.RepoTags = tags
			out = append(out, img)
		}
	}
	return out
}
