// Package apiclient is minidocker's engine as a client of a daemon: the
// same operations as package engine's (engine.Backend), each sent as
// Docker Engine API requests over a unix socket, through the official Go
// client (github.com/moby/moby/client). It is the "client" of the course
// notes' picture, docker CLI -> socket -> daemon: `minidocker -H
// unix:///var/run/docker.sock ps` lists what that daemon runs, whether it
// is dockerd or minidocker's own.
//
// The client's answers become the engine's types (state.Container,
// store.Image) and its errors the engine's kinds (errdefs), with the
// daemon's words: the CLI prints the same messages and exits with the same
// codes either way.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/moby/moby/api/types/volume"
	"minidocker/final/engine"
	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
	"minidocker/step05-pull/store"
)

// Client is engine.Backend through a daemon's Engine API.
type Client struct {
	api  *client.Client
	host string
	ctx  context.Context // for the calls that take none
}

var (
	_ engine.Backend  = (*Client)(nil)
	_ engine.Archiver = (*Client)(nil)
)

// New is a client of the daemon at host (unix:///path), which negotiates
// the API version with it (dockerd 20.10 speaks 1.41).
func New(host string) (*Client, error) {
	if !strings.HasPrefix(host, "unix://") && !strings.HasPrefix(host, "tcp://") {
		return nil, fmt.Errorf("invalid host %q: expected unix:///path or tcp://host:port", host)
	}
	api, err := client.New(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", host, err)
	}
	return &Client{api: api, host: host, ctx: context.Background()}, nil
}

// daemonError is an error the daemon answered: its message as the engine
// would have worded it, without the client's "Error response from daemon:
// " (the CLI adds "Error: "), still wrapping the client's error.
type daemonError struct {
	msg string
	err error
}

func (e *daemonError) Error() string { return e.msg }
func (e *daemonError) Unwrap() error { return e.err }

// kind turns the client's error into the engine's: the same kind
// (containerd's errdefs, which the client uses, into ours), the daemon's
// message.
func kind(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.TrimPrefix(err.Error(), "Error response from daemon: ")
	e := &daemonError{msg: msg, err: err}
	switch {
	case cerrdefs.IsNotFound(err):
		return errdefs.NotFound(e)
	case cerrdefs.IsConflict(err):
		return errdefs.Conflict(e)
	case cerrdefs.IsInvalidArgument(err):
		return errdefs.InvalidParameter(e)
	case cerrdefs.IsNotModified(err):
		return errdefs.NotModified(e)
	case cerrdefs.IsUnavailable(err), client.IsErrConnectionFailed(err):
		return errdefs.Unavailable(e)
	}
	return errdefs.System(e)
}

// ---- images ----

// Pull is POST /images/create: the daemon pulls, with its own registry
// settings (o.Mirror, o.Insecure and o.Trace are the daemon's business,
// as with docker pull); its JSON progress messages become progress's
// events.
func (c *Client) Pull(ctx context.Context, ref string, o engine.PullOptions, progress engine.PullProgress) (*store.Image, error) {
	r, err := reference.Parse(ref)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	var opts client.ImagePullOptions
	if o.Platform != "" {
		p, err := parsePlatform(o.Platform)
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		opts.Platforms = []ocispec.Platform{p}
	}
	resp, err := c.api.ImagePull(ctx, r.String(), opts)
	if err != nil {
		return nil, kind(err)
	}
	defer resp.Close()
	if progress != nil {
		progress.Start(r)
	}
	var pulled digest.Digest
	fresh := false
	for m, err := range resp.JSONMessages(ctx) {
		if err != nil {
			return nil, kind(err)
		}
		if m.Error != nil {
			// The stream's error has no status: a missing image is worded
			// "manifest … not found" or "… not found".
			e := &daemonError{msg: m.Error.Message, err: errors.New(m.Error.Message)}
			if strings.Contains(m.Error.Message, "not found") {
				return nil, errdefs.NotFound(e)
			}
			return nil, errdefs.System(e)
		}
		switch {
		case strings.HasPrefix(m.Status, "Digest: "):
			pulled = digest.Digest(strings.TrimPrefix(m.Status, "Digest: "))
		case strings.HasPrefix(m.Status, "Status: Downloaded newer image"):
			fresh = true
		case layerStatus(m.Status) && m.ID != "" && progress != nil:
			p := registry.Progress{ID: m.ID, Status: m.Status}
			if strings.HasPrefix(m.Status, registry.StatusRetrying) {
				p.Status = registry.StatusRetrying
			}
			if m.Progress != nil {
				p.Current, p.Total = m.Progress.Current, m.Progress.Total
			}
			progress.Event(p)
		}
	}
	img, err := c.image(ctx, r.String())
	if err != nil {
		return nil, err
	}
	if progress != nil {
		if pulled == "" {
			pulled = img.PulledDigest(r)
		}
		progress.Done(pulled, r, fresh)
	}
	return img, nil
}

