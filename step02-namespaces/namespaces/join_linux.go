package namespaces

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"minidocker/step01-process/process"
)

// Join runs cfg.Args inside the running container cfg.Init, with its
// namespaces and confinement, and waits for it; fds 0-2 are the command's
// stdio, and the signals we get go to it. started, if set, is called once
// the command has been executed. Errors before that are *InitError, with
// the exit code docker exec gives them (126, 127).
//
// The caller is a process of its own, already in the container's cgroups:
// the command inherits them (final's exec helper; its parent placed it).
// This is step 2's clone in reverse: instead of new namespaces for a new
// process, the namespaces of a process that exists, joined with setns(2).
// A Go program has many threads, and the namespaces that setns changes
// belong to the calling thread, so everything happens on one locked OS
// thread, which is never handed back to the Go scheduler:
//
//	unshare(CLONE_FS)                 setns into a mount namespace needs a
//	                                  thread that shares its root and cwd with none
//	setns(pidfd, NEWNS|NEWUTS|...)    all the container's namespaces at once,
//	                                  through a pidfd of its init
//	open("/etc/passwd")               the container's own: this thread's root is its root now
//	prctl(PR_SET_DUMPABLE, 0)         no process of the container may open our /proc/<pid>/exe
//	no_new_privs, seccomp, caps       the container's, as its init applied them (privileges)
//	clone(CLONE_VFORK) + execve       the command: a child, since setns(pid) only
//	                                  changes where our children go
//
// We stay outside the container's PID namespace, as its parent: our own
// binary never runs where the container's processes could see it (runc's
// CVE-2019-5736). The command runs as cfg.User from the child (setgroups,
// setgid, setuid just before execve).
func Join(cfg JoinConfig, started func()) (process.ExitStatus, error) {
	var o JoinOptions
	if started != nil {
		o.Started = func(int) { started() }
	}
	return JoinWith(cfg, o)
}

// JoinWith is Join with the options an OCI runtime's exec needs.
func JoinWith(cfg JoinConfig, o JoinOptions) (process.ExitStatus, error) {
	if len(cfg.Args) == 0 {
		return process.ExitStatus{}, &InitError{Message: "exec: no command", Code: process.ExitToolFailed}
	}
	if slices.Contains(cfg.Namespaces, UserNS) {
		return process.ExitStatus{}, &InitError{Message: errJoinUserNS.Error(), Code: process.ExitToolFailed}
	}
	type result struct {
		status process.ExitStatus
		err    error
	}
	done := make(chan result, 1)
	go func() {
		// Never unlocked: the thread is the container's from here on, and
		// dies with this goroutine.
		runtime.LockOSThread()
		status, err := join(cfg, o)
		done <- result{status, err}
	}()
	r := <-done
	return r.status, r.err
}

