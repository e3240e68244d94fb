package namespaces

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/privileges"
)

// The init's inherited file descriptors (os/exec's ExtraFiles start at 3).
const (
	configFD = 3
	errorFD  = 4
)

// Init is the container side of the re-exec. Call it first thing in main
// (and in TestMain, before m.Run parses the test flags), with the stages of
// the later steps this binary includes. When os.Args[1] is not InitArg it
// returns at once and the program goes on as usual. Otherwise this process
// is a container's init: it sets the container up, executes the command and
// never returns.
func Init(stages ...Stage) {
	if len(os.Args) < 2 || os.Args[1] != InitArg {
		return
	}
	// Namespace and credential changes apply to one OS thread; keep the
	// set-up on the thread that execs.
	runtime.LockOSThread()
	errPipe := os.NewFile(errorFD, "init-errors")
	err := initContainer(stages, errPipe)
	// Only failures reach this point: a successful exec never returns.
	code := process.ExitCode(err)
	msg, _ := json.Marshal(initError{Message: err.Error(), Code: code})
	if _, werr := errPipe.Write(msg); werr != nil {
		// Closed already (StartFD: the parent was told we were ready).
		fmt.Fprintf(os.Stderr, "minidocker init: %v\n", err)
	}
	os.Exit(code)
}

// initContainer runs the set-up in order and execs the command.
func initContainer(stages []Stage, errPipe *os.File) error {
	var cfg Config
	configPipe := os.NewFile(configFD, "init-config")
	if err := json.NewDecoder(configPipe).Decode(&cfg); err != nil {
		return fmt.Errorf("init: read config: %w", err)
	}
	configPipe.Close()
	// A successful execve closes the error pipe; the parent reads EOF.
	unix.CloseOnExec(errorFD)
	// Any other descriptor we inherited (the caller's shell may have had
	// "7</secret" open, and a Go program passes such a descriptor on) must
	// not reach the command: mark them all close-on-exec.
	if err := process.CloseExecFrom(errorFD + 1); err != nil {
		return fmt.Errorf("init: close stray descriptors: %w", err)
	}

	if err := setup(&cfg, stages); err != nil {
		return err
	}
	if err := limitResources(&cfg); err != nil {
		return err
	}
	priv := cfg.Privileges
	if priv == nil {
		var err error
		if priv, err = privileges.Resolve(privileges.Options{}); err != nil {
			return fmt.Errorf("init: %w", err)
		}
	}
	// Capabilities, no_new_privs and seccomp: the last step before the
	// command, around the user switch (see privileges.Config.BeforeUser).
	if err := priv.BeforeUser(); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if err := switchUser(&cfg); err != nil {
		return err
	}
	if cfg.Dir != "" {
		if err := os.Chdir(cfg.Dir); err != nil {
			return fmt.Errorf("init: chdir to working directory: %w", err)
		}
	}
	if err := priv.AfterUser(); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if cfg.IDs != nil && cfg.IDs.Umask != nil {
		unix.Umask(int(*cfg.IDs.Umask))
	}
	if cfg.StartFD != 0 {
		if err := waitStart(&cfg, errPipe); err != nil {
			return err
		}
	}
	if cfg.Init {
		return runPID1(&cfg, errPipe)
	}
	return execCommand(&cfg)
}

// setup is step 2's part of the init: make mounts private, set the
// hostname, bring lo up, run the later steps' stages, and mount a /proc that
// shows this PID namespace.
func setup(cfg *Config, stages []Stage) error {
	if cfg.Has(Net) && cfg.NetNS != "" {
		if err := joinNetNS(cfg.NetNS); err != nil {
			return err
		}
	}
	for _, ns := range []Namespace{UTS, IPC} {
		if path, ok := cfg.JoinPaths[ns]; ok && cfg.Has(ns) {
			if err := joinNS(path, ns); err != nil {
				return err
			}
		}
	}
	if cfg.Has(Cgroup) {
		// Not a clone flag (see CloneFlags): by now the parent has placed
		// us in the container's cgroups, so they become this namespace's
		// "/". Before any mount: a cgroup filesystem mounted inside shows
		// the tree from that root down.
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("init: unshare cgroup namespace: %w", err)
		}
	}
	if cfg.Has(Mnt) {
		// Without this, on a host where / is a shared mount (systemd makes it
		// so), every mount below would propagate back to the host.
		// exercise:begin 02-mounts Make / and every mount below it private (mount(2) with MS_PRIVATE|MS_REC, no source, no type) before mounting anything; wrap a failure with "init: "
		if err := Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		// exercise:end
	}
	if cfg.Has(UTS) && cfg.Hostname != "" {
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return fmt.Errorf("init: sethostname %q: %w", cfg.Hostname, err)
		}
	}
	if cfg.Has(Net) && cfg.NetNS == "" {
		if err := loopbackUp(); err != nil {
			return err
		}
	}
	procDone := false
	for _, st := range stages {
		raw, ok := cfg.Stages[st.Name]
		if !ok {
			continue
		}
		if err := st.Run(cfg, raw); err != nil {
			return fmt.Errorf("init: %s: %w", st.Name, err)
		}
		procDone = procDone || st.MountsProc
	}
	if cfg.Has(Mnt) && cfg.Has(PID) && !procDone {
		return MountProc("/proc")
	}
	return nil
}

