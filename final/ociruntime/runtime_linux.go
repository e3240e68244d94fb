package ociruntime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"minidocker/internal/atomicfile"
	"minidocker/internal/flock"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/rootfs"
	"minidocker/step04-cgroups/cgroups"
	"minidocker/step04-cgroups/limits"
)

// CreateOptions are create's (and run's) arguments.
type CreateOptions struct {
	ID     string
	Bundle string // "" is the current directory
	// PidFile, if set, receives the init's PID (as the host sees it).
	PidFile string
	// ConsoleSocket is where to send the pty's master when the spec's
	// process.terminal is true.
	ConsoleSocket string
}

// lock takes the container's lock: one command at a time changes it.
func (r *Runtime) lock(id string) (func(), error) {
	unlock, err := flock.Lock(filepath.Join(r.dir(id), lockFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotExist
	}
	return unlock, err
}

// Create sets the container up and leaves its init waiting for Start.
func (r *Runtime) Create(o CreateOptions) error {
	_, err := r.create(o, nil, false)
	return err
}

// create is Create; it returns the init for run, which waits for it.
// spec, when not nil, is the bundle's config already read (run reads it
// first, to see whether it asks for a terminal).
func (r *Runtime) create(o CreateOptions, spec *specs.Spec, foreground bool) (ctr *limits.Container, err error) {
	if err := CheckID(o.ID); err != nil {
		return nil, err
	}
	bundle, err := filepath.Abs(bundleDir(o.Bundle))
	if err != nil {
		return nil, err
	}
	if spec == nil {
		if spec, err = LoadSpec(bundle); err != nil {
			return nil, err
		}
	}
	plan, err := Convert(spec, bundle, o.ID)
	if err != nil {
		return nil, err
	}
	var console *os.File
	switch {
	case spec.Process.Terminal && o.ConsoleSocket == "":
		return nil, errors.New("process.terminal is true: a terminal needs --console-socket to send it to")
	case !spec.Process.Terminal && o.ConsoleSocket != "":
		return nil, errors.New("--console-socket given, but process.terminal is false")
	case spec.Process.Terminal:
		// Dialed here, as host root, and passed to the init, as runc
		// does: in a user namespace the init may not reach the path.
		conn, err := rootfs.DialConsole(o.ConsoleSocket)
		if err != nil {
			return nil, err
		}
		console, err = conn.File()
		conn.Close()
		if err != nil {
			return nil, fmt.Errorf("console socket: %w", err)
		}
		defer console.Close()
		plan.Rootfs.ConsoleSocket, plan.Rootfs.ConsoleFD = o.ConsoleSocket, consoleFD
		if cs := spec.Process.ConsoleSize; cs != nil {
			plan.Rootfs.ConsoleRows, plan.Rootfs.ConsoleCols = uint16(cs.Height), uint16(cs.Width)
		}
		raw, err := json.Marshal(plan.Rootfs)
		if err != nil {
			return nil, err
		}
		plan.Init.Stages["rootfs"] = raw
	}

	// The state directory: mkdir is the test that the ID is free.
	if err := os.MkdirAll(r.Root, 0o711); err != nil {
		return nil, fmt.Errorf("state root: %w", err)
	}
	dir := r.dir(o.ID)
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("container with id %s exists already", o.ID)
		}
		return nil, fmt.Errorf("state directory: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	unlock, err := r.lock(o.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()

	// The FIFO that holds the init between create and start. The init
	// gets an O_PATH descriptor of it: after pivot_root this path is out of
	// its reach.
	fifoPath := filepath.Join(dir, fifoFile)
	if err := unix.Mkfifo(fifoPath, 0o622); err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: fifoPath, Err: err}
	}
	// 0622 whatever the umask, and owned by the container's root: in a
	// user namespace that is not host root, and the init must open it.
	uid, gid := plan.RootIDs()
	if err := os.Chmod(fifoPath, 0o622); err != nil {
		return nil, err
	}
	if err := os.Chown(fifoPath, uid, gid); err != nil {
		return nil, err
	}
	fifo, err := os.OpenFile(fifoPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer fifo.Close()
	plan.Init.StartFD = startFD

	rec := &record{ID: o.ID, Bundle: bundle, Rootfs: plan.Rootfs.Root, Created: time.Now().UTC(),
		Owner: owner(), Annotations: spec.Annotations, CgroupPath: plan.Cgroups.Path,
		Namespaces: plan.Namespaces, Hooks: spec.Hooks, Resources: plan.Cgroups.Resources}
	rec.Resources.Devices = cgroups.Devices{}
	if plan.Init.Privileges != nil {
		rec.Seccomp = plan.Init.Privileges.Seccomp
	}
	opts := namespaces.Options{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		ExtraFiles: []*os.File{fifo}, // startFD
		// A session of its own, as runc's init: the engine's signals to
		// our process group are not the container's.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
		// The namespaces exist, the init waits for its config: the
		// engine's createRuntime hooks (and the old prestart ones) run
		// now, with the init's PID in the state they read on stdin.
		Created: func(pid int) error {
			if spec.Hooks == nil {
				return nil
			}
			st := &specs.State{Version: specs.Version, ID: o.ID, Status: Creating, Pid: pid, Bundle: bundle,
				Annotations: spec.Annotations}
			for _, set := range []struct {
				name  string
				hooks []specs.Hook
			}{{"prestart", spec.Hooks.Prestart}, {"createRuntime", spec.Hooks.CreateRuntime}} {
				if err := runHooks(set.name, set.hooks, st); err != nil {
					return err
				}
			}
			return nil
		},
	}
	if console != nil {
		opts.ExtraFiles = append(opts.ExtraFiles, console) // consoleFD
	}
	if foreground {
		opts.SysProcAttr = process.DieWithParent(opts.SysProcAttr)
	}
	ctr, err = limits.Start(plan.Init, opts, plan.Cgroups)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = ctr.Signal(syscall.SIGKILL)
			_, _ = ctr.Wait()
		}
	}()
	if rec.Init, err = process.Identify(ctr.Pid()); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	rec.CgroupPaths = ctr.CgroupPaths()
	if err := r.save(rec); err != nil {
		return nil, err
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, ctr.Pid()); err != nil {
			return nil, err
		}
	}
	return ctr, nil
}

