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
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

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

// message is what the monitor tells the CLI on the ready pipe, one JSON
// line each: first that the container runs (Pid, PidStart; Already when it
// ran before this start) or why it could not start (Error, Code; NotFound);
// later its exit code (Exited).
type message struct {
	Pid      int    `json:",omitempty"`
	PidStart uint64 `json:",omitempty"`
	Already  bool   `json:",omitempty"`
	Error    string `json:",omitempty"`
	Code     int    `json:",omitempty"`
	NotFound bool   `json:",omitempty"`
	// Kind is the error's kind (errdefs.KindOf), so that it crosses the
	// pipe: a start refused because an rm -f is removing the container is
	// a Conflict.
	Kind   errdefs.Kind `json:",omitempty"`
	Exited *int         `json:",omitempty"`
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
	cmd            *exec.Cmd
	ready          *bufio.Reader
	pipe           *os.File
}

// Start starts the container ref (a name, an ID or a unique prefix of one)
// through a new monitor. With attach the monitor copies between the
// container and our stdin, stdout and stderr (which it inherits), and the
// caller waits (Started.Wait); otherwise its stdio is /dev/null, the output
// only goes to the log, and the monitor goes on alone. Start returns once
// the container runs, or with a *StartError (Docker's exit code: 125, 126,
// 127). A detached start of a container that runs already does nothing and
// returns an ErrNotModified error; an attached one fails with 125.
func (e *Engine) Start(ref string, attach bool) (*Started, error) {
	c, err := e.container(ref)
	if err != nil {
		return nil, err
	}
	if !attach && alive(c) {
		return nil, errdefs.NotModified(fmt.Errorf("container %s is already running", c.ID))
	}
	s, err := e.start(c.ID, attach)
	if err != nil {
		return nil, containerErr(ref, err)
	}
	if !attach {
		s.detach()
		if s.AlreadyRunning {
			// The monitor found it running, under the lock.
			return nil, errdefs.NotModified(fmt.Errorf("container %s is already running", c.ID))
		}
	}
	return s, nil
}