// layerStatus: the layer events step 5's registry sends too; the others
// ("Pulling from …", "Digest: …", "Status: …") progress.Printer prints
// from Start and Done.
func layerStatus(s string) bool {
	for _, st := range []string{registry.StatusAlreadyExists, registry.StatusPullingFSLayer, registry.StatusWaiting,
		registry.StatusDownloading, registry.StatusRetrying, registry.StatusVerifying, registry.StatusDownloadComplete,
		registry.StatusExtracting, registry.StatusPullComplete} {
		if strings.HasPrefix(s, st) {
			return true
		}
	}
	return false
}

func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return ocispec.Platform{}, fmt.Errorf("invalid platform %q: expected os/arch[/variant]", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// image is GET /images/{ref}/json, as the store's Image.
func (c *Client) image(ctx context.Context, ref string) (*store.Image, error) {
	res, err := c.api.ImageInspect(ctx, ref)
	if err != nil {
		return nil, kind(err)
	}
	img := &store.Image{
		ID: digest.Digest(res.ID), RepoTags: res.RepoTags, RepoDigests: res.RepoDigests,
		Config: ocispec.Image{Platform: ocispec.Platform{OS: res.Os, Architecture: res.Architecture}},
	}
	img.Size = res.Size
	img.Created, _ = time.Parse(time.RFC3339Nano, res.Created)
	return img, nil
}

// PullIfMissing is docker run's pull: the image when the daemon has it,
// else Pull.
func (c *Client) PullIfMissing(ctx context.Context, ref string, o engine.PullOptions, progress engine.PullProgress) (*store.Image, error) {
	img, err := c.image(ctx, ref)
	if errdefs.IsNotFound(err) {
		return c.Pull(ctx, ref, o, progress)
	}
	return img, err
}

// Images is GET /images/json.
func (c *Client) Images() ([]store.Image, error) {
	res, err := c.api.ImageList(c.ctx, client.ImageListOptions{})
	if err != nil {
		return nil, kind(err)
	}
	var out []store.Image
	for _, s := range res.Items {
		img := store.Image{
			ID: digest.Digest(s.ID), RepoTags: s.RepoTags, RepoDigests: s.RepoDigests,
			Created: time.Unix(s.Created, 0), Size: s.Size,
		}
		img.Config.Config.Labels = s.Labels
		out = append(out, img)
	}
	return out, nil
}

// RemoveImage is DELETE /images/{ref}: the daemon's "Untagged: …" and
// "Deleted: …" lines.
func (c *Client) RemoveImage(ref string, force bool) ([]string, error) {
	res, err := c.api.ImageRemove(c.ctx, ref, client.ImageRemoveOptions{Force: force})
	if err != nil {
		return nil, kind(err)
	}
	var lines []string
	for _, d := range res.Items {
		if d.Untagged != "" {
			lines = append(lines, "Untagged: "+d.Untagged)
		}
		if d.Deleted != "" {
			lines = append(lines, "Deleted: "+d.Deleted)
		}
	}
	return lines, nil
}

// Search is GET /images/search: the daemon asks Docker Hub.
func (c *Client) Search(ctx context.Context, term string, limit int) ([]engine.SearchResult, error) {
	res, err := c.api.ImageSearch(ctx, term, client.ImageSearchOptions{Limit: limit})
	if err != nil {
		return nil, kind(err)
	}
	var out []engine.SearchResult
	for _, r := range res.Items {
		out = append(out, engine.SearchResult{Name: r.Name, Description: r.Description, StarCount: r.StarCount, IsOfficial: r.IsOfficial})
	}
	return out, nil
}

// ---- containers ----

// Exec is docker exec as the docker CLI makes it: POST
// /containers/{id}/exec, POST /exec/{id}/start on a hijacked connection,
// and GET /exec/{id}/json for the exit code once the stream ends.
func (c *Client) Exec(ref string, o engine.ExecOptions) (engine.Session, error) {
	info, err := c.api.ContainerInspect(c.ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return nil, kind(err)
	}
	opts := client.ExecCreateOptions{User: o.User, TTY: o.Tty, AttachStdin: o.Stdin != nil,
		AttachStdout: o.Stdout != nil, AttachStderr: o.Stderr != nil, Env: o.Env, WorkingDir: o.Dir, Cmd: o.Args}
	var size client.ConsoleSize
	if o.Tty && o.Size != nil {
		size = client.ConsoleSize{Height: uint(o.Size.Rows), Width: uint(o.Size.Cols)}
		opts.ConsoleSize = size
	}
	created, err := c.api.ExecCreate(c.ctx, info.Container.ID, opts)
	if err != nil {
		return nil, kind(err)
	}
	att, err := c.api.ExecAttach(c.ctx, created.ID, client.ExecAttachOptions{TTY: o.Tty, ConsoleSize: size})
	if err != nil {
		return nil, kind(err)
	}
	s := &execSession{c: c, id: created.ID, att: att.HijackedResponse, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = copyStreams(att.Reader, o.Tty, o.Stdout, o.Stderr)
	}()
	if o.Stdin != nil {
		go func() {
			io.Copy(att.Conn, o.Stdin)
			att.CloseWrite()
		}()
	}
	return s, nil
}

// execSession is an exec started through the daemon.
type execSession struct {
	c    *Client
	id   string
	att  client.HijackedResponse
	done chan struct{}
	err  error
}

// Wait waits for the end of the stream, then asks the daemon for the exit
// code.
func (s *execSession) Wait() (int, error) {
	<-s.done
	defer s.att.Close()
	res, err := s.c.api.ExecInspect(s.c.ctx, s.id, client.ExecInspectOptions{})
	if err != nil {
		return 0, kind(err)
	}
	return res.ExitCode, nil
}

// Resize is POST /exec/{id}/resize.
func (s *execSession) Resize(sz engine.Size) error {
	_, err := s.c.api.ExecResize(s.c.ctx, s.id, client.ExecResizeOptions{Height: uint(sz.Rows), Width: uint(sz.Cols)})
	return kind(err)
}

// Signal: the API has no way to signal an exec (docker exec has none
// either); the command gets what its terminal sends.
func (s *execSession) Signal(syscall.Signal) error { return nil }

// Validate checks what it can without the daemon: the DNS servers. The
// network mode and ports are the daemon's to check, at create.
func (c *Client) Validate(o engine.RunOptions) error {
	for _, s := range o.DNS {
		if _, err := netip.ParseAddr(s); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("%s is not an ip address", s))
		}
	}
	return nil
}

