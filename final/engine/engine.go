// Package engine is minidocker's container lifecycle: create, start (through
// a monitor process per container), stop, remove, and the repairs that make
// "ps -a" and "rm -f" right after anything was SIGKILLed. The CLI (package
// cli) is only the commands and their output; the steps' packages do the
// work: images (step 5), filesystem (step 3), cgroups (step 4), network
// (step 6), namespaces and init (step 2).
//
// # No daemon: the monitor
//
// Docker's CLI asks a daemon; minidocker has none. Each container gets a
// small process of its own instead, like containerd's shim or podman's
// conmon: the monitor. It is this binary started again with MonitorArg,
// in a session of its own (setsid), so it outlives the CLI that started it
// and its terminal. It:
//
//  1. sets up the container (rootfs, network files) and starts it in its
//     cgroups and namespaces (limits.Start), attaching the network once
//     the init exists (connect.Plan.Attach);
//  2. records Running, the PID and the chosen ports in the state, and tells
//     the CLI on the "ready" pipe (fd 3) that the container runs, or why it
//     could not start, with Docker's exit code;
//  3. copies the container's stdout and stderr into the json-file log (and
//     to the CLI's terminal when attached, and from it with -i);
//  4. waits; records the exit code, OOMKilled and the finish time; removes
//     the network and the cgroups; tells the CLI the exit code; removes the
//     container with --rm; exits.
//
// Whoever finds a container "running" whose monitor and init are both
// gone (both were SIGKILLed) repairs its state (Reap): ps, stop and rm do.
package engine

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/final/state"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step02-namespaces/privileges"
	"minidocker/step03-rootfs-layers/image"
	"minidocker/step03-rootfs-layers/rootfs"
	"minidocker/step04-cgroups/cgroups"
	"minidocker/step05-pull/store"
	"minidocker/step06-networking/connect"
	"minidocker/step06-networking/portmap"
)

// MonitorArg is argv[1] of a monitor process: "minidocker
// __minidocker_monitor <root> <id>".
const MonitorArg = "__minidocker_monitor"

// Engine is the data root's containers and images.
type Engine struct {
	Root       string
	Containers *state.Store
	Images     *store.Store
}

// Open opens the stores under root.
func Open(root string) (*Engine, error) {
	cs, err := state.Open(root)
	if err != nil {
		return nil, err
	}
	is, err := store.Open(root)
	if err != nil {
		return nil, err
	}
	return &Engine{Root: root, Containers: cs, Images: is}, nil
}

// RunOptions are docker run's options, parsed.
type RunOptions struct {
	Image      *store.Image
	ImageRef   string   // as the user gave it
	Name       string   // --name; "" for a generated one
	Args       []string // [COMMAND] [ARG...]
	Entrypoint *string  // --entrypoint
	Env        []string // -e, KEY=VALUE
	Dir, User  string   // -w, --user
	Hostname   string   // --hostname; "" for the short ID
	Tty        bool     // -t
	OpenStdin  bool     // -i
	AutoRemove bool     // --rm
	Init       bool     // --init
	Mounts     []rootfs.Mount
	Network    string // bridge, none, host
	Ports      []portmap.Mapping
	Memory     int64 // bytes
	NanoCPUs   int64 // 1e9 per CPU
	PidsLimit  int64
	// Confinement (Docker's defaults when zero): --privileged, --cap-add,
	// --cap-drop, --security-opt as privileges.ParseSecurityOpts stores
	// them, --read-only.
	Privileged      bool
	CapAdd, CapDrop []string
	SecurityOpt     []string
	ReadonlyRootfs  bool
}

