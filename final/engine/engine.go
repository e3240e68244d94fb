// Package engine is minidocker's container lifecycle: create, start (through
// a monitor process per container), stop, remove, and the repairs that make
// "ps -a" and "rm -f" right after anything was SIGKILLed. The steps'
// packages do the work: images (step 5), filesystem (step 3), cgroups
// (step 4), network (step 6), namespaces and init (step 2).
//
// # The only door
//
// Every operation of a front end is one method here (api.go, control.go):
// Pull, PullIfMissing, Images, RemoveImage, Create, Start (attached or
// not), Attach, Resize, Wait, Stop, Kill, Logs, List, Inspect,
// InspectContainer, InspectImage, RemoveContainer, Search, the disk's
// (prune.go: ContainerSizes, DiskUsage, PruneContainers, PruneImages), and
// cp's StatPath, ArchivePath and ExtractArchive (cp.go); the CLI calls
// them through the Backend interface (backend.go), which package apiclient
// also implements with a daemon's Engine API (minidocker -H).
// They take the user's references (a name, an ID
// or a prefix), return data, never print, and return errors worded as
// dockerd words them and marked with their kind (package errdefs: not
// found, conflict, invalid parameter, not modified, unavailable). The CLI
// (package cli) only parses flags, calls them and prints, turning the
// kinds into exit codes in one place; the daemon (package daemon) turns
// them into HTTP statuses (errdefs.HTTPStatus). The stores are not exported: only the
// engine reads a container's files, takes its lock or signals its
// processes.
//
// # No daemon: the monitor
//
// Docker's CLI asks a daemon; minidocker needs none (minidocker daemon
// serves the Engine API, but no container depends on it). Each container gets a
// small process of its own instead, like containerd's shim or podman's
// conmon: the monitor. It is this binary started again with MonitorArg,
// in a session of its own (setsid), with /dev/null for stdio, so it
// outlives the CLI that started it and its terminal. It:
//
//  1. sets up the container (rootfs, network files) and starts it in its
//     cgroups and namespaces (limits.Start), attaching the network once
//     the init exists (connect.Plan.Attach);
//  2. records Running, the PID and the chosen ports in the state, and tells
//     the engine that started it on the "ready" pipe (fd 3) that the
//     container runs, or why it could not start, with Docker's exit code;
//  3. copies the container's stdout and stderr into the json-file log and
//     to the clients attached to its control socket, and their input to
//     the container's stdin with -i;
//  4. waits; records the exit code, OOMKilled and the finish time; removes
//     the network and the cgroups; removes the container with --rm; tells
//     the waiting clients the exit code; exits, or, when the restart
//     policy says so, waits out the back-off and goes back to 1 (restart.go).
//
// # The control socket
//
// Before the container starts, the monitor listens on
// containers/<id>/control.sock (mode 0600), removed when it exits. Front
// ends never touch it: Attach, Resize and Start with attach options speak
// it. A connection begins with one JSON line from the client, the hello:
//
//	{"attach": {"stdin": true, "stdout": true, "stderr": true, "stdinOnce": true}, "resize": {"rows": 24, "cols": 80}}
//	{"resize": {"rows": 24, "cols": 80}}
//	{"wait": true}
//
// (attach and wait on connections of their own). The monitor answers one
// line, {"tty": true} or {} or {"error": "..."}. Then, for an attach, the
// monitor sends the output: without a pty in Docker's stdcopy frames, an
// 8-byte header [stream (1 stdout, 2 stderr), 0, 0, 0, length uint32
// big-endian] and the payload, in one write; with a pty raw bytes. The
// client's bytes are the container's stdin; its half-close (CloseWrite) is
// their end, which closes the container's stdin with stdinOnce. At the end
// of the output the monitor half-closes: the client reads EOF. Several
// clients may attach; the log gets everything regardless. A resize sets the
// pty's size. A wait gets {"exitCode": N} once the exit is recorded (and a
// --rm container removed). A monitor started for a foreground run
// (MonitorArg ... "attach") waits up to 10 s, before the command starts,
// for that client's attach, whose size is the pty's from the start.
//
// Whoever finds a container "running" whose monitor and init are both
// gone (both were SIGKILLed) repairs its state (reap): ps, stop and rm do.
//
// # One container, one story: the lock and the identities
//
// Commands are separate processes that may act on one container at once
// ("start web & start web", "rm -f web & start web"). Each takes the
// container's own lock (state.Store.Lock) while it reads the state and acts
// on it: a start (in the monitor: from the state check until the container
// is recorded running, or failed), stop and kill (to send the signal), rm,
// and the monitor's recording of the exit. Nobody waits for an exit with
// the lock held: the monitor needs it to record that exit.
//
// A PID in state.json names a process only while that process lives;
// afterwards the kernel gives the number to another. So the state keeps the
// start time of the init and of the monitor beside their PIDs, and every
// signal goes through a pidfd opened on that identity
// (step01-process/process.Identity): a reused PID is never signalled. The
// pidfds also tell when the process exits (poll), so stop and rm wait
// without asking again and again.
package engine

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/step01-process/process"
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