// Create is POST /containers/create with docker run's options as Config
// and HostConfig.
func (c *Client) Create(o engine.RunOptions) (*state.Container, error) {
	cfg := &container.Config{
		Image: o.ImageRef, Cmd: o.Args, Env: o.Env, WorkingDir: o.Dir, User: o.User, Hostname: o.Hostname,
		Tty: o.Tty, OpenStdin: o.OpenStdin, Labels: o.Labels,
	}
	if !o.Detach {
		// What docker run in the foreground says: it will attach (stdin
		// with -i, closed at its end: StdinOnce).
		cfg.AttachStdin, cfg.AttachStdout, cfg.AttachStderr = o.OpenStdin, true, true
		cfg.StdinOnce = o.OpenStdin
	}
	if o.Entrypoint != nil {
		cfg.Entrypoint = []string{*o.Entrypoint}
	}
	hc := &container.HostConfig{
		AutoRemove: o.AutoRemove, NetworkMode: container.NetworkMode(o.Network),
		Privileged: o.Privileged, CapAdd: o.CapAdd, CapDrop: o.CapDrop, SecurityOpt: o.SecurityOpt,
		ReadonlyRootfs: o.ReadonlyRootfs,
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyMode(o.RestartPolicy.Name),
			MaximumRetryCount: o.RestartPolicy.MaximumRetryCount},
	}
	hc.Memory, hc.NanoCPUs = o.Memory, o.NanoCPUs
	if o.PidsLimit != 0 {
		hc.PidsLimit = &o.PidsLimit
	}
	if o.Init {
		hc.Init = &o.Init
	}
	createMounts(o, cfg, hc)
	for _, s := range o.DNS {
		a, _ := netip.ParseAddr(s)
		hc.DNS = append(hc.DNS, a)
	}
	for _, p := range o.Ports {
		port, err := network.ParsePort(fmt.Sprintf("%d/%s", p.ContainerPort, p.Proto))
		if err != nil {
			return nil, errdefs.InvalidParameter(err)
		}
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts, hc.PortBindings = network.PortSet{}, network.PortMap{}
		}
		cfg.ExposedPorts[port] = struct{}{}
		hostPort := ""
		if p.HostPort != 0 {
			hostPort = strconv.Itoa(int(p.HostPort))
		}
		hc.PortBindings[port] = append(hc.PortBindings[port], network.PortBinding{HostIP: p.HostIP, HostPort: hostPort})
	}
	res, err := c.api.ContainerCreate(c.ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: hc, Name: o.Name,
		NetworkingConfig: networkingConfig(o)})
	if err != nil {
		return nil, kind(err)
	}
	return &state.Container{ID: res.ID, Name: o.Name}, nil
}

