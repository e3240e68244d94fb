package process

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
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
	if err := cmd.Start(); err != nil {
		return nil, ExecError(spec.Args[0], err)
	}
	return &Process{cmd: cmd}, nil
}

// Pid is the child's process ID as the host sees it.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the child.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait reaps the child (wait4) and decodes its wait status. The error is
// non-nil only when waiting itself failed, never for a non-zero exit.
func (p *Process) Wait() (ExitStatus, error) {
	err := p.cmd.Wait()
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
// the whole contract of docker run in the foreground.
func Run(spec Spec) (ExitStatus, error) {
	sigs := CatchSignals()
	defer sigs.Stop()
	p, err := Start(spec)
	if err != nil {
		return ExitStatus{}, err
	}
	sigs.Forward(p.Pid())
	return p.Wait()
}