func join(cfg JoinConfig, o JoinOptions) (process.ExitStatus, error) {
	fail := func(code int, format string, args ...any) (process.ExitStatus, error) {
		return process.ExitStatus{}, &InitError{Message: fmt.Sprintf(format, args...), Code: code}
	}
	h, err := cfg.Init.Open()
	if errors.Is(err, process.ErrGone) {
		return fail(process.ExitToolFailed, "container not running: its init %v is gone", cfg.Init)
	}
	if err != nil {
		return fail(process.ExitToolFailed, "exec: %v", err)
	}
	defer h.Close()
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fail(process.ExitToolFailed, "exec: unshare CLONE_FS: %v", err)
	}
	var flags int
	for _, ns := range cfg.Namespaces {
		flags |= int(ns.CloneFlag())
	}
	if err := unix.Setns(h.Fd(), flags); err != nil {
		return fail(process.ExitToolFailed, "exec: setns %v: %v", cfg.Namespaces, err)
	}
	// The container's own user database and PATH, read through this
	// thread's root, which is the container's now.
	env := append([]string{}, cfg.Env...)
	passwd, _ := os.Open("/etc/passwd")
	group, _ := os.Open("/etc/group")
	u, err := ResolveUser(cfg.User, orNil(passwd), orNil(group))
	passwd.Close()
	group.Close()
	if err != nil {
		return fail(process.ExitToolFailed, "exec: user %q: %v", cfg.User, err)
	}
	if process.GetEnv(env, "HOME") == "" {
		env = process.SetEnv(env, "HOME", u.Home)
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "/"
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fail(process.ExitCannotInvoke, "exec: chdir to cwd (%q) set in config.json failed: no such file or directory", dir)
	}
	path, err := process.LookPath(cfg.Args[0], process.GetEnv(env, "PATH"))
	if err != nil {
		return fail(process.ExitCode(err), "%v", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fail(process.ExitToolFailed, "exec: prctl PR_SET_DUMPABLE: %v", err)
	}
	files := []uintptr{0, 1, 2}
	if o.Console != nil {
		tty, err := o.Console()
		if err != nil {
			return fail(process.ExitToolFailed, "exec: %v", err)
		}
		defer tty.Close()
		files = []uintptr{tty.Fd(), tty.Fd(), tty.Fd()}
		cfg.Tty = true
	}
	if err := limitResources(&Config{Rlimits: cfg.Rlimits}); err != nil {
		return fail(process.ExitToolFailed, "exec: %v", err)
	}
	// The user switch, in runc's order: capabilities kept across it
	// (BeforeUser), then cut to the final sets (AfterUser), so that a
	// process left without CAP_SETUID can still be made a user. The raw
	// system calls change this thread's credentials only (Go's
	// syscall.Setuid would change every thread's); the command is forked
	// from this thread and inherits them.
	switchTo := (*IDs)(nil)
	if cfg.IDs != nil {
		switchTo = cfg.IDs
	} else if cfg.User != "" {
		switchTo = &IDs{UID: u.UID, GID: u.GID, AdditionalGIDs: u.AdditionalGIDs}
	}
	if cfg.Privileges != nil {
		if err := cfg.Privileges.BeforeUser(); err != nil {
			return fail(process.ExitToolFailed, "exec: %v", err)
		}
	}
	if switchTo != nil {
		if err := setThreadCredentials(switchTo); err != nil {
			return fail(process.ExitToolFailed, "exec: %v", err)
		}
	}
	if cfg.Privileges != nil {
		if err := cfg.Privileges.AfterUser(); err != nil {
			return fail(process.ExitToolFailed, "exec: %v", err)
		}
	}
	sys := &syscall.SysProcAttr{Setsid: true, Setctty: cfg.Tty}
	if cfg.IDs != nil && cfg.IDs.Umask != nil {
		syscall.Umask(int(*cfg.IDs.Umask)) // this thread's, passed on to the child
	}
	sigs := process.CatchSignals()
	defer sigs.Stop()
	pid, err := syscall.ForkExec(path, cfg.Args, &syscall.ProcAttr{
		Dir: dir, Env: env, Files: files, Sys: sys,
	})
	if err != nil {
		err = process.ExecError(cfg.Args[0], err)
		return fail(process.ExitCode(err), "%v", err)
	}
	sigs.Forward(pid)
	if o.Started != nil {
		o.Started(pid)
	}
	if cfg.Detach {
		return process.ExitStatus{}, nil
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if !errors.Is(err, syscall.EINTR) {
			if err != nil {
				return process.ExitStatus{}, fmt.Errorf("exec: wait: %w", err)
			}
			break
		}
	}
	return process.Status(ws), nil
}

// setThreadCredentials makes the calling thread ids's user, group and
// supplementary groups: setgroups, setresgid, setresuid, in that order
// (after setuid there is no right left to change groups).
func setThreadCredentials(ids *IDs) error {
	groups := make([]uint32, len(ids.AdditionalGIDs))
	copy(groups, ids.AdditionalGIDs)
	var ptr unsafe.Pointer
	if len(groups) > 0 {
		ptr = unsafe.Pointer(&groups[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(ptr), 0); e != 0 {
		return fmt.Errorf("setgroups %v: %w", groups, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(ids.GID), uintptr(ids.GID), uintptr(ids.GID)); e != 0 {
		return fmt.Errorf("setresgid %d: %w", ids.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(ids.UID), uintptr(ids.UID), uintptr(ids.UID)); e != 0 {
		return fmt.Errorf("setresuid %d: %w", ids.UID, e)
	}
	return nil
}