// Engine is the data root's containers and images. Its methods are every
// operation a front end (the CLI, a daemon) performs; they return data and
// errors of a kind (package errdefs), and print nothing. The stores are
// not exported: nothing but the engine touches a container's files, locks
// or processes.
type Engine struct {
	Root       string
	containers *state.Store
	images     *store.Store
	// bridge and subnet are the bridge network's, when not the defaults
	// (dockerd's --bridge and --bip): $MINIDOCKER_BRIDGE and
	// $MINIDOCKER_BRIDGE_SUBNET. Tests use them for a bridge of their own.
	bridge string
	subnet netip.Prefix
}

// Open opens the stores under root.
func Open(root string) (*Engine, error) {
	e := &Engine{Root: root, bridge: os.Getenv("MINIDOCKER_BRIDGE")}
	if e.bridge != "" && !validBridgeName(e.bridge) {
		return nil, fmt.Errorf("MINIDOCKER_BRIDGE=%q: not an interface name (1 to 15 letters, digits, '-', '_' or '.')", e.bridge)
	}
	if v := os.Getenv("MINIDOCKER_BRIDGE_SUBNET"); v != "" {
		p, err := netip.ParsePrefix(v)
		if err != nil || !p.Addr().Is4() {
			return nil, fmt.Errorf("MINIDOCKER_BRIDGE_SUBNET=%q: not an IPv4 subnet such as 172.18.0.0/16", v)
		}
		e.subnet = p.Masked()
	}
	var err error
	if e.containers, err = state.Open(root); err != nil {
		return nil, err
	}
	if e.images, err = store.Open(root); err != nil {
		return nil, err
	}
	return e, nil
}