// Create stores a new container from o, without starting it: the image's
// config with the options applied (Docker's rules for Entrypoint and Cmd),
// and a name.
func (e *Engine) Create(o RunOptions) (*state.Container, error) {
	if _, err := connect.NewPlan(e.Root, o.Network, "", netip.Prefix{}, o.Ports, nil); err != nil {
		return nil, err
	}
	// Refuse bad capability names or profiles now, not when it starts.
	if _, err := e.privileges(o.Privileged, o.CapAdd, o.CapDrop, o.SecurityOpt); err != nil {
		return nil, err
	}
	img := e.Images.Runnable(o.Image)
	var ns namespaces.Config
	if err := img.Apply(&ns, image.Overrides{Args: o.Args, Entrypoint: o.Entrypoint, Env: o.Env, Dir: o.Dir, User: o.User}); err != nil {
		return nil, err
	}
	entrypoint := img.Config.Config.Entrypoint
	if o.Entrypoint != nil {
		entrypoint = nil
		if *o.Entrypoint != "" {
			entrypoint = []string{*o.Entrypoint}
		}
	}
	c := &state.Container{
		Name: o.Name,
		Config: state.Config{
			Image: o.ImageRef, ImageID: o.Image.ID.String(),
			Entrypoint: entrypoint, Cmd: ns.Args[len(entrypoint):],
			Env: ns.Env, WorkingDir: ns.Dir, User: ns.User, Hostname: o.Hostname,
			Tty: o.Tty, OpenStdin: o.OpenStdin, StopSignal: img.Config.Config.StopSignal,
			Init: o.Init, AutoRemove: o.AutoRemove,
			Memory: o.Memory, NanoCPUs: o.NanoCPUs, PidsLimit: o.PidsLimit,
			Network:    o.Network,
			Privileged: o.Privileged, CapAdd: o.CapAdd, CapDrop: o.CapDrop,
			SecurityOpt: o.SecurityOpt, ReadonlyRootfs: o.ReadonlyRootfs,
		},
	}
	for _, m := range o.Mounts {
		c.Config.Mounts = append(c.Config.Mounts, state.Mount{Type: "bind", Source: m.Source, Destination: m.Destination, RW: !m.ReadOnly})
	}
	for _, p := range o.Ports {
		b := state.PortBinding{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Proto}
		if p.HostIP.IsValid() {
			b.HostIP = p.HostIP.String()
		}
		c.Config.Ports = append(c.Config.Ports, b)
	}
	if err := e.Containers.Create(c); err != nil {
		return nil, err
	}
	if c.Config.Hostname == "" {
		err := e.Containers.Update(c.ID, func(c *state.Container) error {
			c.Config.Hostname = c.ShortID()
			return nil
		})
		if err != nil {
			return nil, err
		}
		c.Config.Hostname = c.ShortID()
	}
	return c, nil
}

// privileges resolves a container's confinement for its init: the
// capability set and the seccomp filter, compiled once per data root and
// kept in its seccomp directory.
func (e *Engine) privileges(privileged bool, add, drop, securityOpt []string) (*privileges.Config, error) {
	o := privileges.Options{Privileged: privileged, CapAdd: add, CapDrop: drop, CacheDir: filepath.Join(e.Root, "seccomp")}
	if _, err := privileges.ParseSecurityOpts(securityOpt, &o); err != nil {
		return nil, err
	}
	return privileges.Resolve(o)
}

// plan is the network plan of c.
func (e *Engine) plan(c *state.Container) (*connect.Plan, error) {
	var ports []portmap.Mapping
	for _, b := range c.Config.Ports {
		m := portmap.Mapping{HostPort: b.HostPort, ContainerPort: b.ContainerPort, Proto: b.Protocol}
		if b.HostIP != "" {
			ip, err := netip.ParseAddr(b.HostIP)
			if err != nil {
				return nil, err
			}
			m.HostIP = ip
		}
		ports = append(ports, m)
	}
	mode := c.Config.Network
	if mode == "" {
		mode = connect.Bridge
	}
	return connect.NewPlan(e.Root, mode, "", netip.Prefix{}, ports, nil)
}

// Alive reports whether c's init process still runs. A running container
// whose monitor died still runs; one whose init is gone does not, whatever
// its state file says.
func Alive(c *state.Container) bool {
	return c.State.Running && c.State.Pid > 0 && pidAlive(c.State.Pid)
}

