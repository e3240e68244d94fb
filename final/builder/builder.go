// Package builder builds images from a Dockerfile the way Docker's classic
// builder does: one step per instruction, each step a new image made from
// the one before.
//
// # The idea
//
// An image is a stack of layers and a config. Every instruction of a
// Dockerfile is a step that starts from the image so far and makes the
// next one:
//
//   - RUN runs its command in a container of that image (the engine's
//     container, with all its confinement: namespaces, cgroups, seccomp,
//     the bridge network); what the command changed is the container's
//     overlay upper directory, and that directory, diffed into a tar
//     (step 3's layers.Diff: whiteouts for deletions), is the new layer;
//   - COPY and ADD write files from the build context into the image's
//     tree through an overlay of its own (layers.Changes); the upper
//     directory again becomes the layer;
//   - ENV, LABEL, CMD, USER, … change only the config: a new image with
//     the same layers and an "empty_layer" history entry.
//
// Each step's image is committed to the store, marked intermediate (docker
// images hides it): that is the build cache. A step is skipped ("Using
// cache") when the store has an image made from the same parent by a step
// with the same key: the instruction as written after variable
// substitution, and for COPY and ADD the content (not the times) of every
// file copied. Change one copied file and that step and every one after it
// run again; that is why a Dockerfile copies the dependency list and
// installs before it copies the rest of the sources.
//
// The Dockerfile is parsed by BuildKit's parser and instructions packages
// (github.com/moby/buildkit/frontend/dockerfile), which are Docker's own:
// line continuations, comments, the escape directive, JSON and shell forms,
// $VAR and ${VAR:-default}, each error with its line.
package builder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options are docker build's.
type Options struct {
	Context    string            // the build context's directory
	Dockerfile string            // its path; "" for Context/Dockerfile
	Tags       []string          // -t
	BuildArgs  map[string]string // --build-arg K=V
	NoCache    bool              // --no-cache
	Target     string            // --target: the stage to build; "" for the last
	Quiet      bool              // -q: print only the image ID
	// Epoch, when set (SOURCE_DATE_EPOCH), is every time the build writes:
	// the image's and history's created, and the layers' file times are
	// clamped to it. Two builds of the same context then give the same
	// image ID.
	Epoch *time.Time
}

// Image is an image as the builder sees it: its ID ("" for scratch) and
// config.
type Image struct {
	ID     digest.Digest
	Config ocispec.Image
}

// RunSpec is one RUN: the command (the shell form already wrapped in the
// shell), and the environment, user and directory it runs with.
type RunSpec struct {
	Args []string
	Env  []string
	User string
	Dir  string
}

// Backend is what a build needs of the engine.
type Backend interface {
	// Base is FROM's image, pulled when missing (progress on out).
	Base(ctx context.Context, ref string, out io.Writer) (Image, error)
	// Run runs spec in a container of parent, its output on out, and
	// returns the exit code and the container's upper directory (what the
	// command changed); done removes the container.
	Run(ctx context.Context, parent Image, spec RunSpec, out io.Writer) (code int, upper string, done func(), err error)
	// Changes lets fn change parent's files (see layers.Changes) and
	// returns the upper directory; done removes it.
	Changes(parent Image, fn func(root *os.Root) error) (upper string, done func(), err error)
	// Commit stores the image that parent and upper (may be "") and cfg
	// make; see store.Commit.
	Commit(parent Image, upper string, cfg ocispec.Image, key string, intermediate bool, epoch *time.Time) (Image, error)
	// Cached is the build cache's image for (parent, key), if any.
	Cached(parent Image, key string) (Image, bool)
	// Tag names id.
	Tag(id digest.Digest, name string) error
}