// createMounts puts o's mounts in a create request as the docker CLI does:
// -v with a source in HostConfig.Binds, -v /path alone in Config.Volumes,
// --mount in HostConfig.Mounts, --tmpfs in HostConfig.Tmpfs.
func createMounts(o engine.RunOptions, cfg *container.Config, hc *container.HostConfig) {
	for _, m := range o.Mounts {
		if m.Anonymous {
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[m.Destination] = struct{}{}
			continue
		}
		src := m.Source
		if m.Name != "" {
			src = m.Name
		}
		b := src + ":" + m.Destination
		if m.ReadOnly {
			b += ":ro"
		}
		hc.Binds = append(hc.Binds, b)
	}
	for _, s := range o.MountSpecs {
		m := mount.Mount{Type: mount.Type(s.Type), Source: s.Source, Target: s.Target, ReadOnly: s.ReadOnly}
		if s.Propagation != "" {
			m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(s.Propagation)}
		}
		if s.NoCopy {
			m.VolumeOptions = &mount.VolumeOptions{NoCopy: true}
		}
		if s.TmpfsSize != 0 || s.TmpfsMode != 0 {
			m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: s.TmpfsSize, Mode: s.TmpfsMode}
		}
		hc.Mounts = append(hc.Mounts, m)
	}
	hc.Tmpfs = o.Tmpfs
}

// StartDetached is POST /containers/{id}/start; the daemon answers 304
// for a running container, which the client takes as success.
func (c *Client) StartDetached(ref string) error {
	_, err := c.api.ContainerStart(c.ctx, ref, client.ContainerStartOptions{})
	return startErr(err)
}

// StartRestartable is the daemon's own work: it starts the restartable
// containers when it starts, as dockerd does.
func (c *Client) StartRestartable() ([]string, error) {
	return nil, errdefs.InvalidParameter(errors.New("start --all-restartable works on the data root, not through a daemon: the daemon starts them itself when it starts"))
}

// startErr is a refused start as docker run reports it: 127 when the
// command was not found, 126 when it could not be run, else 125.
func startErr(err error) error {
	if err == nil {
		return nil
	}
	err = kind(err)
	if errdefs.IsNotFound(err) && strings.HasPrefix(err.Error(), "No such container") {
		return err
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return &engine.StartError{Msg: msg, Code: 127}
	case strings.Contains(msg, "permission denied"):
		return &engine.StartError{Msg: msg, Code: 126}
	}
	return err
}

// session is a foreground run through the daemon: the hijacked attach,
// the wait, and the container's ID for resizes and signals.
type session struct {
	c      *Client
	id     string
	att    client.ContainerAttachResult
	wait   client.ContainerWaitResult
	cancel context.CancelFunc // ends the wait
	done   chan struct{}
	err    error
	// detached: our input had the detach keys; the container goes on.
	detached atomic.Bool
}

