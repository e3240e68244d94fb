package engine

// docker exec: a second process in a running container. See
// namespaces.Join (step 2) for the joining itself; this file starts the
// helper process that joins, places it in the container's cgroups first,
// and wires its stdio.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"

	"minidocker/final/errdefs"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step04-cgroups/cgroups"
)

// ExecArg, as this binary's first argument, makes it an exec helper: it
// reads a namespaces.JoinConfig on fd 3 and reports a failure to start
// on fd 4 (see ExecMain).
const ExecArg = "__minidocker_exec"

// ExecOptions are docker exec's options.
type ExecOptions struct {
	Args      []string // COMMAND [ARG...]
	Env       []string // -e KEY=VALUE, over the container's environment
	User, Dir string   // -u, -w: "" for the container's own
	Tty       bool     // -t: a pty of its own
	Size      *Size    // the pty's size with -t
	// Stdin (-i), Stdout and Stderr are the command's streams; nil is
	// /dev/null. With Tty, everything comes on Stdout. An *os.File is
	// handed to the command as it is; anything else is copied.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Exec is docker exec: opts.Args run in the running container ref, in its
// namespaces and cgroups, with its capabilities, no_new_privs and seccomp
// filter, as its user unless opts.User says otherwise. A container that
// does not run is a Conflict: "container <ID> is not running".
func (e *Engine) Exec(ref string, o ExecOptions) (Session, error) {
	if len(o.Args) == 0 {
		return nil, errdefs.InvalidParameter(errors.New("no command specified"))
	}
	c, err := e.container(ref)
	if err != nil {
		return nil, err
	}
	if c, err = e.refresh(c); err != nil {
		return nil, containerErr(ref, err)
	}
	if c.State.Restarting {
		return nil, restartingErr(c.ID)
	}
	if !alive(c) {
		return nil, errdefs.Conflict(fmt.Errorf("container %s is not running", c.ID))
	}
	if c.State.Paused {
		return nil, errdefs.Conflict(fmt.Errorf("container %s is paused, unpause the container before exec", c.ID))
	}
	env, err := process.ParseEnv(o.Env, os.LookupEnv)
	if err != nil {
		return nil, errdefs.InvalidParameter(err)
	}
	cfg := namespaces.JoinConfig{
		Init: c.State.Init(), Args: o.Args, Env: append([]string{}, c.Config.Env...),
		Dir: c.Config.WorkingDir, User: c.Config.User, Tty: o.Tty,
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		cfg.Env = process.SetEnv(cfg.Env, k, v)
	}
	if o.Dir != "" {
		cfg.Dir = o.Dir
	}
	if o.User != "" {
		cfg.User = o.User
	}
	plan, err := e.plan(c)
	if err != nil {
		return nil, err
	}
	ns := namespaces.Config{Namespaces: namespaces.Default}
	plan.Namespaces(&ns)
	cfg.Namespaces = ns.Namespaces
	if cfg.Privileges, err = e.privileges(c.Config.Privileged, c.Config.CapAdd, c.Config.CapDrop, c.Config.SecurityOpt); err != nil {
		return nil, err
	}
	cg, err := cgroups.Load(cgroups.Config{ID: c.ID, Paths: c.State.CgroupPaths})
	if err != nil {
		return nil, fmt.Errorf("exec: cgroups of %s: %w", c.ShortID(), err)
	}
	return startExec(cfg, cg, o)
}

// execSession is a running exec: its helper process, and with -t the pty.
type execSession struct {
	cmd    *exec.Cmd
	ptmx   *os.File
	copies sync.WaitGroup
}

func startExec(cfg namespaces.JoinConfig, cg cgroups.Manager, o ExecOptions) (_ *execSession, err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	s := &execSession{cmd: exec.Command(exe, ExecArg)}
	s.cmd.Dir = "/"
	// A stdin we copy (a daemon's connection) may stay open after the
	// command exited: Wait gives the copies this long, then stops waiting.
	s.cmd.WaitDelay = time.Second
	var slave *os.File
	if o.Tty {
		if s.ptmx, slave, err = pty.Open(); err != nil {
			return nil, fmt.Errorf("exec: open a pty: %w", err)
		}
		defer slave.Close()
		if o.Size != nil {
			pty.Setsize(s.ptmx, &pty.Winsize{Rows: o.Size.Rows, Cols: o.Size.Cols})
		}
		s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = slave, slave, slave
	} else {
		s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	}
	msg, err := StartJoinHelper(s.cmd, cfg, cg)
	if err != nil {
		if s.ptmx != nil {
			s.ptmx.Close()
		}
		return nil, err
	}
	defer func() {
		if err != nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
			if s.ptmx != nil {
				s.ptmx.Close()
			}
		}
	}()
	if len(msg) > 0 {
		var ie namespaces.InitError
		if json.Unmarshal(msg, &ie) != nil || ie.Code == 0 {
			ie = namespaces.InitError{Message: string(msg), Code: process.ExitToolFailed}
		}
		return nil, &StartError{Msg: ie.Message, Code: ie.Code}
	}
	if s.ptmx != nil {
		if o.Stdin != nil {
			go io.Copy(s.ptmx, o.Stdin) // ends with our input, or when the pty closes
		}
		out := o.Stdout
		if out == nil {
			out = io.Discard
		}
		s.copies.Add(1)
		go func() {
			defer s.copies.Done()
			io.Copy(out, s.ptmx) // EIO once the last holder of the slave is gone
		}()
	}
	return s, nil
}

