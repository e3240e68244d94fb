package engine

// The engine's operations by name, one method each, as a front end calls
// them: the CLI today, a daemon tomorrow. Each finds its container or image
// by the reference the user gave, does the work, and returns data and an
// error of a kind (package errdefs) in Docker's words.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"

	"minidocker/final/errdefs"
	"minidocker/final/jsonlog"
	"minidocker/final/state"
	"minidocker/step01-process/process"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
	"minidocker/step05-pull/store"
)

// lookupError is a failed lookup in Docker's words, still wrapping the
// store's error (errors.Is(err, state.ErrNotFound) holds).
type lookupError struct {
	msg string
	err error
}

func (e *lookupError) Error() string { return e.msg }
func (e *lookupError) Unwrap() error { return e.err }

// containerErr gives a container lookup's failure Docker's words and kind:
// "No such container: web" (NotFound), "multiple IDs found with provided
// prefix: ab" (InvalidParameter). Other errors pass unchanged.
func containerErr(ref string, err error) error {
	switch {
	case err == nil:
		return nil
	case errdefs.KindOf(err) != errdefs.Unknown && !errors.Is(err, state.ErrNotFound):
		return err
	case errors.Is(err, state.ErrNotFound):
		return errdefs.NotFound(&lookupError{"No such container: " + ref, err})
	case errors.Is(err, state.ErrAmbiguous):
		return errdefs.InvalidParameter(&lookupError{"multiple IDs found with provided prefix: " + ref, err})
	}
	return err
}

// createErr is a refused create in Docker's words: the name conflict as
// dockerd words it.
func createErr(err error) error {
	if conflict, ok := errors.AsType[*state.ConflictError](err); ok {
		return errdefs.Conflict(&lookupError{fmt.Sprintf("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.", "/"+conflict.Name, conflict.ID), err})
	}
	if errors.Is(err, state.ErrInvalidName) {
		return errdefs.InvalidParameter(err)
	}
	return err
}

// container finds a container by name, full ID or unique ID prefix.
func (e *Engine) container(ref string) (*state.Container, error) {
	c, err := e.containers.Get(ref)
	if err != nil {
		return nil, containerErr(ref, err)
	}
	return c, nil
}

// image finds an image by name, ID or ID prefix: "No such image: x"
// (NotFound) when none.
func (e *Engine) image(ref string) (*store.Image, error) {
	img, err := e.images.Get(ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errdefs.NotFound(err)
	}
	return img, err
}

// PullOptions are how to reach registries.
type PullOptions struct {
	Platform string    // os/arch[/variant]; "" for this host's
	Mirror   string    // a registry mirror URL for docker.io images
	Insecure []string  // hosts that may be plain HTTP
	Trace    io.Writer // where to print the HTTP exchange (tokens redacted); nil: nowhere
}

// client is a registry client configured by o.
func (o PullOptions) client() (*registry.Client, error) {
	opts := []registry.Option{registry.WithInsecure(o.Insecure...)}
	if o.Platform != "" {
		opts = append(opts, registry.WithPlatform(o.Platform))
	}
	if o.Mirror != "" {
		opts = append(opts, registry.WithMirror(o.Mirror))
	}
	if o.Trace != nil {
		opts = append(opts, registry.WithTrace(o.Trace))
	}
	client, err := registry.New(opts...)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	return client, nil
}

// PullProgress receives a pull's events: the CLI draws them as docker pull
// does (step 5's progress.Printer is one), a daemon would stream them as
// JSON. Start comes once, when a pull begins; Done once it succeeded.
type PullProgress interface {
	Start(ref reference.Reference)
	Event(p registry.Progress)
	Done(d digest.Digest, ref reference.Reference, fresh bool)
}

// Pull pulls ref (docker pull's argument) into the store, telling progress
// (may be nil) how it goes.
func (e *Engine) Pull(ctx context.Context, ref string, o PullOptions, progress PullProgress) (*store.Image, error) {
	r, err := reference.Parse(ref)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	client, err := o.client()
	if err != nil {
		return nil, err
	}
	var event func(registry.Progress)
	if progress != nil {
		progress.Start(r)
		event = progress.Event
	}
	img, fresh, err := e.images.Pull(ctx, client, r, event)
	if err != nil {
		if errors.Is(err, registry.ErrNotFound) {
			return nil, errdefs.NotFound(err)
		}
		return nil, err
	}
	if progress != nil {
		progress.Done(img.PulledDigest(r), r, fresh)
	}
	return img, nil
}

// PullIfMissing returns the stored image ref, pulling it first when the
// store does not have it, as docker run does: progress.Start is then the
// sign that it was missing.
func (e *Engine) PullIfMissing(ctx context.Context, ref string, o PullOptions, progress PullProgress) (*store.Image, error) {
	img, err := e.image(ref)
	if errdefs.IsNotFound(err) {
		return e.Pull(ctx, ref, o, progress)
	}
	return img, err
}