// owner is who created the container, as runc reports it.
func owner() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}

// writePidFile writes pid the way the engines read it: whole or not at all.
func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteVolatile(abs, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

// Start lets a created container's init execute its command: it opens the
// FIFO for reading, which releases the init's open for writing, and reads
// the byte the init writes. The init may have died meanwhile: then the
// pidfd is readable first, and the FIFO never will be.
func (r *Runtime) Start(id string) error {
	unlock, err := r.lock(id)
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := r.load(id)
	if err != nil {
		return err
	}
	switch s := r.status(rec); s {
	case Stopped:
		return errors.New("cannot start a container that has stopped")
	case Running, Paused:
		return fmt.Errorf("cannot start an already %s container", s)
	}
	fifoPath := filepath.Join(r.dir(id), fifoFile)
	if err := releaseInit(fifoPath, rec.Init); err != nil {
		return err
	}
	if err := os.Remove(fifoPath); err != nil {
		return fmt.Errorf("start: %w", err)
	}
	if rec.Hooks != nil && len(rec.Hooks.Poststart) > 0 {
		st := r.state(rec)
		// The spec: a failing poststart hook is logged; the container runs on.
		if err := runHooks("poststart", rec.Hooks.Poststart, &st.State); err != nil {
			Warn(err)
		}
	}
	return nil
}

func releaseInit(fifoPath string, init process.Identity) error {
	h, err := init.Open()
	if err != nil {
		return errors.New("cannot start a container that has stopped")
	}
	defer h.Close()
	fd, err := unix.Open(fifoPath, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: fifoPath, Err: err}
	}
	defer unix.Close(fd)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(h.Fd()), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("start: poll: %w", err)
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			var b [1]byte
			if n, err := unix.Read(fd, b[:]); n == 1 || err == nil {
				return nil
			}
		}
		if fds[1].Revents&unix.POLLIN != 0 {
			return errors.New("cannot start a container whose init has exited")
		}
		if fds[0].Revents&unix.POLLHUP != 0 {
			// The writer came and went without a byte: nothing to start.
			return errors.New("start: the init closed the FIFO without writing")
		}
	}
}