// StartAttached is docker run in the foreground as the docker CLI does
// it: POST /containers/{id}/attach (hijacked: the connection becomes the
// container's streams, in stdcopy frames without a pty), POST
// /containers/{id}/wait (condition "removed" with --rm), then start, then
// the pty's size (POST /containers/{id}/resize).
func (c *Client) StartAttached(ref string, o engine.AttachOptions) (engine.Session, error) {
	info, err := c.api.ContainerInspect(c.ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return nil, kind(err)
	}
	return c.attach(info.Container, o, true)
}

// AttachRunning is docker attach: the same calls without the start (the
// wait's condition is not-running: the container runs already).
func (c *Client) AttachRunning(ref string, o engine.AttachOptions) (engine.Session, error) {
	info, err := c.api.ContainerInspect(c.ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return nil, kind(err)
	}
	if info.Container.State == nil || !info.Container.State.Running {
		return nil, errdefs.Conflict(errors.New("You cannot attach to a stopped container, start it first"))
	}
	return c.attach(info.Container, o, false)
}

func (c *Client) attach(ctr container.InspectResponse, o engine.AttachOptions, start bool) (engine.Session, error) {
	tty := ctr.Config != nil && ctr.Config.Tty
	att, err := c.api.ContainerAttach(c.ctx, ctr.ID, client.ContainerAttachOptions{
		Stream: true, Stdin: o.Stdin != nil, Stdout: o.Stdout != nil, Stderr: o.Stderr != nil,
	})
	if err != nil {
		return nil, kind(err)
	}
	cond := container.WaitConditionNextExit
	if !start {
		cond = container.WaitConditionNotRunning
	}
	if ctr.HostConfig != nil && ctr.HostConfig.AutoRemove {
		cond = container.WaitConditionRemoved
	}
	ctx, cancel := context.WithCancel(c.ctx)
	wait := c.api.ContainerWait(ctx, ctr.ID, client.ContainerWaitOptions{Condition: cond})
	s := &session{c: c, id: ctr.ID, att: att, wait: wait, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = copyStreams(att.Reader, tty, o.Stdout, o.Stderr)
	}()
	if start {
		if err := startErr(c.StartDetached(ctr.ID)); err != nil && !errdefs.IsNotModified(err) {
			att.Close()
			cancel()
			return nil, err
		}
	}
	if o.Stdin != nil {
		in := o.Stdin
		if tty && len(o.DetachKeys) > 0 {
			// Watched here, as the docker CLI does: the keys never leave.
			in = engine.NewDetachReader(in, o.DetachKeys)
		}
		go func() {
			if _, err := io.Copy(att.Conn, in); errors.Is(err, engine.ErrDetached) {
				s.detached.Store(true)
				att.Close() // the output ends; the container goes on
				return
			}
			att.CloseWrite() // the end of our input: with StdinOnce, the container's
		}()
	}
	if o.Size != nil {
		s.Resize(*o.Size)
	}
	return s, nil
}

// Wait waits for the end of the output, then for the daemon's exit code.
func (s *session) Wait() (int, error) {
	<-s.done
	defer s.cancel()
	defer s.att.Close()
	if s.detached.Load() {
		return 0, engine.ErrDetached
	}
	select {
	case r := <-s.wait.Result:
		if r.Error != nil && r.Error.Message != "" {
			return int(r.StatusCode), errors.New(r.Error.Message)
		}
		return int(r.StatusCode), s.err
	case err := <-s.wait.Error:
		return 0, kind(err)
	}
}

// Resize is POST /containers/{id}/resize.
func (s *session) Resize(sz engine.Size) error {
	_, err := s.c.api.ContainerResize(s.c.ctx, s.id, client.ContainerResizeOptions{Height: uint(sz.Rows), Width: uint(sz.Cols)})
	return kind(err)
}

// Signal is POST /containers/{id}/kill?signal=N.
func (s *session) Signal(sig syscall.Signal) error { return s.c.Kill(s.id, sig) }