// Images is every stored image, as docker images lists them.
func (e *Engine) Images() ([]store.Image, error) { return e.images.Images() }

// RemoveImage is docker rmi of ref: untag, and delete the image and the
// layers nothing else uses, with Docker's conflict rules: an image a
// container uses, or one named in several repositories, only with force.
// It returns the lines docker prints ("Untagged: …", "Deleted: …").
func (e *Engine) RemoveImage(ref string, force bool) ([]string, error) {
	list, err := e.containers.List()
	if err != nil {
		return nil, err
	}
	inUse := func(id digest.Digest) string {
		for _, c := range list {
			if c.Config.ImageID == id.String() {
				return c.ShortID()
			}
		}
		return ""
	}
	lines, err := e.images.Remove(ref, force, inUse)
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = errdefs.NotFound(err)
	case err != nil && strings.HasPrefix(err.Error(), "conflict: "):
		// step 5's store words its refusals as dockerd does, "conflict:
		// unable to …", and has no other error so worded.
		err = errdefs.Conflict(err)
	}
	return lines, err
}

// List is docker ps: the containers, newest first, each as it is now (one
// whose monitor and init were both killed is recorded as exited first);
// only the running ones unless all.
func (e *Engine) List(all bool) ([]*state.Container, error) {
	list, err := e.containers.List()
	if err != nil {
		return nil, err
	}
	var out []*state.Container
	for _, c := range list {
		c, err := e.refresh(c)
		if errors.Is(err, state.ErrNotFound) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, err
		}
		if all || c.State.Running || c.State.Restarting {
			out = append(out, c)
		}
	}
	return out, nil
}

// Stop is docker stop: the container's stop signal (the image's
// STOPSIGNAL, or SIGTERM), and SIGKILL after timeout; it returns once the
// exit is recorded. A container that does not run is NotModified.
func (e *Engine) Stop(ref string, timeout time.Duration) error {
	c, err := e.container(ref)
	if err != nil {
		return err
	}
	if _, err := ParseSignal(c.Config.StopSignal); c.Config.StopSignal != "" && err != nil {
		return err
	}
	return containerErr(ref, e.stop(c.ID, stopSignal(c), timeout))
}

// stopSignal is the signal docker stop sends c first: the image's
// STOPSIGNAL, or SIGTERM (also when it does not parse: Stop refuses those).
func stopSignal(c *state.Container) syscall.Signal {
	if sig, err := ParseSignal(c.Config.StopSignal); err == nil && c.Config.StopSignal != "" {
		return sig
	}
	return syscall.SIGTERM
}

// Kill is docker kill: sig to the container's init (PID 1 inside), without
// waiting. A container that does not run is a Conflict: "cannot kill
// container: web: container <ID> is not running".
func (e *Engine) Kill(ref string, sig syscall.Signal) error {
	c, err := e.container(ref)
	if err != nil {
		return err
	}
	if err := e.signal(c, sig); err != nil {
		return containerErr(ref, fmt.Errorf("cannot kill container: %s: %w", c.Name, err))
	}
	return nil
}

// RemoveContainer is docker rm: the container and all it had on the host
// (cgroups, network, files). A running one is a Conflict unless force,
// which kills it first.
func (e *Engine) RemoveContainer(ref string, force bool) error {
	c, err := e.container(ref)
	if err != nil {
		return err
	}
	return containerErr(ref, e.remove(c, force))
}

// Wait waits until the container ref does not run and returns its exit
// code: on its monitor's pidfd (which exits once it recorded the exit), or
// on its init's when the monitor is gone. A --rm container removed at its
// exit is NotFound. ctx ends the wait early.
func (e *Engine) Wait(ctx context.Context, ref string) (int, error) {
	c, err := e.container(ref)
	if err != nil {
		return 0, err
	}
	for {
		if c, err = e.refresh(c); err != nil {
			return 0, containerErr(ref, err)
		}
		if !c.State.Running && !c.State.Restarting {
			return c.State.ExitCode, nil
		}
		h, err := c.State.Monitor().Open()
		if errors.Is(err, process.ErrGone) {
			h, err = c.State.Init().Open()
		}
		if err != nil && !errors.Is(err, process.ErrGone) {
			return 0, err
		}
		if h != nil {
			// One poll(2) until the exit or ctx's end, nothing in between.
			err = h.WaitContext(ctx)
			h.Close()
			if err != nil {
				return 0, err
			}
		}
		if c, err = e.containers.Get(c.ID); err != nil {
			return 0, containerErr(ref, err)
		}
	}
}