// StartJoinHelper starts cmd, a helper that joins a running container
// (this binary with ExecArg, or the OCI runtime's own): cfg goes to it as
// JSON on fd 3, once it sits in the container's cgroups cg (its command,
// forked later, inherits them: the container's limits hold for it too),
// and what it writes on fd 4 until it closes it is returned: nothing when
// the command was executed, or why not. The caller sets cmd's stdio; the
// helper gets a session of its own (a Ctrl-C at our terminal is ours to
// pass on). On an error the helper has been killed and waited for.
func StartJoinHelper(cmd *exec.Cmd, cfg any, cg cgroups.Manager) ([]byte, error) {
	configR, configW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer configW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		configR.Close()
		return nil, err
	}
	defer statusR.Close()
	cmd.ExtraFiles = []*os.File{configR, statusW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	configR.Close()
	statusW.Close()
	if err != nil {
		return nil, fmt.Errorf("exec: start the helper: %w", err)
	}
	fail := func(err error) ([]byte, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, err
	}
	if err := cg.Apply(cmd.Process.Pid); err != nil {
		return fail(fmt.Errorf("exec: join the container's cgroups: %w", err))
	}
	if err := json.NewEncoder(configW).Encode(cfg); err != nil {
		return fail(fmt.Errorf("exec: send the config: %w", err))
	}
	configW.Close()
	msg, err := io.ReadAll(statusR)
	if err != nil {
		return fail(fmt.Errorf("exec: read the helper's status: %w", err))
	}
	return msg, nil
}

// Wait waits for the command and returns its exit code.
func (s *execSession) Wait() (int, error) {
	err := s.cmd.Wait()
	s.copies.Wait()
	if s.ptmx != nil {
		s.ptmx.Close()
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode(), nil
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		return s.cmd.ProcessState.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// Resize sets the pty's size (exec -t).
func (s *execSession) Resize(sz Size) error {
	if s.ptmx == nil {
		return nil
	}
	return pty.Setsize(s.ptmx, &pty.Winsize{Rows: sz.Rows, Cols: sz.Cols})
}

// Signal sends sig to the helper, which passes it to the command.
func (s *execSession) Signal(sig syscall.Signal) error { return s.cmd.Process.Signal(sig) }

// ExecMain is the exec helper (this binary with ExecArg): it joins the
// container and runs the command, with the config read from fd 3; a
// failure before the command runs goes to fd 4 as JSON, for Exec to
// report. Its exit code is the command's.
func ExecMain() int {
	configR, errW := os.NewFile(3, "config"), os.NewFile(4, "status")
	var cfg namespaces.JoinConfig
	if err := json.NewDecoder(configR).Decode(&cfg); err != nil {
		json.NewEncoder(errW).Encode(namespaces.InitError{Message: "exec: read the config: " + err.Error(), Code: process.ExitToolFailed})
		return process.ExitToolFailed
	}
	configR.Close()
	status, err := namespaces.Join(cfg, func() { errW.Close() })
	if err != nil {
		ie, ok := errors.AsType[*namespaces.InitError](err)
		if !ok {
			ie = &namespaces.InitError{Message: err.Error(), Code: process.ExitToolFailed}
		}
		json.NewEncoder(errW).Encode(ie)
		return ie.Code
	}
	return status.ExitCode()
}
