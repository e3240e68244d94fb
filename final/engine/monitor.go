package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"minidocker/final/errdefs"
	"minidocker/final/jsonlog"
	"minidocker/final/state"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/image"
	"minidocker/step03-rootfs-layers/rootfs"
	"minidocker/step04-cgroups/cgroups"
	"minidocker/step04-cgroups/limits"
	"minidocker/step06-networking/connect"
)

// message is what the monitor tells the engine that started it on the
// ready pipe, one JSON line each: that its control socket listens
// (Listening), then that the container runs (Pid, PidStart; Already when it
// ran before this start) or why it could not start (Error, Code;
// NotFound). The exit code goes through the control socket.
type message struct {
	Listening bool   `json:",omitempty"`
	Pid       int    `json:",omitempty"`
	PidStart  uint64 `json:",omitempty"`
	Already   bool   `json:",omitempty"`
	Error     string `json:",omitempty"`
	Code      int    `json:",omitempty"`
	NotFound  bool   `json:",omitempty"`
	// Kind is the error's kind (errdefs.KindOf), so that it crosses the
	// pipe: a start refused because an rm -f is removing the container is
	// a Conflict.
	Kind errdefs.Kind `json:",omitempty"`
}

// StartError is a container that could not start: the message and Docker's
// exit code (125, 126, 127) its monitor reported.
type StartError struct {
	Msg  string
	Code int
}

func (e *StartError) Error() string { return e.Msg }

// Started is a container whose monitor runs.
type Started struct {
	Pid  int              // the container's init
	Init process.Identity // the init's PID and start time
	// AlreadyRunning: the container ran before; nothing was started
	// (docker start of a running container does nothing).
	AlreadyRunning bool
	// Attachment is the caller's attach, with attach options: it was made
	// before the container's command started, so no output is missed.
	Attachment *Attachment
	cmd        *exec.Cmd
	ready      *bufio.Reader
	pipe       *os.File
}

// Start starts the container ref (a name, an ID or a unique prefix of one)
// through a new monitor, whose stdio is /dev/null: it outlives us and
// needs nothing of ours. With attach (docker run in the foreground), Start
// attaches to the container's streams through the monitor's control
// socket before the command starts (with attach.Size as the pty's size),
// and the caller waits (Started.Wait); otherwise the output only goes to
// the log and the monitor goes on alone. Start returns once the container
// runs, or with a *StartError (Docker's exit code: 125, 126, 127). A
// detached start of a container that runs already does nothing and
// returns an ErrNotModified error; an attached one fails with 125.
func (e *Engine) Start(ref string, attach *AttachOptions) (*Started, error) {
	c, err := e.container(ref)
	if err != nil {
		return nil, err
	}
	if attach == nil && alive(c) {
		return nil, errdefs.NotModified(fmt.Errorf("container %s is already running", c.ID))
	}
	s, err := e.start(c.ID, attach)
	if err != nil {
		return nil, containerErr(ref, err)
	}
	if attach == nil {
		s.detach()
		if s.AlreadyRunning {
			// The monitor found it running, under the lock.
			return nil, errdefs.NotModified(fmt.Errorf("container %s is already running", c.ID))
		}
	}
	return s, nil
}