// List is GET /containers/json, then each container's inspect: ps's
// columns are computed from the times and the command, as in-process.
func (c *Client) List(all bool) ([]*state.Container, error) {
	res, err := c.api.ContainerList(c.ctx, client.ContainerListOptions{All: all})
	if err != nil {
		return nil, kind(err)
	}
	var out []*state.Container
	for _, s := range res.Items {
		info, err := c.api.ContainerInspect(c.ctx, s.ID, client.ContainerInspectOptions{})
		if cerrdefs.IsNotFound(err) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, kind(err)
		}
		out = append(out, fromInspect(info.Container))
	}
	return out, nil
}

// fromInspect is the daemon's container as the engine's record, the
// fields ps shows.
func fromInspect(in container.InspectResponse) *state.Container {
	c := &state.Container{ID: in.ID, Name: strings.TrimPrefix(in.Name, "/")}
	c.Created, _ = time.Parse(time.RFC3339Nano, in.Created)
	c.Config.ImageID = in.Image
	if in.Config != nil {
		c.Config.Image = in.Config.Image
		c.Config.Entrypoint = in.Config.Entrypoint
		c.Config.Cmd = in.Config.Cmd
		c.Config.Tty, c.Config.OpenStdin = in.Config.Tty, in.Config.OpenStdin
		c.Config.Labels = in.Config.Labels
	}
	if st := in.State; st != nil {
		c.State.Running = st.Running && !st.Restarting // the engine's record: a restarting container has no process
		c.State.Restarting = st.Restarting
		c.State.RestartCount = in.RestartCount
		c.State.Status = state.Status(st.Status)
		c.State.Pid, c.State.ExitCode, c.State.OOMKilled, c.State.Error = st.Pid, st.ExitCode, st.OOMKilled, st.Error
		c.State.StartedAt, _ = time.Parse(time.RFC3339Nano, st.StartedAt)
		c.State.FinishedAt, _ = time.Parse(time.RFC3339Nano, st.FinishedAt)
	}
	if in.NetworkSettings != nil {
		for port, bindings := range in.NetworkSettings.Ports {
			for _, b := range bindings {
				hp, _ := strconv.Atoi(b.HostPort)
				hostIP := ""
				if b.HostIP.IsValid() && !b.HostIP.IsUnspecified() {
					hostIP = b.HostIP.String()
				}
				c.Config.Ports = append(c.Config.Ports, state.PortBinding{
					HostIP: hostIP, HostPort: uint16(hp), ContainerPort: port.Num(), Protocol: string(port.Proto()),
				})
			}
		}
	}
	return c
}

// Stop is POST /containers/{id}/stop?t=N.
func (c *Client) Stop(ref string, timeout time.Duration) error {
	secs := int(timeout / time.Second)
	_, err := c.api.ContainerStop(c.ctx, ref, client.ContainerStopOptions{Timeout: &secs})
	return kind(err)
}

// Kill is POST /containers/{id}/kill?signal=N.
func (c *Client) Kill(ref string, sig syscall.Signal) error {
	_, err := c.api.ContainerKill(c.ctx, ref, client.ContainerKillOptions{Signal: strconv.Itoa(int(sig))})
	return kind(err)
}

// RemoveContainer is DELETE /containers/{id}?force=1.
func (c *Client) RemoveContainer(ref string, force bool) error {
	_, err := c.api.ContainerRemove(c.ctx, ref, client.ContainerRemoveOptions{Force: force})
	return kind(err)
}

// Remove is DELETE /containers/{id}?force=1&v=1.
func (c *Client) Remove(ref string, o engine.RemoveOptions) error {
	_, err := c.api.ContainerRemove(c.ctx, ref, client.ContainerRemoveOptions{Force: o.Force, RemoveVolumes: o.Volumes})
	return kind(err)
}

// Logs is GET /containers/{id}/logs: stdcopy frames, or raw bytes for a
// container with a pty.
func (c *Client) Logs(ctx context.Context, ref string, o engine.LogsOptions, stdout, stderr io.Writer) error {
	info, err := c.api.ContainerInspect(ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return kind(err)
	}
	tail := o.Tail
	if tail == "" {
		tail = "all"
	}
	rc, err := c.api.ContainerLogs(ctx, ref, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: o.Follow, Timestamps: o.Timestamps, Tail: tail,
	})
	if err != nil {
		return kind(err)
	}
	defer rc.Close()
	if info.Container.Config != nil && info.Container.Config.Tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	if ctx.Err() != nil {
		return nil // the caller went away: not a failure of the log
	}
	return err
}