// Kill sends sig to the container's init, or with all to every process
// in its cgroups.
func (r *Runtime) Kill(id string, sig syscall.Signal, all bool) error {
	rec, err := r.load(id)
	if err != nil {
		return err
	}
	if all {
		cg, err := r.cgroups(rec)
		if err != nil {
			return err
		}
		pids, err := cg.Procs()
		if err != nil {
			return err
		}
		for _, pid := range pids {
			if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("kill %d: %w", pid, err)
			}
		}
		if sig == syscall.SIGKILL && frozen(rec) {
			return cg.Thaw() // a frozen process never sees its SIGKILL
		}
		return nil
	}
	if r.status(rec) == Stopped {
		return errors.New("container not running")
	}
	if err := rec.Init.Signal(sig); err != nil {
		if errors.Is(err, process.ErrGone) {
			return errors.New("container not running")
		}
		return err
	}
	return nil
}

// Delete removes a container: its cgroups, its state, and the poststop
// hooks run. A created container is killed first; a running one only
// with force.
func (r *Runtime) Delete(id string, force bool) error {
	unlock, err := r.lock(id)
	if errors.Is(err, ErrNotExist) && force {
		return nil
	}
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := r.load(id)
	if errors.Is(err, ErrNotExist) {
		// A directory without state: a create that died half-way.
		os.RemoveAll(r.dir(id))
		if force {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	switch s := r.status(rec); {
	case s == Stopped:
	case s == Created || force:
		if h, err := rec.Init.Open(); err == nil {
			_ = h.Signal(syscall.SIGKILL)
			h.Wait(10 * time.Second)
			h.Close()
		}
	default:
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", id, s)
	}
	return r.destroy(rec)
}

// destroy removes what create made, once the init is gone.
func (r *Runtime) destroy(rec *record) error {
	var errs []error
	cg, err := r.cgroups(rec)
	if err == nil {
		err = cg.Destroy() // kills whatever the init left behind
	}
	if err != nil {
		errs = append(errs, err)
	}
	if rec.Hooks != nil && len(rec.Hooks.Poststop) > 0 {
		st := r.state(rec)
		st.Status = Stopped
		if err := runHooks("poststop", rec.Hooks.Poststop, &st.State); err != nil {
			Warn(err) // the spec: logged, and the deletion goes on
		}
	}
	if err := os.RemoveAll(r.dir(rec.ID)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (r *Runtime) cgroups(rec *record) (cgroups.Manager, error) {
	return cgroups.Load(cgroups.Config{ID: rec.ID, Path: rec.CgroupPath, Paths: rec.CgroupPaths})
}

// frozen reports whether the container's cgroup is frozen (paused).
func frozen(rec *record) bool {
	if dir, ok := rec.CgroupPaths["freezer"]; ok {
		data, err := os.ReadFile(filepath.Join(dir, "freezer.state"))
		return err == nil && string(bytes.TrimSpace(data)) == "FROZEN"
	}
	for _, dir := range rec.CgroupPaths { // v2: every controller in one directory
		data, err := os.ReadFile(filepath.Join(dir, "cgroup.freeze"))
		return err == nil && string(bytes.TrimSpace(data)) == "1"
	}
	return false
}

// Pause freezes every process of the container (runc pause).
func (r *Runtime) Pause(id string) error {
	rec, err := r.load(id)
	if err != nil {
		return err
	}
	if s := r.status(rec); s != Running {
		return fmt.Errorf("cannot pause a container that is %s", s)
	}
	cg, err := r.cgroups(rec)
	if err != nil {
		return err
	}
	return cg.Freeze()
}

// Resume thaws a paused container (runc resume).
func (r *Runtime) Resume(id string) error {
	rec, err := r.load(id)
	if err != nil {
		return err
	}
	if s := r.status(rec); s != Paused {
		return fmt.Errorf("cannot resume a container that is %s", s)
	}
	cg, err := r.cgroups(rec)
	if err != nil {
		return err
	}
	return cg.Thaw()
}

// Ps lists the PIDs of the container's processes (as the host sees them).
func (r *Runtime) Ps(id string) ([]int, error) {
	rec, err := r.load(id)
	if err != nil {
		return nil, err
	}
	cg, err := r.cgroups(rec)
	if err != nil {
		return nil, err
	}
	return cg.Procs()
}

// Run is create, start and, unless detach, a wait for the container's
// exit, whose status it returns; then the container is deleted (unless
// keep). In the foreground we are the init's parent, and our signals
// go to it.
func (r *Runtime) Run(o CreateOptions, detach, keep bool) (process.ExitStatus, error) {
	var sigs *process.Signals
	if !detach {
		sigs = process.CatchSignals()
		defer sigs.Stop()
	}
	spec, err := LoadSpec(bundleDir(o.Bundle))
	if err != nil {
		return process.ExitStatus{}, err
	}
	// A terminal and nobody to hand it to: ours, as runc run does.
	var tty *foregroundTTY
	if !detach && o.ConsoleSocket == "" && spec.Process != nil && spec.Process.Terminal {
		if tty, o.ConsoleSocket, err = newForegroundTTY(); err != nil {
			return process.ExitStatus{}, err
		}
	}
	attached := false
	if tty != nil {
		defer func() { tty.close(attached) }()
	}
	ctr, err := r.create(o, spec, !detach)
	if err != nil {
		return process.ExitStatus{}, err
	}
	if tty != nil {
		if err := tty.attach(); err != nil {
			_ = r.Delete(o.ID, true)
			return process.ExitStatus{}, err
		}
		attached = true
	}
	if err := r.Start(o.ID); err != nil {
		_ = r.Delete(o.ID, true)
		return process.ExitStatus{}, err
	}
	if detach {
		return process.ExitStatus{}, nil
	}
	sigs.Forward(ctr.Pid())
	status, err := ctr.Container.Wait()
	if keep {
		return status, err
	}
	return status, errors.Join(err, r.Delete(o.ID, true))
}

// runHooks runs hooks in order, each with the state on its stdin, as the
// spec says: a hook that fails or outlives its timeout is an error.
func runHooks(name string, hooks []specs.Hook, st *specs.State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	for i, h := range hooks {
		ctx := context.Background()
		if h.Timeout != nil {
			if *h.Timeout <= 0 {
				return fmt.Errorf("hooks.%s[%d]: timeout %d is not positive", name, i, *h.Timeout)
			}
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
			defer cancel()
		}
		cmd := exec.CommandContext(ctx, h.Path)
		if len(h.Args) > 0 {
			cmd.Args = h.Args
		}
		cmd.Env = h.Env
		cmd.Stdin = bytes.NewReader(data)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("timed out after %ds", *h.Timeout)
			}
			return fmt.Errorf("hooks.%s[%d] %s: %w: %s", name, i, h.Path, err, bytes.TrimSpace(out.Bytes()))
		}
	}
	return nil
}

// bundleDir is --bundle, the current directory when not given.
func bundleDir(b string) string {
	if b == "" {
		return "."
	}
	return b
}