func pidAlive(pid int) bool {
	err := unix.Kill(pid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// monitorAlive reports whether c's monitor still runs.
func monitorAlive(c *state.Container) bool {
	return c.State.MonitorPid > 0 && pidAlive(c.State.MonitorPid)
}

// Refresh repairs c if it says running but neither its init nor its
// monitor runs any more (both were SIGKILLed): Reap. It returns c as it is
// now.
func (e *Engine) Refresh(c *state.Container) (*state.Container, error) {
	if !c.State.Running || Alive(c) || monitorAlive(c) {
		return c, nil
	}
	if err := e.Reap(c, 255); err != nil {
		return c, err
	}
	return e.Containers.Get(c.ID)
}

// Reap does what a dead monitor could not: removes the container's cgroups
// (killing anything left in them) and network, and records it as exited
// with code (255: unknown, as Docker reports it) unless the monitor got to
// record the real one.
func (e *Engine) Reap(c *state.Container, code int) error {
	var errs []error
	if len(c.State.CgroupPaths) > 0 {
		cg, err := cgroups.Load(cgroups.Config{ID: c.ID, Paths: c.State.CgroupPaths})
		if err == nil {
			err = cg.Destroy()
		}
		errs = append(errs, err)
	} else if cg, err := cgroups.Load(cgroups.Config{ID: c.ID}); err == nil {
		errs = append(errs, cg.Destroy())
	}
	if plan, err := e.plan(c); err == nil {
		errs = append(errs, plan.Release(c.ID))
	}
	errs = append(errs, e.Containers.Update(c.ID, func(c *state.Container) error {
		if c.State.Running {
			c.State.Status, c.State.Running, c.State.Pid = state.Exited, false, 0
			c.State.ExitCode, c.State.FinishedAt = code, time.Now().UTC()
		}
		c.State.MonitorPid = 0
		return nil
	}))
	return errors.Join(errs...)
}

// Signal sends sig to the container's init (PID 1 inside).
func (e *Engine) Signal(c *state.Container, sig syscall.Signal) error {
	if !Alive(c) {
		return fmt.Errorf("container %s is not running", c.ShortID())
	}
	return unix.Kill(c.State.Pid, sig)
}

// WaitStopped waits until the container is no longer running (its monitor
// recorded the exit, or both are gone and it was reaped), up to timeout.
func (e *Engine) WaitStopped(id string, timeout time.Duration) (*state.Container, error) {
	deadline := time.Now().Add(timeout)
	for {
		c, err := e.Containers.Get(id)
		if err != nil {
			return nil, err
		}
		if c, err = e.Refresh(c); err != nil || !c.State.Running {
			return c, err
		}
		if time.Now().After(deadline) {
			return c, fmt.Errorf("container %s did not stop within %v", c.ShortID(), timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop sends the container's stop signal (the image's StopSignal, or
// SIGTERM), and SIGKILL after timeout, as docker stop does.
func (e *Engine) Stop(c *state.Container, timeout time.Duration) error {
	c, err := e.Refresh(c)
	if err != nil || !Alive(c) {
		return err
	}
	sig := syscall.SIGTERM
	if c.Config.StopSignal != "" {
		if sig, err = ParseSignal(c.Config.StopSignal); err != nil {
			return err
		}
	}
	if err := e.Signal(c, sig); err == nil {
		if _, err := e.WaitStopped(c.ID, timeout); err == nil {
			return nil
		}
	}
	return e.Kill(c)
}

// Kill SIGKILLs the container and waits until it is recorded as exited.
func (e *Engine) Kill(c *state.Container) error {
	if Alive(c) {
		if err := unix.Kill(c.State.Pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill container %s: %w", c.ShortID(), err)
		}
	}
	_, err := e.WaitStopped(c.ID, 10*time.Second)
	return err
}

// ErrRunning is docker rm's refusal of a running container without -f;
// the error is a *RunningError.
var ErrRunning = errors.New("container is running")

// RunningError is docker rm's message for a running container.
type RunningError struct{ ID string }

func (e *RunningError) Error() string {
	return "You cannot remove a running container " + e.ID + ". Stop the container before attempting removal or force remove"
}

// Is makes errors.Is(err, ErrRunning) true.
func (e *RunningError) Is(target error) bool { return target == ErrRunning }

// Remove removes the container and everything it had on the host: with
// force a running one is killed first.
func (e *Engine) Remove(c *state.Container, force bool) error {
	c, err := e.Refresh(c)
	if err != nil {
		return err
	}
	if c.State.Running {
		if !force {
			return &RunningError{ID: c.ID}
		}
		if err := e.Kill(c); err != nil {
			return err
		}
		if c, err = e.Containers.Get(c.ID); err != nil {
			return err
		}
	}
	// Whatever a monitor killed half-way left: cgroups, network. Both are
	// no-ops when already gone.
	var errs []error
	if cg, err := cgroups.Load(cgroups.Config{ID: c.ID, Paths: c.State.CgroupPaths}); err == nil {
		errs = append(errs, cg.Destroy())
	}
	if plan, err := e.plan(c); err == nil {
		errs = append(errs, plan.Release(c.ID))
	}
	errs = append(errs, e.Containers.Remove(c.ID))
	return errors.Join(errs...)
}

// ParseSignal reads a signal as docker's --signal and STOPSIGNAL do:
// "SIGTERM", "TERM", "15".
func ParseSignal(s string) (syscall.Signal, error) {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal: %s", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, fmt.Errorf("invalid signal: %s", s)
	}
	return sig, nil
}

// containerDir is where the container's own files are (config, state,
// log, its writable layer, its network files).
func (e *Engine) containerDir(id string) string { return e.Containers.Dir(id) }