// Error is a build's failure at a line of the Dockerfile.
type Error struct {
	File string
	Line int
	Err  error
	// Code is the failed RUN's exit code, 0 otherwise.
	Code int
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Build builds the Dockerfile of o in o.Context and returns the image's
// ID, printing the classic builder's steps on out.
func Build(ctx context.Context, be Backend, o Options, out io.Writer) (digest.Digest, error) {
	if fi, err := os.Stat(o.Context); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("unable to prepare context: path %q not found", o.Context)
	}
	dockerfile := o.Dockerfile
	if dockerfile == "" {
		dockerfile = filepath.Join(o.Context, "Dockerfile")
	}
	name := filepath.Base(dockerfile)
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		return "", &Error{File: name, Err: err}
	}
	res, err := parser.Parse(strings.NewReader(string(data)))
	if err != nil {
		return "", &Error{File: name, Line: errLine(err), Err: errors.New(cleanParseError(err))}
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return "", &Error{File: name, Line: errLine(err), Err: errors.New(cleanParseError(err))}
	}
	if len(stages) == 0 {
		return "", &Error{File: name, Err: errors.New("no build stage in Dockerfile")}
	}
	target := len(stages) - 1
	if o.Target != "" {
		target = slices.IndexFunc(stages, func(s instructions.Stage) bool { return strings.EqualFold(s.Name, o.Target) })
		if target < 0 {
			return "", &Error{File: name, Err: fmt.Errorf("target stage %q could not be found", o.Target)}
		}
	}
	ignore, err := readDockerignore(o.Context)
	if err != nil {
		return "", &Error{File: ".dockerignore", Err: err}
	}
	b := &build{be: be, o: o, out: out, file: name, lex: shell.NewLex(res.EscapeToken), ignore: ignore, stages: map[string]Image{}}
	if o.Quiet {
		b.out = io.Discard
	}
	// ARGs before the first FROM: visible in FROM lines only.
	b.meta = map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			v, set := o.BuildArgs[kv.Key]
			if !set && kv.Value != nil {
				v, _, _ = b.lex.ProcessWord(*kv.Value, shell.EnvsFromSlice(envList(b.meta)))
			}
			b.meta[kv.Key] = v
		}
	}
	b.total = 0
	for _, st := range stages[:target+1] {
		b.total += 1 + len(st.Commands)
	}
	var img Image
	for i, st := range stages[:target+1] {
		img, err = b.stage(ctx, st, i == target)
		if err != nil {
			return "", err
		}
		b.stages[strings.ToLower(st.Name)] = img
		b.stages[fmt.Sprint(i)] = img
	}
	fmt.Fprintf(b.out, "Successfully built %s\n", short(img.ID))
	for _, t := range o.Tags {
		if err := be.Tag(img.ID, t); err != nil {
			return "", err
		}
		fmt.Fprintf(b.out, "Successfully tagged %s\n", t)
	}
	return img.ID, nil
}

type build struct {
	be     Backend
	o      Options
	out    io.Writer
	file   string
	lex    *shell.Lex
	ignore *dockerignore
	meta   map[string]string
	stages map[string]Image // by lower-case name and by index
	step   int
	total  int
}

// state is a stage's image so far and what the next steps see.
type state struct {
	img   Image
	args  map[string]string // ARGs declared in this stage, with their values
	shell []string
}

func short(id digest.Digest) string {
	if id == "" {
		return "scratch"
	}
	return id.Encoded()[:12]
}

func envList(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// env is what substitution and RUN see: the image's ENV over the stage's
// ARGs, as Docker orders them.
func (s *state) env() []string {
	env := slices.Clone(s.img.Config.Config.Env)
	for _, kv := range envList(s.args) {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, k+"=") }) {
			env = append(env, kv)
		}
	}
	return env
}

