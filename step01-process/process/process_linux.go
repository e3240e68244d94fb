package process

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
)

// ForwardedSignals are the signals a runtime passes on to its child instead
// of dying of them itself, as docker run's sig-proxy does.
var ForwardedSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP,
	syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2,
}

// Process is a started program. Call Wait to reap it.
type Process struct {
	cmd *exec.Cmd
	// waited is closed once a child started by startLocked has been
	// reaped, with waitErr as cmd.Wait returned it.
	waited  chan struct{}
	waitErr error
}

// Start looks spec.Args[0] up in the PATH of spec.Env and starts it with
// fork+exec. The child inherits nothing from the caller's environment.
func Start(spec Spec) (*Process, error) {
	if len(spec.Args) == 0 {
		return nil, errors.New("start: no command given")
	}
	path, err := LookPath(spec.Args[0], GetEnv(spec.Env, "PATH"))
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{
		Path: path,
		Args: spec.Args,
		// A nil Env would make os/exec pass on our own environment.
		Env:         append([]string{}, spec.Env...),
		Dir:         spec.Dir,
		Stdin:       spec.Stdin,
		Stdout:      spec.Stdout,
		Stderr:      spec.Stderr,
		ExtraFiles:  spec.ExtraFiles,
		SysProcAttr: spec.SysProcAttr,
	}
	if cmd.SysProcAttr != nil && cmd.SysProcAttr.Pdeathsig != 0 {
		return startLocked(cmd, spec.Args[0])
	}
	if err := cmd.Start(); err != nil {
		return nil, ExecError(spec.Args[0], err)
	}
	return &Process{cmd: cmd}, nil
}

// DieWithParent returns a copy of attr (which may be nil) that asks for
// the child to be sent SIGKILL when its parent dies: prctl(2)'s
// PR_SET_PDEATHSIG, set by the child between fork and exec. It survives the
// exec (of anything but a set-user-ID or file-capability program), so a
// runtime killed with kill -KILL, which can catch nothing, takes its child
// with it instead of leaving an orphan to init.
func DieWithParent(attr *syscall.SysProcAttr) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{}
	if attr != nil {
		*a = *attr
	}
	a.Pdeathsig = syscall.SIGKILL
	return a
}

// startLocked starts cmd, which has a parent-death signal, from a goroutine
// locked to its OS thread until the child has been reaped. The "parent" of
// PR_SET_PDEATHSIG is the thread that forked, not the process: the signal
// comes when that thread exits. Go ends a thread when a goroutine locked to
// it returns without unlocking (any library may do so after a setns), so
// an ordinary goroutine could fork from a thread that later dies under the
// child, which would be killed for nothing. A thread we keep locked serves
// no other goroutine and lives as long as we wait on it (Go issue 27505;
// moby's reexec does the same).
func startLocked(cmd *exec.Cmd, name string) (*Process, error) {
	p := &Process{cmd: cmd, waited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			runtime.UnlockOSThread()
			started <- err
			return
		}
		started <- nil
		p.waitErr = cmd.Wait()
		runtime.UnlockOSThread() // the child is gone: the thread may serve others
		close(p.waited)
	}()
	if err := <-started; err != nil {
		return nil, ExecError(name, err)
	}
	return p, nil
}

// Pid is the child's process ID as the host sees it.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the child.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait reaps the child (wait4) and decodes its wait status. The error is
// non-nil only when waiting itself failed, never for a non-zero exit.
func (p *Process) Wait() (ExitStatus, error) {
	var err error
	if p.waited != nil {
		<-p.waited
		err = p.waitErr
	} else {
		err = p.cmd.Wait()
	}
	if err != nil {
		if _, ok := errors.AsType[*exec.ExitError](err); !ok {
			return ExitStatus{}, fmt.Errorf("wait for pid %d: %w", p.Pid(), err)
		}
	}
	return Status(p.cmd.ProcessState.Sys().(syscall.WaitStatus)), nil
}

// Status decodes a wait status: WIFSIGNALED gives the signal, WIFEXITED the
// code.
func Status(ws syscall.WaitStatus) ExitStatus {
	// exercise:begin 01-exitcode Decode the wait status: ws.Signaled() and ws.Signal() for a death by signal, ws.ExitStatus() for an exit
	if ws.Signaled() {
		return ExitStatus{Signal: ws.Signal()}
	}
	return ExitStatus{Code: ws.ExitStatus()}
	// exercise:end
}

// Signals catches ForwardedSignals so that they are not fatal to us, and
// passes each one on to a target process.
type Signals struct {
	ch   chan os.Signal
	done chan struct{}
}

// CatchSignals starts catching ForwardedSignals. Call it before starting the
// child, so that a signal arriving in between is held, not lost, and call
// Stop when the child has been reaped.
func CatchSignals() *Signals {
	s := &Signals{ch: make(chan os.Signal, 16), done: make(chan struct{})}
	signal.Notify(s.ch, ForwardedSignals...)
	return s
}

// Forward sends every caught signal to the process pid until Stop. A signal
// for a child that already exited (ESRCH) is dropped.
func (s *Signals) Forward(pid int) {
	go func() {
		for {
			select {
			case sig := <-s.ch:
				// exercise:begin 01-signals keep=sig Pass the caught signal on to the child: kill(2) pid with sig (a syscall.Signal); ignore the error (ESRCH: the child already exited)
				_ = syscall.Kill(pid, sig.(syscall.Signal))
				// exercise:end
			case <-s.done:
				return
			}
		}
	}()
}

// Stop restores the default handling of the signals.
func (s *Signals) Stop() {
	signal.Stop(s.ch)
	close(s.done)
}

// Run starts spec, forwards the caller's signals to it and waits for it:
// the whole contract of docker run in the foreground. The child dies with
// us (DieWithParent): a foreground runtime that is killed leaves nothing
// running.
func Run(spec Spec) (ExitStatus, error) {
	sigs := CatchSignals()
	defer sigs.Stop()
	spec.SysProcAttr = DieWithParent(spec.SysProcAttr)
	p, err := Start(spec)
	if err != nil {
		return ExitStatus{}, err
	}
	sigs.Forward(p.Pid())
	return p.Wait()
}
