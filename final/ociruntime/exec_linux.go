package ociruntime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/creack/pty"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minidocker/final/engine"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/rootfs"
)

// ExecArg, as this binary's first argument, makes it the runtime's exec
// helper (ExecMain): the process that joins the container.
const ExecArg = "__minidocker_runtime_exec"

// ExecOptions are exec's arguments: the process to start (a process.json,
// the spec's process object), and how.
type ExecOptions struct {
	ID      string
	Process *specs.Process
	// Detach: return once the process runs; the engine's shim (a child
	// subreaper) adopts it and waits for it.
	Detach        bool
	PidFile       string
	ConsoleSocket string
}

// helperConfig is what the exec helper reads on fd 3.
type helperConfig struct {
	Join          namespaces.JoinConfig `json:"join"`
	ConsoleSocket string                `json:"consoleSocket,omitempty"`
	Rows          uint16                `json:"rows,omitempty"`
	Cols          uint16                `json:"cols,omitempty"`
}

// helperStatus is what it writes on fd 4: the PID once the process runs,
// or why it could not start.
type helperStatus struct {
	Pid     int    `json:"pid,omitempty"`
	Message string `json:"message,omitempty"`
	Code    int    `json:"code,omitempty"`
}

// Exec starts o.Process in the running container o.ID: the same Join as
// docker exec (step 2), in the container's cgroups, with the process's
// own capabilities and no_new_privs and the container's seccomp filter.
// Without Detach it waits and returns the process's exit status.
func (r *Runtime) Exec(o ExecOptions) (process.ExitStatus, error) {
	rec, err := r.load(o.ID)
	if err != nil {
		return process.ExitStatus{}, err
	}
	if s := r.status(rec); s != Running && s != Created {
		return process.ExitStatus{}, fmt.Errorf("cannot exec in a %s container", s)
	}
	p := o.Process
	switch {
	case p == nil || len(p.Args) == 0:
		return process.ExitStatus{}, errors.New("exec: process.args: no command given")
	case p.Terminal && o.ConsoleSocket == "" && o.Detach:
		return process.ExitStatus{}, errors.New("exec: process.terminal with --detach: a terminal needs --console-socket")
	case o.ConsoleSocket != "" && (!o.Detach || !p.Terminal):
		// As runc: whoever holds the terminal's master is the caller.
		return process.ExitStatus{}, errors.New("exec: --console-socket needs --detach and a terminal (--tty)")
	}
	// A terminal in the foreground: ours to hold, as runc exec -t does.
	var tty *foregroundTTY
	attached := false
	if p.Terminal && o.ConsoleSocket == "" {
		var err error
		if tty, o.ConsoleSocket, err = newForegroundTTY(); err != nil {
			return process.ExitStatus{}, err
		}
		defer func() { tty.close(attached) }()
	}
	var init namespaces.Config
	if err := convertProcess(p, &init); err != nil {
		return process.ExitStatus{}, fmt.Errorf("exec: %w", err)
	}
	init.Privileges.Seccomp = rec.Seccomp
	cwd := p.Cwd
	hc := helperConfig{Join: namespaces.JoinConfig{
		Init: rec.Init, Namespaces: rec.Namespaces, Args: init.Args, Env: init.Env, Dir: cwd,
		Privileges: init.Privileges, IDs: init.IDs, Rlimits: init.Rlimits, Detach: o.Detach,
	}}
	if p.Terminal {
		hc.ConsoleSocket = o.ConsoleSocket
		if cs := p.ConsoleSize; cs != nil {
			hc.Rows, hc.Cols = uint16(cs.Height), uint16(cs.Width)
		} else if tty != nil {
			// Our own terminal's size, set before the command runs: once
			// it runs, it may ask for it first thing.
			if ws, err := pty.GetsizeFull(os.Stdin); err == nil {
				hc.Rows, hc.Cols = ws.Rows, ws.Cols
			}
		}
	}
	cg, err := r.cgroups(rec)
	if err != nil {
		return process.ExitStatus{}, err
	}

	cmd := exec.Command("/proc/self/exe", ExecArg)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	var sigs *process.Signals
	if !o.Detach {
		sigs = process.CatchSignals()
		defer sigs.Stop()
	}
	// docker exec's way in: the same helper launch, in the same cgroups.
	data, err := engine.StartJoinHelper(cmd, hc, cg)
	if err != nil {
		return process.ExitStatus{}, err
	}
	fail := func(err error) (process.ExitStatus, error) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return process.ExitStatus{}, err
	}
	var st helperStatus
	if len(data) > 0 {
		err = json.Unmarshal(data, &st)
	}
	switch {
	case err != nil:
		return fail(fmt.Errorf("exec: the helper's status: %w", err))
	case st.Pid == 0:
		_ = cmd.Wait()
		msg := st.Message
		if msg == "" {
			msg = "the helper exited before the process started"
		}
		return process.ExitStatus{}, &namespaces.InitError{Message: "exec: " + msg, Code: max(st.Code, 1)}
	}
	if o.PidFile != "" {
		if err := writePidFile(o.PidFile, st.Pid); err != nil {
			return fail(err)
		}
	}
	if o.Detach {
		_ = cmd.Wait() // the helper exits once the process runs
		return process.ExitStatus{}, nil
	}
	if tty != nil {
		if err := tty.attach(); err != nil {
			return fail(err)
		}
		attached = true
	}
	sigs.Forward(cmd.Process.Pid) // the helper passes them on
	err = cmd.Wait()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return process.Status(ee.Sys().(syscall.WaitStatus)), nil
	}
	return process.ExitStatus{}, err
}

// ExecMain is the exec helper: this binary run with ExecArg by Exec,
// already in the container's cgroups. It connects to the console socket
// first (a path on the host, unreachable once inside), then joins the
// container and starts the process there (namespaces.JoinWith), with a
// terminal made from the container's own /dev/ptmx if asked.
func ExecMain() int {
	configR, statusW := os.NewFile(3, "config"), os.NewFile(4, "status")
	report := func(st helperStatus) {
		_ = json.NewEncoder(statusW).Encode(st)
		statusW.Close()
	}
	var hc helperConfig
	if err := json.NewDecoder(configR).Decode(&hc); err != nil {
		report(helperStatus{Message: "read the config: " + err.Error(), Code: process.ExitToolFailed})
		return process.ExitToolFailed
	}
	configR.Close()
	o := namespaces.JoinOptions{Started: func(pid int) { report(helperStatus{Pid: pid}) }}
	if hc.ConsoleSocket != "" {
		conn, err := rootfs.DialConsole(hc.ConsoleSocket)
		if err != nil {
			report(helperStatus{Message: err.Error(), Code: process.ExitToolFailed})
			return process.ExitToolFailed
		}
		o.Console = func() (*os.File, error) { return rootfs.SendConsole(conn, hc.Rows, hc.Cols) }
	}
	status, err := namespaces.JoinWith(hc.Join, o)
	if err != nil {
		ie, ok := errors.AsType[*namespaces.InitError](err)
		if !ok {
			ie = &namespaces.InitError{Message: err.Error(), Code: process.ExitToolFailed}
		}
		report(helperStatus{Message: ie.Message, Code: ie.Code})
		return ie.Code
	}
	return status.ExitCode()
}

// LoadProcess reads a process.json (exec --process).
func LoadProcess(path string) (*specs.Process, error) {
	data, err := os.ReadFile(filepath.Clean(path))
	if err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	var p specs.Process
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("exec: %s: %w", path, err)
	}
	return &p, nil
}
