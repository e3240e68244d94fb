package namespaces

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"minidocker/step01-process/process"
)

// CloneFlag is the clone(2) flag that creates namespace ns.
func (ns Namespace) CloneFlag() uintptr {
	if ns == UserNS {
		return unix.CLONE_NEWUSER // an OCI bundle's only (userns_linux.go)
	}
	// exercise:begin 02-clone Return the clone(2) flag of each namespace: unix.CLONE_NEWUTS, CLONE_NEWPID, CLONE_NEWNS (mount), CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWCGROUP; 0 for anything else
	switch ns {
	case UTS:
		return unix.CLONE_NEWUTS
	case PID:
		return unix.CLONE_NEWPID
	case Mnt:
		return unix.CLONE_NEWNS
	case IPC:
		return unix.CLONE_NEWIPC
	case Net:
		return unix.CLONE_NEWNET
	case Cgroup:
		return unix.CLONE_NEWCGROUP
	}
	return 0
	// exercise:end
}

// CloneFlags ORs the flags of every namespace in c that clone creates:
// all but the cgroup namespace. A cgroup namespace takes the cgroups its
// creator is in at that moment as its root ("/"), and on cgroup v1 the init
// is only moved into the container's cgroups after clone (Options.Created):
// created by clone, the namespace's root would be the host's cgroup, and
// the container's own would show as /minidocker/<id>. The init unshares it
// itself once it has read its config, which is after Created (see setup).
// A namespace to join (NetNS, JoinPaths) is not created either: the init
// joins it (see setup).
func (c *Config) CloneFlags() uintptr {
	var flags uintptr
	for _, ns := range c.Namespaces {
		if _, join := c.JoinPaths[ns]; ns != Cgroup && (ns != Net || c.NetNS == "") && !join {
			flags |= ns.CloneFlag()
		}
	}
	return flags
}

// Container is a container's init process on the host side.
type Container struct {
	proc *process.Process
}

// Pid is the init's PID as the host sees it (inside, it is 1).
func (c *Container) Pid() int { return c.proc.Pid() }

// Signal sends sig to the init (PID 1 inside).
func (c *Container) Signal(sig os.Signal) error { return c.proc.Signal(sig) }

// Wait waits for the container's PID 1 to exit and returns its status.
func (c *Container) Wait() (process.ExitStatus, error) { return c.proc.Wait() }

// Start re-executes this binary (/proc/self/exe InitArg) in new namespaces,
// sends it cfg over a pipe, and returns once the command has been executed
// (or has failed to start: then the error is an *InitError and the init has
// been reaped).
//
// The sequence, with the init's side in Init:
//
//  1. pipe() twice: config (parent -> init, fd 3) and errors (init -> parent, fd 4)
//  2. clone(CLONE_NEW...) + execve("/proc/self/exe", [argv0, InitArg])
//  3. opts.Created(pid) — the init is waiting for its config
//  4. write the JSON config, close the pipe
//  5. read the error pipe until EOF: EOF with nothing means the init's
//     execve of the command succeeded (fd 4 is close-on-exec in the init)
func Start(cfg Config, opts Options) (*Container, error) {
	if len(cfg.Args) == 0 {
		return nil, errors.New("start container: no command given")
	}
	configR, configW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start container: config pipe: %w", err)
	}
	defer configW.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		configR.Close()
		return nil, fmt.Errorf("start container: error pipe: %w", err)
	}
	defer errR.Close()

	attr := &syscall.SysProcAttr{}
	if opts.SysProcAttr != nil {
		*attr = *opts.SysProcAttr
	}
	attr.Cloneflags |= cfg.CloneFlags()
	cfg.mapIDs(attr)
	spec := process.Spec{
		Args:        []string{"/proc/self/exe", InitArg},
		Stdin:       opts.Stdin,
		Stdout:      opts.Stdout,
		Stderr:      opts.Stderr,
		ExtraFiles:  append([]*os.File{configR, errW}, opts.ExtraFiles...), // fd 3 and fd 4 in the init, then opts
		SysProcAttr: attr,
	}
	var proc *process.Process
	if path, ok := cfg.JoinPaths[PID]; ok && cfg.Has(PID) {
		proc, err = startInPIDNamespace(path, spec)
	} else {
		proc, err = process.Start(spec)
	}
	configR.Close()
	errW.Close()
	if err != nil {
		return nil, fmt.Errorf("start container: clone %s: %w", cfg.Namespaces, err)
	}
	c := &Container{proc: proc}
	fail := func(err error) (*Container, error) {
		_ = proc.Signal(syscall.SIGKILL)
		_, _ = proc.Wait()
		return nil, err
	}
	if opts.Created != nil {
		if err := opts.Created(proc.Pid()); err != nil {
			return fail(err)
		}
	}
	if err := json.NewEncoder(configW).Encode(cfg); err != nil {
		return fail(fmt.Errorf("start container: send config: %w", err))
	}
	configW.Close()

	msg, err := io.ReadAll(errR)
	if err != nil {
		return fail(fmt.Errorf("start container: read init status: %w", err))
	}
	if len(msg) > 0 {
		var ie initError
		if err := json.Unmarshal(msg, &ie); err != nil {
			return fail(fmt.Errorf("start container: init said %q", msg))
		}
		_, _ = proc.Wait()
		return nil, &InitError{Message: ie.Message, Code: ie.Code}
	}
	return c, nil
}

// Run starts cfg, forwards our signals to the container's PID 1 and waits:
// step 1's Run, in new namespaces. Like step 1's, the container's init is
// SIGKILLed by the kernel if we die (process.DieWithParent): killing the
// runtime kills the container, whose PID 1 takes every process of its PID
// namespace with it.
func Run(cfg Config, opts Options) (process.ExitStatus, error) {
	return RunContext(context.Background(), cfg, opts)
}

// RunContext is Run with a bound: when ctx ends first, the container's PID
// 1 is SIGKILLed (from the parent namespace nothing can stop that) and,
// once it has been reaped, the error is ctx's. Tests give each container
// a deadline this way, so that a bug fails them instead of hanging them.
func RunContext(ctx context.Context, cfg Config, opts Options) (process.ExitStatus, error) {
	sigs := process.CatchSignals()
	defer sigs.Stop()
	opts.SysProcAttr = process.DieWithParent(opts.SysProcAttr)
	c, err := Start(cfg, opts)
	if err != nil {
		return process.ExitStatus{}, err
	}
	sigs.Forward(c.Pid())
	stop := context.AfterFunc(ctx, func() { _ = c.Signal(syscall.SIGKILL) })
	status, err := c.Wait()
	if !stop() && ctx.Err() != nil {
		return status, fmt.Errorf("container (host PID %d): %w", c.Pid(), context.Cause(ctx))
	}
	return status, err
}