func (e *Engine) start(id string, attach *AttachOptions) (*Started, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer w.Close()
	args := []string{MonitorArg, e.Root, id}
	if attach != nil {
		args = append(args, monitorAttachArg)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{w}
	// A session of its own: no terminal's SIGHUP or Ctrl-C reaches it, and
	// it outlives us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	w.Close()
	s := &Started{cmd: cmd, ready: bufio.NewReader(r), pipe: r}
	m, err := s.next()
	if err == nil && m.Listening {
		if attach != nil {
			// The monitor waits for us before it starts the command.
			if s.Attachment, err = e.attach(id, *attach); err != nil {
				err = fmt.Errorf("attach: %w", err)
			}
		}
		if err == nil {
			m, err = s.next()
		}
	}
	if err != nil && s.Attachment != nil {
		s.Attachment.Close()
	}
	if err != nil {
		cmd.Wait()
		r.Close()
		return nil, fmt.Errorf("start container %s: the monitor exited (%v): %w", id, cmd.ProcessState, err)
	}
	if m.Error != "" {
		if s.Attachment != nil {
			s.Attachment.Close()
		}
		cmd.Wait()
		r.Close()
		if m.NotFound {
			return nil, fmt.Errorf("%w: %s", state.ErrNotFound, id)
		}
		var err error = &StartError{Msg: m.Error, Code: m.Code}
		if m.Kind == errdefs.ConflictKind {
			err = errdefs.Conflict(err)
		}
		return nil, err
	}
	s.Pid, s.Init = m.Pid, process.Identity{Pid: m.Pid, StartTime: m.PidStart}
	if m.Already {
		s.AlreadyRunning = true
		cmd.Wait()
		r.Close()
		if attach != nil {
			return nil, &StartError{Msg: fmt.Sprintf("container %s is already running", id), Code: process.ExitToolFailed}
		}
	}
	return s, nil
}

func (s *Started) next() (message, error) {
	var m message
	line, err := s.ready.ReadBytes('\n')
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(line, &m)
}

// detach lets the monitor go on alone.
func (s *Started) detach() {
	if s.AlreadyRunning {
		return // its monitor is not ours
	}
	s.pipe.Close()
	// Reaped when it exits: a long-lived caller (the daemon) would
	// otherwise collect a zombie per detached start.
	go s.cmd.Wait()
}

// Signal sends sig to the init of the container this Start started, if it
// still runs (docker run's signal proxy), through a pidfd on its identity.
func (s *Started) Signal(sig syscall.Signal) error { return s.Init.Signal(sig) }

// Wait waits, after an attached Start, for the container's output to be
// copied and for its exit, and returns its exit code: its monitor reports
// it through the control socket once the exit is recorded and a --rm
// container removed, and then exits.
func (s *Started) Wait() (int, error) {
	defer s.pipe.Close()
	if s.Attachment == nil {
		return 0, errors.New("wait: the start was not attached")
	}
	code, err := s.Attachment.Wait()
	if errors.Is(err, ErrDetached) {
		go s.cmd.Wait() // the monitor runs on with the container; reaped at its end
		return 0, err
	}
	if err != nil {
		werr := s.cmd.Wait()
		return 0, fmt.Errorf("%w (monitor: %v)", err, werr)
	}
	// The monitor told the exit once it was recorded (and a --rm container
	// removed); what it still does (deleting the veth) nobody waits for.
	// It is reaped when it exits: a long-lived caller (the daemon) would
	// otherwise collect a zombie per run.
	go s.cmd.Wait()
	return code, nil
}

// monitorAttachArg, after a monitor's root and ID, tells it that a client
// (docker run in the foreground) attaches before the command starts.
const monitorAttachArg = "attach"

// firstAttachTimeout is how long a monitor started for an attached run
// waits for that client before it starts the command without it.
const firstAttachTimeout = 10 * time.Second

// Monitor is the monitor process of container id (see the package
// comment): it runs the container to the end and returns the monitor's
// exit code.
func Monitor(root, id string, args ...string) int {
	// A write to a client that went away must fail with EPIPE, not kill us.
	// (Notify, not Ignore: an ignored signal stays ignored across exec,
	// and the container would inherit it.)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	// Stop, kill and rm wake a monitor that waits to restart its container.
	wake := make(chan os.Signal, 1)
	signal.Notify(wake, wakeSignal)
	ready := os.NewFile(3, "ready")
	tell := func(m message) {
		if ready != nil {
			line, _ := json.Marshal(m)
			ready.Write(append(line, '\n')) // the CLI may be gone: fine
		}
	}
	e, err := Open(root)
	if err != nil {
		tell(message{Error: err.Error(), Code: process.ExitToolFailed})
		return 1
	}
	code, err := e.monitor(id, len(args) > 0 && args[0] == monitorAttachArg, tell, wake)
	if err != nil {
		fmt.Fprintf(os.Stderr, "minidocker monitor %s: %v\n", id, err)
		return 1
	}
	_ = code
	return 0
}

// monitor runs the container, and again as its restart policy says (see
// restart.go): one run after another in this one process, each waiting
// out the back-off first.
func (e *Engine) monitor(id string, waitAttach bool, tell func(message), wake <-chan os.Signal) (int, error) {
	// The container's lock, from the state check until it is recorded
	// running or failed: a second start waits here, then finds it running.
	c, unlock, err := e.lockForStart(id)
	if errors.Is(err, errAlreadyRunning) {
		tell(message{Pid: c.State.Pid, PidStart: c.State.PidStart, Already: true})
		return 0, nil
	}
	if err != nil {
		tell(message{Error: err.Error(), Code: process.ExitToolFailed, NotFound: errors.Is(err, state.ErrNotFound), Kind: errdefs.KindOf(err)})
		return 0, err
	}
	var delay time.Duration
	for restarted := false; ; restarted = true {
		r := e.run(c, unlock, runOptions{restarted: restarted, waitAttach: waitAttach && !restarted, tell: tell})
		if !r.again {
			return r.code, r.err
		}
		if r.err != nil {
			// Recorded as restarting, but something of the run's clean-up
			// failed: said, and the loop goes on.
			fmt.Fprintf(os.Stderr, "minidocker monitor %s: %v\n", id, r.err)
		}
		tell = func(message) {} // the engine that started us heard of the first run only
		delay = nextDelay(delay, r.ran)
		if c, unlock, err = e.waitRestart(id, delay, wake); c == nil {
			return r.code, err
		}
	}
}

// runOptions are what differs between a monitor's runs: the first may wait
// for an attach and tells the engine that started the monitor how it went;
// a restart keeps the container's restart count.
type runOptions struct {
	restarted  bool
	waitAttach bool
	tell       func(message)
}

// runResult is how a run ended: the exit code, how long the container ran,
// whether it is to be restarted (recorded restarting) and what failed.
type runResult struct {
	code  int
	ran   time.Duration
	again bool
	err   error
}

// run starts container c, whose lock is held (unlock releases it), and
// waits for its exit: one run of the monitor's loop.
func (e *Engine) run(c *state.Container, unlock func(), o runOptions) runResult {
	id, tell := c.ID, o.tell
	locked := true
	release := func() {
		if locked {
			locked = false
			unlock()
		}
	}
	defer release()
	started := false
	var ctl *control
	fail := func(err error) runResult {
		code := process.ExitCode(err)
		if ie, ok := errors.AsType[*namespaces.InitError](err); ok && ie.Code != 0 {
			code = ie.Code
		}
		uerr := e.containers.Update(id, func(c *state.Container) error {
			c.State.Error, c.State.ExitCode = err.Error(), code
			if started {
				c.State.Status = state.Exited
			}
			c.State.Running, c.State.Pid, c.State.PidStart, c.State.MonitorPid, c.State.MonitorStart = false, 0, 0, 0, 0
			c.State.Restarting = false // a restart that cannot start ends the loop
			if c.State.Status == state.Restarting {
				c.State.Status = state.Exited
			}
			c.State.FinishedAt = time.Now().UTC()
			return nil
		})
		tell(message{Error: err.Error(), Code: code})
		if ctl != nil {
			ctl.exit(nil)
		}
		if c.Config.AutoRemove {
			e.removeLocked(c) // we hold the lock: never started, nothing to kill
			e.removeAnonymousVolumes(c)
		}
		release()
		return runResult{code: code, err: uerr}
	}

	spec, err := e.initSpec(c)
	if err != nil {
		return fail(err)
	}
	cfg, plan, netDir, names := spec.cfg, spec.plan, spec.netDir, spec.names

	logFile, err := os.OpenFile(c.Config.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fail(err)
	}
	defer logFile.Close()
	logger := jsonlog.New(logFile, nil)
	// The control socket, before the container starts: a client may attach
	// from its first byte of output.
	if ctl, err = listenControl(e.containerDir(id), c.Config.Tty); err != nil {
		return fail(err)
	}
	defer ctl.close()
	stdio, err := newStdio(c, logger, ctl)
	if err != nil {
		return fail(err)
	}
	defer stdio.close()
	tell(message{Listening: true})
	var size *Size
	if o.waitAttach {
		size = ctl.waitFirst(firstAttachTimeout)
	}

	if stdio.consoleLn != nil {
		var rows, cols uint16
		if size != nil {
			rows, cols = size.Rows, size.Cols
		}
		if err := rootfs.SetConsole(&cfg, stdio.consoleLn.Addr().String(), rows, cols); err != nil {
			return fail(err)
		}
	}
	opts := stdio.options()
	var running state.State
	var dns io.Closer = io.NopCloser(nil)
	defer func() { dns.Close() }()
	opts.Created = func(pid int) error {
		unlockNets, err := e.attachingToNetworks(plan)
		if err != nil {
			return err
		}
		defer unlockNets()
		ep, err := plan.Attach(context.Background(), id, pid, netDir, names...)
		if err != nil {
			return err
		}
		// On a user network: the embedded DNS server, in the container's
		// namespace, served from here for as long as the container runs.
		if s, err := plan.ServeDNS(pid, func() []string { return e.bridgesOf(id) }); err != nil {
			return errors.Join(err, plan.Release(id))
		} else if s != nil {
			dns = s
		}
		if running, err = runningState(pid); err != nil {
			return err
		}
		return e.containers.Update(id, func(c *state.Container) error {
			count := c.State.RestartCount
			c.State = running // a start by a user clears the count and ManuallyStopped
			if o.restarted {
				c.State.RestartCount = count
			}
			if ep != nil {
				c.Config.IPAddress, c.Config.Gateway = ep.IP.String(), ep.Gateway.String()
				for i := range c.Config.Ports {
					if i < len(ep.Ports) {
						c.Config.Ports[i].HostPort = ep.Ports[i].HostPort
					}
				}
			}
			return nil
		})
	}
	ctr, err := limits.Start(cfg, opts, cgroups.Config{ID: id, Resources: spec.resources})
	stdio.started()
	if err != nil {
		started = true
		stdio.wait()
		return fail(errors.Join(err, plan.Release(id)))
	}
	e.containers.Update(id, func(c *state.Container) error {
		c.State.CgroupPaths = ctr.CgroupPaths()
		return nil
	})
	if err := spec.joined.checkJoined(); err != nil {
		ctr.Signal(syscall.SIGKILL)
		ctr.Wait()
		return fail(errors.Join(err, plan.Release(id)))
	}
	if err := stdio.console(); err != nil {
		ctr.Signal(syscall.SIGKILL)
		ctr.Wait()
		return fail(errors.Join(err, plan.Release(id)))
	}
	release() // recorded running: stop, kill and rm may come
	tell(message{Pid: running.Pid, PidStart: running.PidStart})
	// From here on the monitor only copies output and waits, for as long
	// as the container runs: give back the memory the set-up used.
	debug.FreeOSMemory()

	// The network's book is freed while the cgroups are destroyed; the veth
	// is deleted last, after the clients learnt the exit: deleting it waits
	// for the kernel (RCU grace periods, 15-25 ms), and nobody need wait
	// for that. (The container's lock is held until then: a start of the
	// same container, whose veth has the same name, waits for it.)
	var rerr error
	result, werr := ctr.WaitThen(func() {
		dns.Close()
		plan = e.currentPlan(id, plan) // networks connected or disconnected meanwhile
		rerr = plan.Forget(id)
	})
	ran := time.Since(running.StartedAt)
	stdio.wait() // the last output into the log before the exit is recorded
	ctl.endStreams()
	code := result.Status.ExitCode()
	// The exit is recorded (and a --rm container removed) under the
	// container's lock, which nobody holds while waiting for us: a start
	// or rm sees the container running or exited with all released, never
	// half-way.
	unlockExit, lerr := e.containers.Lock(id)
	if lerr != nil {
		ctl.exit(&code)
		return runResult{code: code, ran: ran, err: errors.Join(rerr, lerr, plan.Unplug(id))}
	}
	defer unlockExit()
	restart := false
	uerr := e.containers.Update(id, func(c *state.Container) error {
		c.State.Status, c.State.Running, c.State.Pid, c.State.PidStart = state.Exited, false, 0, 0
		c.State.Paused = false
		c.State.ExitCode, c.State.OOMKilled, c.State.FinishedAt = code, result.OOMKilled, time.Now().UTC()
		if werr != nil {
			c.State.Error = werr.Error()
		}
		// The policy decides under the lock that stop, kill and rm take
		// to say that they ended the container: never a restart after
		// those. Restarting, the monitor stays: its identity stays too.
		if restart = shouldRestart(c, code); restart {
			c.State.Status, c.State.Restarting = state.Restarting, true
			c.State.RestartCount++
		} else {
			c.State.MonitorPid, c.State.MonitorStart = 0, 0
		}
		return nil
	})
	if c.Config.AutoRemove {
		if c, err := e.containers.Get(id); err == nil {
			uerr = errors.Join(uerr, e.remove1(c, false)) // the veth: below
			// Its anonymous volumes go with it, as with docker run --rm.
			uerr = errors.Join(uerr, e.removeAnonymousVolumes(c))
		}
	}
	// Only now the waiting clients learn the exit: a --rm container is
	// gone by then, as docker run --rm promises.
	ctl.exit(&code)
	return runResult{code: code, ran: ran, again: restart && uerr == nil, err: errors.Join(rerr, uerr, plan.Unplug(id))}
}

// stdio is the container's stdin, stdout and stderr as the monitor wires
// them: pipes (or a pty with -t) whose output goes into the log and to the
// clients attached through the control socket, whose input goes to the
// container's stdin.
type stdio struct {
	c                     *state.Container
	logger                *jsonlog.Logger
	ctl                   *control
	stdin, stdout, stderr *os.File // the container's ends
	stdinW                *os.File // our end of its stdin pipe (-i without -t)
	ptmx                  *os.File // the pty master with -t
	consoleLn             *net.UnixListener
	consoleDir            string
	copies                sync.WaitGroup
	closeAfterStart       []*os.File
}

func newStdio(c *state.Container, logger *jsonlog.Logger, ctl *control) (*stdio, error) {
	s := &stdio{c: c, logger: logger, ctl: ctl}
	if c.Config.Tty {
		// The terminal is made inside the container (rootfs.SetConsole);
		// its master comes back on this socket once the init has it.
		dir, err := os.MkdirTemp("/run", "mdk-console-")
		if err != nil {
			return nil, err
		}
		s.consoleDir = dir
		s.consoleLn, err = net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "sock"), Net: "unix"})
		if err != nil {
			return nil, fmt.Errorf("console socket: %w", err)
		}
		return s, nil
	}
	for _, stream := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		s.closeAfterStart = append(s.closeAfterStart, w)
		out := ctl.writer(streamStdout)
		if stream == "stderr" {
			s.stderr, out = w, ctl.writer(streamStderr)
		} else {
			s.stdout = w
		}
		s.copy(r, stream, out)
	}
	if c.Config.OpenStdin {
		// A pipe, never a client's own stdin: that may be the user's
		// terminal, and a process holding a terminal can push keystrokes
		// into it (TIOCSTI) or change its settings. The attached clients'
		// input goes into the pipe; the end of a StdinOnce client's input
		// (docker run -i's) closes it: the container reads EOF.
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		s.stdin, s.stdinW = r, w
		s.closeAfterStart = append(s.closeAfterStart, r)
	}
	ctl.setStdin(s.stdinW, nil)
	return s, nil
}