// Inspect is the daemon's own JSON for the container ref, or else the
// image; "No such object: x" when neither.
func (c *Client) Inspect(ref string) (any, error) {
	ctr, err := c.api.ContainerInspect(c.ctx, ref, client.ContainerInspectOptions{})
	if err == nil {
		return ctr.Raw, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return nil, kind(err)
	}
	var raw bytes.Buffer
	_, ierr := c.api.ImageInspect(c.ctx, ref, client.ImageInspectWithRawResponse(&raw))
	if ierr == nil {
		return json.RawMessage(raw.Bytes()), nil
	}
	if cerrdefs.IsNotFound(ierr) {
		return nil, errdefs.NotFound(&daemonError{msg: "No such object: " + ref, err: errors.Join(err, ierr)})
	}
	return nil, kind(ierr)
}

// Wait is POST /containers/{id}/wait (condition not-running).
func (c *Client) Wait(ctx context.Context, ref string) (int, error) {
	res := c.api.ContainerWait(ctx, ref, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-res.Result:
		if r.Error != nil && r.Error.Message != "" {
			return int(r.StatusCode), errors.New(r.Error.Message)
		}
		return int(r.StatusCode), nil
	case err := <-res.Error:
		return 0, kind(err)
	}
}

// Rename is POST /containers/{id}/rename?name=NEW.
func (c *Client) Rename(ref, name string) error {
	_, err := c.api.ContainerRename(c.ctx, ref, client.ContainerRenameOptions{NewName: name})
	return kind(err)
}

// Container is GET /containers/{id}/json, as the engine's record.
func (c *Client) Container(ref string) (*state.Container, error) {
	info, err := c.api.ContainerInspect(c.ctx, ref, client.ContainerInspectOptions{})
	if err != nil {
		return nil, kind(err)
	}
	return fromInspect(info.Container), nil
}

// Pause is POST /containers/{id}/pause.
func (c *Client) Pause(ref string) error {
	_, err := c.api.ContainerPause(c.ctx, ref, client.ContainerPauseOptions{})
	return kind(err)
}

// Unpause is POST /containers/{id}/unpause.
func (c *Client) Unpause(ref string) error {
	_, err := c.api.ContainerUnpause(c.ctx, ref, client.ContainerUnpauseOptions{})
	return kind(err)
}

// Top is GET /containers/{id}/top.
func (c *Client) Top(ref string) ([][]string, error) {
	res, err := c.api.ContainerTop(c.ctx, ref, client.ContainerTopOptions{})
	if err != nil {
		return nil, kind(err)
	}
	return res.Processes, nil
}

// ---- volumes ----

func fromVolume(v volume.Volume) engine.Volume {
	created, _ := time.Parse(time.RFC3339, v.CreatedAt)
	return engine.Volume{CreatedAt: created, Driver: v.Driver, Labels: v.Labels, Mountpoint: v.Mountpoint,
		Name: v.Name, Options: v.Options, Scope: v.Scope}
}

// CreateVolume is POST /volumes/create.
func (c *Client) CreateVolume(name string) (engine.Volume, error) {
	res, err := c.api.VolumeCreate(c.ctx, client.VolumeCreateOptions{Name: name})
	if err != nil {
		return engine.Volume{}, kind(err)
	}
	return fromVolume(res.Volume), nil
}

// Volumes is GET /volumes.
func (c *Client) Volumes() ([]engine.Volume, error) {
	res, err := c.api.VolumeList(c.ctx, client.VolumeListOptions{})
	if err != nil {
		return nil, kind(err)
	}
	var out []engine.Volume
	for _, v := range res.Items {
		out = append(out, fromVolume(v))
	}
	return out, nil
}

// InspectVolume is GET /volumes/{name}.
func (c *Client) InspectVolume(name string) (engine.Volume, error) {
	res, err := c.api.VolumeInspect(c.ctx, name, client.VolumeInspectOptions{})
	if err != nil {
		return engine.Volume{}, kind(err)
	}
	return fromVolume(res.Volume), nil
}