func (e *Engine) start(id string, attach bool) (*Started, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer w.Close()
	cmd := exec.Command(exe, MonitorArg, e.Root, id)
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{w}
	// A session of its own: no terminal's SIGHUP or Ctrl-C reaches it, and
	// it outlives us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if attach {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	w.Close()
	s := &Started{cmd: cmd, ready: bufio.NewReader(r), pipe: r}
	m, err := s.next()
	if err != nil {
		cmd.Wait()
		r.Close()
		return nil, fmt.Errorf("start container %s: the monitor exited (%v): %w", id, cmd.ProcessState, err)
	}
	if m.Error != "" {
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
		if attach {
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
	s.cmd.Process.Release()
}

// Signal sends sig to the init of the container this Start started, if it
// still runs (docker run's signal proxy), through a pidfd on its identity.
func (s *Started) Signal(sig syscall.Signal) error { return s.Init.Signal(sig) }

// Resize tells the monitor of a -t container that the terminal it
// inherited changed size: it resizes the container's pty to match. The
// monitor is our child, not yet waited for, so its PID is still its own.
func (s *Started) Resize() error { return s.cmd.Process.Signal(syscall.SIGWINCH) }

// Wait waits for the container to exit and returns its exit code, which
// the monitor sends before it removes a --rm container.
func (s *Started) Wait() (int, error) {
	defer s.pipe.Close()
	m, err := s.next()
	werr := s.cmd.Wait()
	if err != nil || m.Exited == nil {
		return 0, fmt.Errorf("the container's monitor died (%v) before it reported the exit", werr)
	}
	return *m.Exited, nil
}

// Monitor is the monitor process of container id (see the package
// comment): it runs the container to the end and returns the monitor's
// exit code.
func Monitor(root, id string) int {
	// A write to a CLI that went away must fail with EPIPE, not kill us.
	// (Notify, not Ignore: an ignored signal stays ignored across exec,
	// and the container would inherit it.)
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
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
	code, err := e.monitor(id, tell)
	if err != nil {
		fmt.Fprintf(os.Stderr, "minidocker monitor %s: %v\n", id, err)
		return 1
	}
	_ = code
	return 0
}

func (e *Engine) monitor(id string, tell func(message)) (int, error) {
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
	locked := true
	release := func() {
		if locked {
			locked = false
			unlock()
		}
	}
	defer release()
	started := false
	fail := func(err error) (int, error) {
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
			c.State.FinishedAt = time.Now().UTC()
			return nil
		})
		tell(message{Error: err.Error(), Code: code})
		if c.Config.AutoRemove {
			e.removeLocked(c) // we hold the lock: never started, nothing to kill
		}
		release()
		return code, uerr
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
	stdio, err := newStdio(c, logger)
	if err != nil {
		return fail(err)
	}
	defer stdio.close()

	if stdio.consoleLn != nil {
		if err := rootfs.SetConsole(&cfg, stdio.consoleLn.Addr().String()); err != nil {
			return fail(err)
		}
	}
	opts := stdio.options()
	var running state.State
	opts.Created = func(pid int) error {
		ep, err := plan.Attach(context.Background(), id, pid, netDir, names...)
		if err != nil {
			return err
		}
		if running, err = runningState(pid); err != nil {
			return err
		}
		return e.containers.Update(id, func(c *state.Container) error {
			c.State = running
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

	stdio.resizeOnSignal()
	// The network goes while the cgroups are destroyed: deleting a veth
	// pair waits for the kernel (RCU grace periods), and so does rmdir of a
	// v1 memory cgroup.
	var rerr error
	result, werr := ctr.WaitThen(func() { rerr = plan.Release(id) })
	stdio.wait() // the last output into the log before the exit is recorded
	code := result.Status.ExitCode()
	// The exit is recorded (and a --rm container removed) under the
	// container's lock, which nobody holds while waiting for us: a start
	// or rm sees the container running or exited with all released, never
	// half-way.
	unlockExit, lerr := e.containers.Lock(id)
	if lerr != nil {
		tell(message{Exited: &code})
		return code, errors.Join(rerr, lerr)
	}
	defer unlockExit()
	uerr := e.containers.Update(id, func(c *state.Container) error {
		c.State.Status, c.State.Running, c.State.Pid, c.State.PidStart = state.Exited, false, 0, 0
		c.State.MonitorPid, c.State.MonitorStart = 0, 0
		c.State.ExitCode, c.State.OOMKilled, c.State.FinishedAt = code, result.OOMKilled, time.Now().UTC()
		if werr != nil {
			c.State.Error = werr.Error()
		}
		return nil
	})
	tell(message{Exited: &code})
	if c.Config.AutoRemove {
		if c, err := e.containers.Get(id); err == nil {
			return code, e.removeLocked(c)
		}
	}
	return code, errors.Join(rerr, uerr)
}

// stdio is the container's stdin, stdout and stderr as the monitor wires
// them: pipes (or a pty with -t) whose output goes into the log, and to
// our own stdout/stderr, the CLI's, when it attached.
type stdio struct {
	c                      *state.Container
	logger                 *jsonlog.Logger
	stdin, stdout, stderr  *os.File // the container's ends
	ptmx                   *os.File // the pty master with -t
	consoleLn              *net.UnixListener
	consoleDir             string
	copies                 sync.WaitGroup
	closeAfterStart        []*os.File
	attachedOut, attachedE io.Writer
}

func newStdio(c *state.Container, logger *jsonlog.Logger) (*stdio, error) {
	s := &stdio{c: c, logger: logger}
	// Our stdout is the CLI's terminal when it attached, /dev/null when not.
	if !isDevNull(os.Stdout) {
		s.attachedOut, s.attachedE = os.Stdout, os.Stderr
	}
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
		out := s.attachedOut
		if stream == "stderr" {
			s.stderr, out = w, s.attachedE
		} else {
			s.stdout = w
		}
		s.copy(r, stream, out)
	}
	if c.Config.OpenStdin {
		// A pipe, never the CLI's own stdin: that may be the user's
		// terminal, and a process holding a terminal can push keystrokes
		// into it (TIOCSTI) or change its settings. We copy into the pipe,
		// and close it at the end of our stdin: the container reads EOF.
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		s.stdin = r
		s.closeAfterStart = append(s.closeAfterStart, r)
		go func() {
			io.Copy(w, os.Stdin)
			w.Close()
		}()
	}
	return s, nil
}

// copy copies r into the log's stream and to out (which may be nil or go
// away without stopping the copy).
func (s *stdio) copy(r *os.File, stream string, out io.Writer) {
	s.copies.Add(1)
	go func() {
		defer s.copies.Done()
		defer r.Close()
		log := s.logger.Stream(stream)
		defer log.Close()
		var w io.Writer = log
		if out != nil {
			w = &tee{log: log, out: out}
		}
		io.Copy(w, r) // a pty master ends with EIO when the last slave closes
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
// copies between it and the log and the CLI's terminal.
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
	if term.IsTerminal(int(os.Stdin.Fd())) {
		if size, err := pty.GetsizeFull(os.Stdin); err == nil {
			pty.Setsize(ptmx, size)
		}
	}
	s.copy(ptmx, "stdout", s.attachedOut)
	if s.c.Config.OpenStdin {
		go func() { io.Copy(ptmx, os.Stdin) }()
	}
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

// resizeOnSignal follows the CLI's terminal size: the CLI sends us SIGWINCH
// when its window changes.
func (s *stdio) resizeOnSignal() {
	if s.ptmx == nil || !term.IsTerminal(int(os.Stdin.Fd())) {
		return
	}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	go func() {
		for range ch {
			if size, err := pty.GetsizeFull(os.Stdin); err == nil {
				pty.Setsize(s.ptmx, size)
			}
		}
	}()
}

func (s *stdio) wait() { s.copies.Wait() }

func (s *stdio) close() {
	s.started()
	if s.ptmx != nil {
		s.ptmx.Close()
	}
	if s.consoleLn != nil {
		s.consoleLn.Close()
		os.RemoveAll(s.consoleDir)
	}
}

// tee writes to the log and to out; once out fails (the CLI went away) it
// only writes to the log.
type tee struct {
	log, out io.Writer
	outDead  bool
}

func (t *tee) Write(p []byte) (int, error) {
	if !t.outDead {
		if _, err := t.out.Write(p); err != nil {
			t.outDead = true
		}
	}
	return t.log.Write(p)
}

func isDevNull(f *os.File) bool {
	var a, b syscall.Stat_t
	if syscall.Fstat(int(f.Fd()), &a) != nil || syscall.Stat("/dev/null", &b) != nil {
		return true
	}
	return a.Rdev == b.Rdev && a.Mode&syscall.S_IFMT == syscall.S_IFCHR
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
	netMounts, err := plan.Files(s.netDir, s.names...)
	if err != nil {
		return nil, err
	}
	var mounts []rootfs.Mount
	for _, m := range c.Config.Mounts {
		mounts = append(mounts, rootfs.Mount{Source: m.Source, Destination: m.Destination, ReadOnly: !m.RW})
	}
	cfg, err := rootfs.Prepare(e.images.Layers(), e.images.Runnable(img), dir, image.Overrides{Args: []string{"true"}}, append(netMounts, mounts...))
	if err != nil {
		return nil, err
	}
	cfg.Args = append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...)
	cfg.Env, cfg.Dir, cfg.User = c.Config.Env, c.Config.WorkingDir, c.Config.User
	cfg.Hostname, cfg.Init, cfg.Namespaces = c.Config.Hostname, c.Config.Init, namespaces.Default
	plan.Namespaces(&cfg)
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