// joinNetNS enters the network namespace at path (another container's:
// /proc/PID/ns/net), whose interfaces, addresses, routes and ports are then
// ours too, lo up already. A network namespace belongs to a thread: Init
// locked this one, which does the rest of the set-up and the execve, after
// which the command's only thread is in it. A sysfs mounted later (step 3)
// shows this namespace's devices.
func joinNetNS(path string) error { return joinNS(path, Net) }

// MountProc mounts a fresh procfs at target. procfs shows the PID namespace
// of the process that mounts it, so the host's /proc (still mounted after
// clone) would go on listing the host's processes: ps reads /proc.
func MountProc(target string) error {
	// exercise:begin 02-mounts Mount a fresh procfs (source and type "proc") at target, with MS_NOSUID|MS_NODEV|MS_NOEXEC; use Mount for a readable error
	return Mount("proc", target, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	// exercise:end
}

// loopbackUp sets IFF_UP on lo: a new network namespace has only a loopback
// device, and it is down.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("init: lo up: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("init: lo up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("init: lo up: SIOCGIFFLAGS: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("init: lo up: SIOCSIFFLAGS: %w", err)
	}
	return nil
}

// execCommand replaces the init with the command: from here on the
// command is PID 1 of the container.
func execCommand(cfg *Config) error {
	path, err := process.LookPath(cfg.Args[0], process.GetEnv(cfg.Env, "PATH"))
	if err != nil {
		return err
	}
	err = unix.Exec(path, cfg.Args, cfg.Env)
	return process.ExecError(cfg.Args[0], err)
}

// switchUser resolves cfg.User in the container's own /etc/passwd and
// /etc/group and becomes that user: setgroups, then setgid, then setuid
// (after setuid we could no longer change groups). It also sets HOME, as
// Docker does, when the environment has none.
func switchUser(cfg *Config) error {
	passwd, _ := os.Open("/etc/passwd")
	group, _ := os.Open("/etc/group")
	defer passwd.Close()
	defer group.Close()
	name := cfg.User
	if cfg.IDs != nil {
		name = strconv.FormatUint(uint64(cfg.IDs.UID), 10) // for HOME
	}
	u, err := ResolveUser(name, orNil(passwd), orNil(group))
	if err != nil {
		return fmt.Errorf("init: user %q: %w", name, err)
	}
	if process.GetEnv(cfg.Env, "HOME") == "" {
		cfg.Env = process.SetEnv(cfg.Env, "HOME", u.Home)
	}
	if cfg.User == "" && cfg.IDs == nil {
		return nil // stay root, keep our groups as they are
	}
	additional := u.AdditionalGIDs
	if cfg.IDs != nil {
		u.UID, u.GID, additional = cfg.IDs.UID, cfg.IDs.GID, cfg.IDs.AdditionalGIDs
	}
	gids := make([]int, 0, len(additional))
	for _, g := range additional {
		gids = append(gids, int(g))
	}
	if err := unix.Setgroups(gids); err != nil {
		return fmt.Errorf("init: setgroups %v: %w", gids, err)
	}
	if err := unix.Setgid(int(u.GID)); err != nil {
		return fmt.Errorf("init: setgid %d: %w", u.GID, err)
	}
	if err := unix.Setuid(int(u.UID)); err != nil {
		return fmt.Errorf("init: setuid %d: %w", u.UID, err)
	}
	return nil
}

// orNil avoids handing ResolveUser a typed nil *os.File as a reader.
func orNil(f *os.File) io.Reader {
	if f == nil {
		return nil
	}
	return f
}