func (b *build) stage(ctx context.Context, st instructions.Stage, last bool) (Image, error) {
	b.step++
	line := lineOf(st.Location)
	base, _, err := b.lex.ProcessWord(st.BaseName, shell.EnvsFromSlice(envList(b.meta)))
	if err != nil {
		return Image{}, &Error{File: b.file, Line: line, Err: err}
	}
	fmt.Fprintf(b.out, "Step %d/%d : %s\n", b.step, b.total, st.SourceCode)
	s := &state{args: map[string]string{}, shell: []string{"/bin/sh", "-c"}}
	switch prev, ok := b.stages[strings.ToLower(base)]; {
	case ok:
		s.img = prev
	case strings.EqualFold(base, "scratch"):
		s.img = Image{Config: ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}, RootFS: ocispec.RootFS{Type: "layers"}}}
	default:
		s.img, err = b.be.Base(ctx, base, b.out)
		if err != nil {
			return Image{}, &Error{File: b.file, Line: line, Err: err}
		}
	}
	fmt.Fprintf(b.out, " ---> %s\n", short(s.img.ID))
	for i, cmd := range st.Commands {
		b.step++
		if err := b.command(ctx, s, cmd, last && i == len(st.Commands)-1); err != nil {
			return Image{}, err
		}
	}
	if last && len(st.Commands) == 0 && s.img.ID != "" {
		// FROM alone: the image is the base itself.
		return s.img, nil
	}
	return s.img, nil
}

// key is the build cache's key of a step: what it does, hashed.
func key(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// history is the config's record of a step, as docker history shows it.
func (b *build) history(cfg *ocispec.Image, createdBy string, empty bool) {
	now := time.Now().UTC()
	if b.o.Epoch != nil {
		now = b.o.Epoch.UTC()
	}
	cfg.Created = &now
	cfg.History = append(cfg.History, ocispec.History{Created: &now, CreatedBy: createdBy, EmptyLayer: empty})
}

// commit makes the step's image, or takes it from the cache.
func (b *build) commit(s *state, k string, final bool, make func() (upper string, cfg ocispec.Image, done func(), err error)) error {
	if !b.o.NoCache {
		if img, ok := b.be.Cached(s.img, k); ok {
			fmt.Fprintf(b.out, " ---> Using cache\n ---> %s\n", short(img.ID))
			s.img = img
			return nil
		}
	}
	upper, cfg, done, err := make()
	if done != nil {
		defer done()
	}
	if err != nil {
		return err
	}
	img, err := b.be.Commit(s.img, upper, cfg, k, !final, b.o.Epoch)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, " ---> %s\n", short(img.ID))
	s.img = img
	return nil
}

// cloneConfig is a deep enough copy of the config to change it.
func cloneConfig(c ocispec.Image) ocispec.Image {
	c.Config.Env = slices.Clone(c.Config.Env)
	c.Config.Cmd = slices.Clone(c.Config.Cmd)
	c.Config.Entrypoint = slices.Clone(c.Config.Entrypoint)
	c.RootFS.DiffIDs = slices.Clone(c.RootFS.DiffIDs)
	c.History = slices.Clone(c.History)
	if c.Config.Labels != nil {
		labels := map[string]string{}
		for k, v := range c.Config.Labels {
			labels[k] = v
		}
		c.Config.Labels = labels
	}
	if c.Config.ExposedPorts != nil {
		ports := map[string]struct{}{}
		for k := range c.Config.ExposedPorts {
			ports[k] = struct{}{}
		}
		c.Config.ExposedPorts = ports
	}
	if c.Config.Volumes != nil {
		vols := map[string]struct{}{}
		for k := range c.Config.Volumes {
			vols[k] = struct{}{}
		}
		c.Config.Volumes = vols
	}
	return c
}

func setEnv(env []string, k, v string) []string {
	for i, e := range env {
		if strings.HasPrefix(e, k+"=") {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

func lineOf(r []parser.Range) int {
	if len(r) == 0 {
		return 0
	}
	return r[0].Start.Line
}

// errLine is the line a parse error names, if any.
func errLine(err error) int {
	var loc *parser.LocationError
	if errors.As(err, &loc) && len(loc.Locations) > 0 {
		return lineOf(loc.Locations[0])
	}
	return 0
}

// cleanParseError drops BuildKit's own "dockerfile parse error on line N:"
// prefix: our Error says the file and line in the compiler's way.
func cleanParseError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "dockerfile parse error on line") {
		return msg[i+2:]
	}
	return msg
}