// copy copies r into the log's stream and to out, the attached clients.
func (s *stdio) copy(r *os.File, stream string, out io.Writer) {
	s.copies.Add(1)
	go func() {
		defer s.copies.Done()
		defer r.Close()
		log := s.logger.Stream(stream)
		defer log.Close()
		io.Copy(io.MultiWriter(log, out), r) // a pty master ends with EIO when the last slave closes
	}()
}

func (s *stdio) options() namespaces.Options {
	opts := namespaces.Options{Stdin: s.stdin, Stdout: s.stdout, Stderr: s.stderr}
	if s.stdin == nil {
		opts.Stdin = nil
	}
	if s.consoleLn != nil {
		// The container's init leads a session of its own, whose
		// controlling terminal it makes the pty: Ctrl-C typed into it is
		// SIGINT in the container.
		opts.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	return opts
}

// console receives the pty master from the container's init (which sent it
// before exec, so it is waiting when Start has returned), and starts the
// copies between it and the log and the attached clients.
func (s *stdio) console() error {
	if s.consoleLn == nil {
		return nil
	}
	s.consoleLn.SetDeadline(time.Now().Add(10 * time.Second))
	ptmx, err := rootfs.ReceiveConsole(s.consoleLn)
	if err != nil {
		return err
	}
	s.ptmx = ptmx
	s.copy(ptmx, "stdout", s.ctl.writer(streamStdout))
	var in *os.File
	if s.c.Config.OpenStdin {
		in = ptmx
	}
	s.ctl.setStdin(in, ptmx)
	return nil
}

// started closes our copies of the container's ends: then the copies end
// when the container's processes are gone.
func (s *stdio) started() {
	for _, f := range s.closeAfterStart {
		f.Close()
	}
	s.closeAfterStart = nil
}

func (s *stdio) wait() { s.copies.Wait() }

func (s *stdio) close() {
	s.started()
	if s.stdinW != nil {
		s.stdinW.Close()
	}
	if s.ptmx != nil {
		s.ptmx.Close()
	}
	if s.consoleLn != nil {
		s.consoleLn.Close()
		os.RemoveAll(s.consoleDir)
	}
}

// initSpec is everything a start of c needs, built from its record in one
// place: the init's configuration (the image's layers and the container's
// own, the command, the network files and volumes, the namespaces, the
// confinement), its network plan, and its cgroup resources. Whatever
// starts a process in a container builds on it, so none can skip the
// confinement.
type initSpec struct {
	cfg       namespaces.Config
	plan      *connect.Plan
	netDir    string
	names     []string // the container's names in /etc/hosts
	resources cgroups.Resources
	joined    *joinedNet // --network container:, the other container's
}

func (e *Engine) initSpec(c *state.Container) (*initSpec, error) {
	img, err := e.images.Get(c.Config.ImageID)
	if err != nil {
		return nil, err
	}
	plan, err := e.plan(c)
	if err != nil {
		return nil, err
	}
	dir := e.containerDir(c.ID)
	s := &initSpec{plan: plan, netDir: filepath.Join(dir, "net"), names: []string{c.Config.Hostname, c.Name}}
	var netMounts []rootfs.Mount
	if ref, ok := joinedRef(c.Config.Network); ok {
		// Another container's network, and its files.
		if s.joined, err = e.joinNetwork(c, ref); err != nil {
			return nil, err
		}
		netMounts = s.joined.files
	} else if netMounts, err = plan.Files(s.netDir, s.names...); err != nil {
		return nil, err
	}
	var mounts []rootfs.Mount
	for _, m := range c.Config.Mounts {
		mounts = append(mounts, initMount(m))
	}
	all := append(netMounts, mounts...)
	// Parents first, as Docker orders mounts: -v data:/etc must not hide
	// the /etc/hosts mounted for the network.
	slices.SortStableFunc(all, func(a, b rootfs.Mount) int {
		return strings.Count(path.Clean(a.Destination), "/") - strings.Count(path.Clean(b.Destination), "/")
	})
	cfg, err := rootfs.Prepare(e.images.Layers(), e.images.Runnable(img), dir, image.Overrides{Args: []string{"true"}}, all)
	if err != nil {
		return nil, err
	}
	cfg.Args = append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...)
	cfg.Env, cfg.Dir, cfg.User = c.Config.Env, c.Config.WorkingDir, c.Config.User
	cfg.Hostname, cfg.Init, cfg.Namespaces = c.Config.Hostname, c.Config.Init, namespaces.Default
	plan.Namespaces(&cfg)
	if s.joined != nil {
		cfg.NetNS, cfg.Hostname = s.joined.netns, s.joined.hostname
	}
	if cfg.Privileges, err = e.privileges(c.Config.Privileged, c.Config.CapAdd, c.Config.CapDrop, c.Config.SecurityOpt); err != nil {
		return nil, err
	}
	// --privileged also lifts the masked and read-only paths (step 3) and
	// the device rules (step 4); --read-only makes the root read-only.
	err = rootfs.Configure(&cfg, func(r *rootfs.Config) {
		r.Privileged, r.ReadOnly = c.Config.Privileged, c.Config.ReadonlyRootfs
	})
	if err != nil {
		return nil, err
	}
	s.cfg = cfg
	s.resources = cgroups.Resources{Memory: c.Config.Memory, CPUQuota: c.Config.NanoCPUs / 1e4, PidsLimit: c.Config.PidsLimit,
		Devices: cgroups.Devices{AllowAll: c.Config.Privileged}}
	return s, nil
}