// RemoveVolume is DELETE /volumes/{name}.
func (c *Client) RemoveVolume(name string) error {
	_, err := c.api.VolumeRemove(c.ctx, name, client.VolumeRemoveOptions{})
	return kind(err)
}

// PruneVolumes is POST /volumes/prune.
func (c *Client) PruneVolumes(all bool) ([]string, error) {
	res, err := c.api.VolumePrune(c.ctx, client.VolumePruneOptions{All: all})
	if err != nil {
		return nil, kind(err)
	}
	return res.Report.VolumesDeleted, nil
}

// Stats is GET /containers/{id}/stats?stream=false&one-shot=true: one
// reading.
func (c *Client) Stats(ref string) (engine.StatsSample, error) {
	res, err := c.api.ContainerStats(c.ctx, ref, client.ContainerStatsOptions{Stream: false, IncludePreviousSample: false})
	if err != nil {
		return engine.StatsSample{}, kind(err)
	}
	defer res.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		return engine.StatsSample{}, fmt.Errorf("stats %s: %w", ref, err)
	}
	s := engine.StatsSample{Read: st.Read, CPUUsage: time.Duration(st.CPUStats.CPUUsage.TotalUsage),
		SystemUsage: time.Duration(st.CPUStats.SystemUsage), OnlineCPUs: int(st.CPUStats.OnlineCPUs),
		MemUsage: st.MemoryStats.Usage, MemLimit: st.MemoryStats.Limit, Pids: st.PidsStats.Current, PidsLimit: st.PidsStats.Limit}
	for _, n := range st.Networks {
		s.NetRx += n.RxBytes
		s.NetTx += n.TxBytes
	}
	for _, b := range st.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(b.Op) {
		case "read":
			s.BlockRead += b.Value
		case "write":
			s.BlockWrite += b.Value
		}
	}
	return s, nil
}

// CopyFromContainer is docker cp CONTAINER:SRC DEST through the
// daemon's archive endpoints (engine.CopyFrom: the same rules as in-process).
func (c *Client) CopyFromContainer(ref, src, dst string, followLink bool) error {
	return engine.CopyFrom(c, ref, src, dst, followLink)
}

// CopyToContainer is docker cp SRC CONTAINER:DEST (engine.CopyTo).
func (c *Client) CopyToContainer(ref, src, dst string) error { return engine.CopyTo(c, ref, src, dst) }

// StatPath is HEAD /containers/{id}/archive?path=P.
func (c *Client) StatPath(ref, p string) (engine.PathStat, error) {
	res, err := c.api.ContainerStatPath(c.ctx, ref, client.ContainerStatPathOptions{Path: p})
	if err != nil {
		return engine.PathStat{}, kind(err)
	}
	return fromPathStat(res.Stat), nil
}

// ArchivePath is GET /containers/{id}/archive?path=P.
func (c *Client) ArchivePath(ref, p string) (io.ReadCloser, engine.PathStat, error) {
	res, err := c.api.CopyFromContainer(c.ctx, ref, client.CopyFromContainerOptions{SourcePath: p})
	if err != nil {
		return nil, engine.PathStat{}, kind(err)
	}
	return res.Content, fromPathStat(res.Stat), nil
}

// ExtractArchive is PUT /containers/{id}/archive?path=DIR.
func (c *Client) ExtractArchive(ref, dir string, r io.Reader) error {
	_, err := c.api.CopyToContainer(c.ctx, ref, client.CopyToContainerOptions{DestinationPath: dir, Content: r})
	return kind(err)
}

func fromPathStat(st container.PathStat) engine.PathStat {
	return engine.PathStat{Name: st.Name, Size: st.Size, Mode: st.Mode, Mtime: st.Mtime, LinkTarget: st.LinkTarget}
}

// copyStreams copies a hijacked stream to stdout and stderr (nil: thrown
// away): raw with a pty, else demultiplexed from Docker's 8-byte frames.
func copyStreams(r io.Reader, tty bool, stdout, stderr io.Writer) error {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	var err error
	if tty {
		_, err = io.Copy(stdout, r)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, r)
	}
	return err
}
