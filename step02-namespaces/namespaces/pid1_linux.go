package namespaces

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"minidocker/step01-process/process"
)

// runPID1 is our minimal init (docker run --init, tini): it stays PID 1,
// starts the command as PID 2, and then does the two jobs the kernel gives
// every PID 1:
//
//   - signals: PID 1 gets only the signals it has a handler for (the
//     kernel protects init from kill), so a plain program as PID 1 ignores
//     SIGTERM. We catch them and pass them on to the command.
//   - orphans: a process whose parent dies is re-parented to PID 1, and
//     stays a zombie until PID 1 waits for it. We wait4(-1) for every child.
//
// When the command exits, so do we, with its status; the kernel then kills
// whatever else is left in the PID namespace.
func runPID1(cfg *Config, errPipe *os.File) error {
	sigs := process.CatchSignals()
	p, err := process.Start(process.Spec{
		Args: cfg.Args, Env: cfg.Env,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
	})
	if err != nil {
		return err
	}
	errPipe.Close() // the command runs: tell the parent
	sigs.Forward(p.Pid())

	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil { // ECHILD: nothing left to wait for
			os.Exit(process.ExitToolFailed)
		}
		if pid == p.Pid() {
			os.Exit(process.Status(syscall.WaitStatus(ws)).ExitCode())
		}
		// Any other pid was an orphan: reaping it is the whole point.
	}
}
