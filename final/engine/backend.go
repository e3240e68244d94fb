package engine

import (
	"context"
	"io"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"minidocker/final/state"
	"minidocker/step05-pull/store"
)

// Backend is every operation the CLI performs, as one interface with two
// implementations: *Engine, in this process on the data root, and
// apiclient.Client, the same calls as Docker Engine API requests to a
// daemon (minidocker -H unix:///path, or $DOCKER_HOST). The CLI parses
// flags, calls these and prints; which one answers does not change its
// output. Both return errors of the kinds of package errdefs, worded as
// dockerd words them.
type Backend interface {
	Pull(ctx context.Context, ref string, o PullOptions, progress PullProgress) (*store.Image, error)
	PullIfMissing(ctx context.Context, ref string, o PullOptions, progress PullProgress) (*store.Image, error)
	Images() ([]store.Image, error)
	RemoveImage(ref string, force bool) ([]string, error)
	// Tag is docker tag; Push is docker push (of a name with its tag).
	Tag(source, target string) error
	Push(ctx context.Context, ref string, o PullOptions, progress PushProgress) (ocispec.Descriptor, error)
	// Save is docker save (a tar of the images on w); Load is docker load
	// (docker load's lines).
	Save(w io.Writer, refs []string) error
	// Build is docker build (the classic builder); it returns the image ID.
	Build(ctx context.Context, o BuildOptions, out io.Writer) (digest.Digest, error)
	Load(r io.Reader) ([]string, error)
	Validate(o RunOptions) error
	Create(o RunOptions) (*state.Container, error)
	// StartDetached is docker start: the container runs on alone; one
	// that runs already is NotModified.
	StartDetached(ref string) error
	// StartRestartable is start --all-restartable: every container that
	// its restart policy brings back after a reboot; their names.
	StartRestartable() ([]string, error)
	// StartAttached is docker run in the foreground: attached to the
	// container's streams before its command starts.
	StartAttached(ref string, o AttachOptions) (Session, error)
	List(all bool) ([]*state.Container, error)
	Stop(ref string, timeout time.Duration) error
	Kill(ref string, sig syscall.Signal) error
	RemoveContainer(ref string, force bool) error
	Remove(ref string, o RemoveOptions) error // docker rm [-f] [-v]
	Logs(ctx context.Context, ref string, o LogsOptions, stdout, stderr io.Writer) error
	Inspect(ref string) (any, error)
	Search(ctx context.Context, term string, limit int) ([]SearchResult, error)
	// Exec is docker exec: a command in a running container.
	Exec(ref string, o ExecOptions) (Session, error)
	// Wait is docker wait: blocks until the container does not run, and
	// returns its exit code.
	Wait(ctx context.Context, ref string) (int, error)
	// Rename is docker rename.
	Rename(ref, name string) error
	// Container is the container's record (docker port reads its ports).
	Container(ref string) (*state.Container, error)
	// Pause and Unpause are docker pause and unpause (the freezer).
	Pause(ref string) error
	Unpause(ref string) error
	// Top is docker top: rows of TopTitles.
	Top(ref string) ([][]string, error)
	// Named volumes: docker volume create, ls, inspect, rm, prune.
	CreateVolume(name string) (Volume, error)
	Volumes() ([]Volume, error)
	InspectVolume(name string) (Volume, error)
	RemoveVolume(name string) error
	PruneVolumes(all bool) ([]string, error)
	// User-defined networks: docker network create, ls, inspect, rm,
	// prune, connect, disconnect.
	CreateNetwork(name string, o NetworkCreateOptions) (Network, error)
	Networks() ([]Network, error)
	InspectNetwork(ref string) (Network, error)
	RemoveNetwork(ref string) error
	PruneNetworks() ([]string, error)
	ConnectNetwork(network, container string, aliases []string) error
	DisconnectNetwork(network, container string) error
	// Stats is one reading of a running container's counters (docker
	// stats).
	Stats(ref string) (StatsSample, error)
	// AttachRunning is docker attach: the running container's streams,
	// its exit code at the end; signals go to its init (--sig-proxy).
	AttachRunning(ref string, o AttachOptions) (Session, error)
	// CopyFromContainer and CopyToContainer are docker cp (followLink:
	// -L, a link at SRC copied as what it leads to).
	CopyFromContainer(ref, src, dst string, followLink bool) error
	CopyToContainer(ref, src, dst string) error
	// ContainerSizes, DiskUsage and the prunes are docker ps -s, system
	// df, container prune and image prune (prune.go).
	ContainerSizes() (map[string]ContainerSize, error)
	DiskUsage() (DiskUsage, error)
	PruneContainers(f Filters) (PruneReport, error)
	PruneImages(f Filters) (PruneReport, error)
	PruneBuildCache() (PruneReport, error)
}

// Session is a foreground run: its streams are being copied.
type Session interface {
	// Wait waits for the end of the output and the exit, and returns the
	// exit code.
	Wait() (int, error)
	// Resize sets the container's pty size.
	Resize(Size) error
	// Signal sends sig to the container's init (docker run's --sig-proxy).
	Signal(sig syscall.Signal) error
}

var (
	_ Backend = (*Engine)(nil)
	_ Session = (*Started)(nil)
	_ Session = (*execSession)(nil)
)

// StartDetached is Start without attach options.
func (e *Engine) StartDetached(ref string) error {
	_, err := e.Start(ref, nil)
	return err
}

// StartAttached is Start with attach options o.
func (e *Engine) StartAttached(ref string, o AttachOptions) (Session, error) {
	s, err := e.Start(ref, &o)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Resize resizes the pty of an attached start's container.
func (s *Started) Resize(sz Size) error {
	if s.Attachment == nil {
		return nil
	}
	return s.Attachment.Resize(sz)
}

// attachSession is an Attachment as a Session: signals go to the
// container's init, as docker attach's --sig-proxy sends them.
type attachSession struct {
	*Attachment
	ref string
}

func (s attachSession) Signal(sig syscall.Signal) error { return s.e.Kill(s.ref, sig) }

// AttachRunning attaches to the running container ref (see Attach).
func (e *Engine) AttachRunning(ref string, o AttachOptions) (Session, error) {
	a, err := e.Attach(context.Background(), ref, o)
	if err != nil {
		return nil, err
	}
	if o.Size != nil && a.Tty {
		a.Resize(*o.Size)
	}
	return attachSession{a, ref}, nil
}