func validBridgeName(name string) bool {
	if len(name) > 15 || name == "." || name == ".." {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return name != ""
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
	Network    string   // bridge, none, host, container:NAME, or a user network's name
	Aliases    []string // --network-alias, on a user network
	Ports      []portmap.Mapping
	DNS        []string // --dns: the servers of the container's resolv.conf
	Memory     int64    // bytes
	NanoCPUs   int64    // 1e9 per CPU
	PidsLimit  int64
	Labels     map[string]string // --label, --label-file
	// Confinement (Docker's defaults when zero): --privileged, --cap-add,
	// --cap-drop, --security-opt as privileges.ParseSecurityOpts stores
	// them, --read-only.
	Privileged      bool
	CapAdd, CapDrop []string
	SecurityOpt     []string
	ReadonlyRootfs  bool
	// Detach (-d): nobody will attach. The engine needs it not (Start
	// says whether it attaches); an API client tells the daemon, as the
	// docker CLI does, with Config.AttachStdout and AttachStderr false.
	Detach bool
	// RestartPolicy is --restart (ParseRestartPolicy); zero: no.
	RestartPolicy state.RestartPolicy
	// --mount, and --tmpfs (its path in the container -> its options).
	MountSpecs []MountSpec
	Tmpfs      map[string]string
}

// Validate checks what of o needs no image: the mounts, the network mode,
// the published ports, the DNS servers and the restart policy. Create
// checks it too; run calls it first so that a bad --network fails before
// a pull.
func (e *Engine) Validate(o RunOptions) error {
	if err := ValidateRestartPolicy(o.RestartPolicy); err != nil {
		return err
	}
	if o.AutoRemove && restarts(o.RestartPolicy) {
		return errdefs.InvalidParameter(errors.New("can't create 'AutoRemove' container with restart policy"))
	}
	for _, s := range o.DNS {
		if _, err := netip.ParseAddr(s); err != nil {
			return errdefs.InvalidParameter(fmt.Errorf("%s is not an ip address", s))
		}
	}
	// The mounts (all but the image's VOLUMEs, which need the image).
	if _, err := containerMounts(o, nil); err != nil {
		return err
	}
	if _, ok := joinedRef(o.Network); ok {
		return validateContainerMode(o)
	}
	if err := e.checkUserNetwork(o); err != nil || isUserNetwork(o.Network) {
		return err
	}
	if _, err := connect.NewPlan(o.Network, e.bridge, e.subnet, o.Ports, o.DNS); err != nil {
		return errdefs.InvalidParameter(err)
	}
	return nil
}

// Create stores a new container from o, without starting it: the image's
// config with the options applied (Docker's rules for Entrypoint and Cmd),
// the network plan's choices (mode, ports, DNS), and a name. o.Image may be
// nil: the image named o.ImageRef is used (NotFound when it is not here).
func (e *Engine) Create(o RunOptions) (*state.Container, error) {
	if err := e.Validate(o); err != nil {
		return nil, err
	}
	// Refuse bad capability names or profiles now, not when it starts.
	if _, err := e.privileges(o.Privileged, o.CapAdd, o.CapDrop, o.SecurityOpt); err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	if o.Image == nil {
		var err error
		if o.Image, err = e.image(o.ImageRef); err != nil {
			return nil, err
		}
	}
	img := e.images.Runnable(o.Image)
	var ns namespaces.Config
	if err := img.Apply(&ns, image.Overrides{Args: o.Args, Entrypoint: o.Entrypoint, Env: o.Env, Dir: o.Dir, User: o.User}); err != nil {
		return nil, errdefs.InvalidParameter(err)
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
			Init: o.Init, AutoRemove: o.AutoRemove, Labels: mergeLabels(img.Config.Config.Labels, o.Labels), RestartPolicy: o.RestartPolicy,
			Memory: o.Memory, NanoCPUs: o.NanoCPUs, PidsLimit: o.PidsLimit,
			Network: o.Network, DNS: o.DNS,
			Privileged: o.Privileged, CapAdd: o.CapAdd, CapDrop: o.CapDrop,
			SecurityOpt: o.SecurityOpt, ReadonlyRootfs: o.ReadonlyRootfs,
		},
	}
	if o.Network == connect.Bridge || o.Network == "" {
		c.Config.Bridge = e.bridge
		if e.subnet.IsValid() {
			c.Config.BridgeSubnet = e.subnet.String()
		}
	}
	if err := e.joinUserNetwork(c, o); err != nil {
		return nil, err
	}
	mounts, err := containerMounts(o, img.Config.Config.Volumes)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(mounts, func(m rootfs.Mount) bool { return m.Name != "" || m.Anonymous }) {
		// The volumes are made now, under their lock until the container
		// is recorded, so that no volume rm slips between the two.
		unlock, err := e.lockVolumes()
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	if c.Config.Mounts, err = e.recordMounts(mounts); err != nil {
		return nil, err
	}
	c.Config.Network = e.resolveJoined(c.Config.Network)
	for _, p := range o.Ports {
		b := state.PortBinding{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Proto}
		if p.HostIP.IsValid() {
			b.HostIP = p.HostIP.String()
		}
		c.Config.Ports = append(c.Config.Ports, b)
	}
	if err := e.containers.Create(c); err != nil {
		e.dropAnonymousVolumes(c.Config.Mounts) // made for it alone
		return nil, createErr(err)
	}
	if c.Config.Hostname == "" {
		err := e.containers.Update(c.ID, func(c *state.Container) error {
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
	if _, ok := joinedRef(mode); ok {
		// Another container's network: nothing of ours to attach or
		// release (netcontainer.go joins it).
		mode = connect.None
	} else if isUserNetwork(mode) {
		return e.userPlan(c, ports)
	}
	var subnet netip.Prefix
	if c.Config.BridgeSubnet != "" {
		var err error
		if subnet, err = netip.ParsePrefix(c.Config.BridgeSubnet); err != nil {
			return nil, fmt.Errorf("container %s: bridge subnet: %w", c.ShortID(), err)
		}
	}
	plan, err := connect.NewPlan(mode, c.Config.Bridge, subnet, ports, c.Config.DNS)
	if err != nil {
		return nil, err
	}
	return e.connectPlan(plan, c)
}

// alive reports whether c's init process still runs. A running container
// whose monitor died still runs; one whose init is gone does not, whatever
// its state file says. "Still runs" means the PID recorded for the init
// belongs to a process that started when the init did: a PID alone is
// handed to the next process that starts once the init is gone, and
// kill(pid, 0) would then call a stranger our container.
func alive(c *state.Container) bool {
	return c.State.Running && c.State.Pid > 0 && c.State.Init().Alive()
}

// monitorAlive reports whether c's monitor still runs.
func monitorAlive(c *state.Container) bool {
	return c.State.MonitorPid > 0 && c.State.Monitor().Alive()
}

// needsReap: the state says running (or restarting) but neither the init
// nor the monitor runs any more (both were SIGKILLed, or the host
// rebooted), so nobody will record the exit (or restart it).
func needsReap(c *state.Container) bool {
	return (c.State.Running && !alive(c) || c.State.Restarting) && !monitorAlive(c)
}

// exitGrace is how long the monitor may take, once the init has exited, to
// release the network and the cgroups and record the exit.
const exitGrace = 10 * time.Second

// refresh repairs c if it says running but neither its init nor its
// monitor runs any more (both were SIGKILLed): reap, under the container's
// lock. It returns c as it is now (an error wrapping state.ErrNotFound if
// it was removed meanwhile).
func (e *Engine) refresh(c *state.Container) (*state.Container, error) {
	if !needsReap(c) {
		return c, nil
	}
	unlock, err := e.containers.Lock(c.ID)
	if err != nil {
		return c, err
	}
	defer unlock()
	return e.reload(c.ID)
}

// reload reads the container again and reaps it if needed. Call it with
// the container's lock held.
func (e *Engine) reload(id string) (*state.Container, error) {
	c, err := e.containers.Get(id)
	if err != nil || !needsReap(c) {
		return c, err
	}
	if err := e.reap(c, 255); err != nil {
		return c, err
	}
	return e.containers.Get(id)
}

// reap does what a dead monitor could not: removes the container's cgroups
// (killing anything left in them) and network, and records it as exited
// with code (255: unknown, as Docker reports it) unless the monitor got to
// record the real one. Call it with the container's lock held.
func (e *Engine) reap(c *state.Container, code int) error {
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
	errs = append(errs, e.containers.Update(c.ID, func(c *state.Container) error {
		if c.State.Running {
			c.State.Status, c.State.Running, c.State.Pid, c.State.PidStart = state.Exited, false, 0, 0
			c.State.Paused = false
			c.State.ExitCode, c.State.FinishedAt = code, time.Now().UTC()
		}
		if c.State.Restarting { // its last exit code stays
			c.State.Status, c.State.Restarting = state.Exited, false
		}
		c.State.MonitorPid, c.State.MonitorStart = 0, 0
		return nil
	}))
	return errors.Join(errs...)
}

// runningState is the state the monitor records once the init exists: the
// init's and its own identities (PID and start time). The init is our
// child and not yet waited for, so its PID cannot have been reused yet.
func runningState(pid int) (state.State, error) {
	init, err := process.Identify(pid)
	if err != nil {
		return state.State{}, fmt.Errorf("the container's init: %w", err)
	}
	mon, err := process.Identify(os.Getpid())
	if err != nil {
		return state.State{}, fmt.Errorf("the monitor: %w", err)
	}
	return state.State{
		Status: state.Running, Running: true, StartedAt: time.Now().UTC(),
		Pid: init.Pid, PidStart: init.StartTime, MonitorPid: mon.Pid, MonitorStart: mon.StartTime,
	}, nil
}

// ErrNotRunning is a container that has no process to signal; the error is
// a *NotRunningError.
var ErrNotRunning = errors.New("container is not running")

// NotRunningError is docker kill's message for a container that does not
// run.
type NotRunningError struct{ ID string }

func (e *NotRunningError) Error() string { return "container " + e.ID + " is not running" }

// Is makes errors.Is(err, ErrNotRunning) true.
func (e *NotRunningError) Is(target error) bool { return target == ErrNotRunning }

// ErrRemoving is docker start's refusal of a container that an rm -f is
// removing.
var ErrRemoving = errdefs.Conflict(errors.New("container is marked for removal and cannot be started"))

// errAlreadyRunning tells the monitor that the container it was to start
// already runs: docker start then does nothing, successfully.
var errAlreadyRunning = errors.New("container is already running")

// lockForStart takes the container's lock for a start and checks that it
// may start: it returns the container with the lock held (call unlock once
// it is recorded running, or failed), errAlreadyRunning (lock released)
// when its init runs, ErrRemoving when an rm -f is removing it. A container
// whose init has exited but whose monitor is still recording that is
// waited for, without the lock, which that monitor needs.
func (e *Engine) lockForStart(id string) (c *state.Container, unlock func(), err error) {
	for {
		unlock, err := e.containers.Lock(id)
		if err != nil {
			return nil, nil, err
		}
		c, err := e.reload(id)
		switch {
		case err != nil:
			unlock()
			return nil, nil, err
		case c.State.BeingRemoved():
			unlock()
			return c, nil, ErrRemoving
		case c.State.Restarting:
			// Its monitor restarts it: as docker start of a restarting
			// container, nothing to do.
			unlock()
			return c, nil, errAlreadyRunning
		case !c.State.Running:
			return c, unlock, nil
		case alive(c):
			unlock()
			return c, nil, errAlreadyRunning
		}
		mon, err := c.State.Monitor().Open()
		unlock()
		if err == nil {
			exited := mon.Wait(exitGrace)
			mon.Close()
			if !exited {
				return nil, nil, fmt.Errorf("container %s is still stopping after %v", c.ShortID(), exitGrace)
			}
		}
	}
}

// signal sends sig to the container's init (PID 1 inside), through a pidfd
// opened on the recorded identity: a reused PID is never signalled.
func (e *Engine) signal(c *state.Container, sig syscall.Signal) error {
	unlock, err := e.containers.Lock(c.ID)
	if err != nil {
		return err
	}
	defer unlock()
	if c, err = e.reload(c.ID); err != nil {
		return err
	}
	// SIGKILL and the stop signal end a restart loop (moby's ExitOnNext);
	// a restarting container has no process to signal.
	ends := sig == syscall.SIGKILL || sig == stopSignal(c)
	if c.State.Restarting {
		if ends {
			mon, err := e.endRestartLocked(c)
			closeHandles(mon)
			return err
		}
		return nil
	}
	if !alive(c) {
		return errdefs.Conflict(&NotRunningError{ID: c.ID})
	}
	if ends {
		if err := e.markStopped(c); err != nil {
			return err
		}
	}
	err = c.State.Init().Signal(sig)
	if errors.Is(err, process.ErrGone) {
		return errdefs.Conflict(&NotRunningError{ID: c.ID})
	}
	if err == nil && sig == syscall.SIGKILL {
		thawIfPaused(c) // other signals wait for the unpause, as in dockerd
	}
	return err
}

// Pause is docker pause: every process of the container frozen where it
// is (the freezer cgroup), until Unpause.
func (e *Engine) Pause(ref string) error { return e.setPaused(ref, true) }

// Unpause is docker unpause.
func (e *Engine) Unpause(ref string) error { return e.setPaused(ref, false) }

func (e *Engine) setPaused(ref string, pause bool) error {
	c, unlock, err := e.lockContainer(ref)
	if err != nil {
		return err
	}
	defer unlock()
	if c.State.Restarting {
		return restartingErr(c.ID)
	}
	if !alive(c) {
		return errdefs.Conflict(fmt.Errorf("Container %s is not running", c.ID))
	}
	if c.State.Paused == pause {
		if pause {
			return errdefs.Conflict(fmt.Errorf("Container %s is already paused", c.ID))
		}
		return errdefs.Conflict(fmt.Errorf("Container %s is not paused", c.ID))
	}
	cg, err := cgroups.Load(cgroups.Config{ID: c.ID, Paths: c.State.CgroupPaths})
	if err != nil {
		return err
	}
	if pause {
		err = cg.Freeze()
	} else {
		err = cg.Thaw()
	}
	if err != nil {
		return err
	}
	return e.containers.Update(c.ID, func(c *state.Container) error {
		c.State.Paused = pause
		return nil
	})
}

// lockContainer finds the container ref and takes its lock: it returns
// the container as it is under the lock (reaped if its processes were
// killed), and the unlock.
func (e *Engine) lockContainer(ref string) (*state.Container, func(), error) {
	c, err := e.container(ref)
	if err != nil {
		return nil, nil, err
	}
	unlock, err := e.containers.Lock(c.ID)
	if err != nil {
		return nil, nil, err
	}
	if c, err = e.reload(c.ID); err != nil {
		unlock()
		return nil, nil, containerErr(ref, err)
	}
	return c, unlock, nil
}

// signalLocked opens pidfds on the container's init and monitor (nil for
// one that is gone) and sends sig to the init. Call it with the lock held;
// the pidfds keep naming those two processes after it is released.
func signalLocked(c *state.Container, sig syscall.Signal) (init, mon *process.Handle, err error) {
	// Only "gone" means gone: any other failure (no pidfd_open before
	// Linux 5.3, out of descriptors) must not pass for a stopped container.
	init, err = c.State.Init().Open()
	if err != nil && !errors.Is(err, process.ErrGone) {
		return nil, nil, fmt.Errorf("signal container %s: %w", c.ShortID(), err)
	}
	mon, err = c.State.Monitor().Open()
	if err != nil && !errors.Is(err, process.ErrGone) {
		closeHandles(init)
		return nil, nil, fmt.Errorf("signal container %s: monitor: %w", c.ShortID(), err)
	}
	if init != nil {
		if err := init.Signal(sig); err != nil && !errors.Is(err, process.ErrGone) {
			return init, mon, fmt.Errorf("signal container %s: %w", c.ShortID(), err)
		}
	}
	// A frozen process gets its signal only once thawed (stop and rm -f
	// of a paused container: dockerd unpauses it after the signal too).
	thawIfPaused(c)
	return init, mon, nil
}

// thawIfPaused thaws a paused container's cgroups; its record says
// unpaused again once the exit is recorded.
func thawIfPaused(c *state.Container) {
	if !c.State.Paused {
		return
	}
	if cg, err := cgroups.Load(cgroups.Config{ID: c.ID, Paths: c.State.CgroupPaths}); err == nil {
		cg.Thaw()
	}
}

func closeHandles(hs ...*process.Handle) {
	for _, h := range hs {
		if h != nil {
			h.Close()
		}
	}
}

// waitStopped waits, without the lock, up to timeout for the init to exit
// and then up to exitGrace for its monitor to record the exit and go: poll
// on the two pidfds, no asking every few milliseconds. A container left
// "running" by a monitor that died is reaped. It reports false if the init
// still runs at timeout.
func (e *Engine) waitStopped(id string, init, mon *process.Handle, timeout time.Duration) (bool, error) {
	if init != nil && !init.Wait(timeout) {
		return false, nil
	}
	if mon != nil && !mon.Wait(exitGrace) {
		return true, fmt.Errorf("container %s: its monitor did not record the exit within %v", state.ShortID(id), exitGrace)
	}
	c, err := e.containers.Get(id)
	if errors.Is(err, state.ErrNotFound) {
		return true, nil // --rm: its monitor removed it
	}
	if err == nil {
		_, err = e.refresh(c)
	}
	return true, err
}

// stop is Stop with the signal: the lock is held only to read the state
// and send the signal, never while waiting (the monitor needs it to record
// the exit). A container that does not run is NotModified.
func (e *Engine) stop(id string, sig syscall.Signal, timeout time.Duration) error {
	unlock, err := e.containers.Lock(id)
	if err != nil {
		return err
	}
	c, err := e.reload(id)
	if err != nil {
		unlock()
		return err
	}
	if c.State.Restarting {
		// Between two runs: the loop ends here, and its monitor goes.
		mon, err := e.endRestartLocked(c)
		unlock()
		if mon != nil {
			defer mon.Close()
			if err == nil && !mon.Wait(exitGrace) {
				err = fmt.Errorf("container %s: its monitor did not go within %v", c.ShortID(), exitGrace)
			}
		}
		return err
	}
	if !c.State.Running {
		unlock()
		return errdefs.NotModified(&NotRunningError{ID: id})
	}
	if err := e.markStopped(c); err != nil {
		unlock()
		return err
	}
	init, mon, err := signalLocked(c, sig)
	unlock()
	defer closeHandles(init, mon)
	if err != nil {
		return err
	}
	stopped, err := e.waitStopped(c.ID, init, mon, timeout)
	if stopped || err != nil {
		return err
	}
	// The pidfd still names the init we signalled, even if the container
	// was started again meanwhile.
	if err := init.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, process.ErrGone) {
		return fmt.Errorf("kill container %s: %w", c.ShortID(), err)
	}
	if stopped, err = e.waitStopped(c.ID, init, mon, exitGrace); err == nil && !stopped {
		err = fmt.Errorf("container %s did not stop after SIGKILL", c.ShortID())
	}
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

// remove removes the container and everything it had on the host: with
// force a running one is killed first. Removal wins over a concurrent
// start: rm -f marks the container as being removed (with its own
// identity) before it kills it, and start refuses such a container until
// it is gone.
func (e *Engine) remove(c *state.Container, force bool) error {
	id := c.ID
	unlock, err := e.containers.Lock(id)
	if err != nil {
		return err
	}
	if c, err = e.reload(id); err != nil {
		unlock()
		return err
	}
	if c.State.BeingRemoved() {
		unlock()
		return errdefs.Conflict(fmt.Errorf("removal of container %s is already in progress", c.Name))
	}
	if c.State.Restarting {
		if !force {
			unlock()
			return errdefs.Conflict(fmt.Errorf("You cannot remove a restarting container %s. Stop the container before attempting removal or force remove", id))
		}
		// Its monitor, woken, finds the container gone and goes.
		mon, err := e.endRestartLocked(c)
		if err == nil {
			c, err = e.containers.Get(id)
		}
		if err == nil {
			err = e.removeLocked(c)
		}
		unlock()
		if mon != nil {
			mon.Wait(exitGrace)
			mon.Close()
		}
		return err
	}
	if c.State.Running {
		if !force {
			unlock()
			return errdefs.Conflict(&RunningError{ID: id})
		}
		me, err := process.Identify(os.Getpid())
		if err == nil {
			err = e.containers.Update(id, func(c *state.Container) error {
				c.State.Removing = &me
				return nil
			})
		}
		if err != nil {
			unlock()
			return fmt.Errorf("remove container %s: %w", c.ShortID(), err)
		}
		init, mon, err := signalLocked(c, syscall.SIGKILL)
		unlock()
		defer closeHandles(init, mon)
		if err != nil {
			return err
		}
		stopped, err := e.waitStopped(id, init, mon, exitGrace)
		if err == nil && !stopped {
			err = fmt.Errorf("container %s did not stop after SIGKILL", c.ShortID())
		}
		if err != nil {
			return err
		}
		if unlock, err = e.containers.Lock(id); errors.Is(err, state.ErrNotFound) {
			return nil // --rm: its monitor removed it
		} else if err != nil {
			return err
		}
		if c, err = e.reload(id); err != nil {
			unlock()
			return err
		}
		if c.State.Running {
			unlock()
			return fmt.Errorf("remove container %s: it was started again while being removed", c.ShortID())
		}
	}
	defer unlock()
	return e.removeLocked(c)
}

// removeLocked removes a container that does not run, with its lock held:
// whatever a monitor killed half-way left (cgroups, network; both are
// no-ops when already gone), then its state and directory.
func (e *Engine) removeLocked(c *state.Container) error { return e.remove1(c, true) }

// remove1 is removeLocked; unplug false leaves the veth's deletion to the
// caller (the monitor of a --rm container, once it told the exit).
func (e *Engine) remove1(c *state.Container, unplug bool) error {
	var errs []error
	if cg, err := cgroups.Load(cgroups.Config{ID: c.ID, Paths: c.State.CgroupPaths}); err == nil {
		errs = append(errs, cg.Destroy())
	}
	if plan, err := e.plan(c); err == nil {
		if unplug {
			errs = append(errs, plan.Release(c.ID))
		} else {
			errs = append(errs, plan.Forget(c.ID))
		}
	}
	errs = append(errs, e.containers.Remove(c.ID))
	return errors.Join(errs...)
}

// ParseSignal reads a signal as docker's --signal and STOPSIGNAL do:
// "SIGTERM", "TERM", "15".
func ParseSignal(s string) (syscall.Signal, error) {
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == s {
		if n <= 0 || n > 64 {
			return 0, errdefs.InvalidParameter(fmt.Errorf("invalid signal: %s", s))
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	sig := unix.SignalNum(name)
	if sig == 0 {
		return 0, errdefs.InvalidParameter(fmt.Errorf("invalid signal: %s", s))
	}
	return sig, nil
}

// containerDir is where the container's own files are (config, state,
// log, its writable layer, its network files).
func (e *Engine) containerDir(id string) string { return e.containers.Dir(id) }