// LogsOptions are docker logs' options.
type LogsOptions struct {
	Follow     bool   // until the container stops, or ctx ends
	Timestamps bool   // each line with its time
	Tail       string // "all" (or "") or the number of lines from the end
}

// Logs is docker logs: the container's json-file log, decoded, its stdout
// lines to stdout and stderr lines to stderr. With Follow it goes on until
// the container stops (its monitor has then written everything) or ctx
// ends. A container that never started has no log: nothing is written.
func (e *Engine) Logs(ctx context.Context, ref string, o LogsOptions, stdout, stderr io.Writer) error {
	c, err := e.container(ref)
	if err != nil {
		return err
	}
	opts := jsonlog.ReadOptions{Tail: jsonlog.TailAll, Timestamps: o.Timestamps}
	if o.Tail != "all" && o.Tail != "" {
		n, err := strconv.Atoi(o.Tail)
		if err != nil || n < 0 {
			return errdefs.InvalidParameter(fmt.Errorf("invalid value for \"tail\": %q", o.Tail))
		}
		opts.Tail = n
	}
	if !o.Follow {
		f, err := os.Open(c.Config.LogPath)
		if errors.Is(err, os.ErrNotExist) {
			return nil // never started
		}
		if err != nil {
			return err
		}
		defer f.Close()
		return jsonlog.Read(f, opts, stdout, stderr)
	}
	if _, err := os.Stat(c.Config.LogPath); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Wait(ctx, c.ID)
	}()
	err = jsonlog.Follow(ctx, c.Config.LogPath, opts, stdout, stderr, done)
	if errors.Is(err, context.Canceled) {
		return nil // the caller went away: not a failure of the log
	}
	return err
}

// InspectContainer is docker inspect of a container, as it is now.
func (e *Engine) InspectContainer(ref string) (state.Inspect, error) {
	c, err := e.container(ref)
	if err != nil {
		return state.Inspect{}, err
	}
	if c, err = e.refresh(c); err != nil {
		return state.Inspect{}, containerErr(ref, err)
	}
	return c.Inspect(), nil
}

// ImageInspect is docker image inspect's JSON, the part we have.
type ImageInspect struct {
	ID           string `json:"Id"`
	RepoTags     []string
	RepoDigests  []string
	Created      time.Time
	Config       any
	Architecture string
	Os           string
	Size         int64
	RootFS       any
}

// InspectImage is docker image inspect.
func (e *Engine) InspectImage(ref string) (ImageInspect, error) {
	img, err := e.image(ref)
	if err != nil {
		return ImageInspect{}, err
	}
	return ImageInspect{
		ID: img.ID.String(), RepoTags: img.RepoTags, RepoDigests: img.RepoDigests,
		Created: img.Created, Config: img.Config.Config, Architecture: img.Config.Architecture,
		Os: img.Config.OS, Size: img.Size, RootFS: img.Config.RootFS,
	}, nil
}

// Inspect is docker inspect of ref: the container so named (a
// state.Inspect) or else the image (an ImageInspect); "No such object: x"
// (NotFound) when neither.
func (e *Engine) Inspect(ref string) (any, error) {
	ctr, err := e.InspectContainer(ref)
	if err == nil {
		return ctr, nil
	}
	if !errdefs.IsNotFound(err) {
		return nil, err
	}
	img, ierr := e.InspectImage(ref)
	if ierr == nil {
		return img, nil
	}
	if errdefs.IsNotFound(ierr) {
		return nil, errdefs.NotFound(&lookupError{"No such object: " + ref, errors.Join(err, ierr)})
	}
	return nil, ierr
}

// Rename is docker rename: the container's new name, checked as run
// --name checks it, and Docker's conflicts.
func (e *Engine) Rename(ref, name string) error {
	c, err := e.container(ref)
	if err != nil {
		return err
	}
	name = strings.TrimPrefix(name, "/")
	if name == "" {
		return errdefs.InvalidParameter(errors.New("Neither old nor new names may be empty"))
	}
	if err := state.ValidateName(name); err != nil {
		return errdefs.InvalidParameter(err)
	}
	if name == c.Name {
		return errdefs.InvalidParameter(errors.New("Renaming a container with the same name as its current name"))
	}
	err = e.containers.Update(c.ID, func(c *state.Container) error {
		c.Name = name
		return nil
	})
	if _, ok := errors.AsType[*state.ConflictError](err); ok {
		return createErr(err)
	}
	return err
}

// Container is the record of the container ref, its state made true first
// (docker port and the like read it).
func (e *Engine) Container(ref string) (*state.Container, error) {
	c, err := e.container(ref)
	if err != nil {
		return nil, err
	}
	if c, err = e.refresh(c); err != nil {
		return nil, containerErr(ref, err)
	}
	return c, nil
}
