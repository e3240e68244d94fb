package namespaces

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"minidocker/step01-process/process"
)

// What an OCI runtime's bundle asks of the init beyond what docker run
// does (final/ociruntime): namespaces joined by path, rlimits, an OOM
// score, and the wait between create and start.

// joinNS enters the namespace of kind ns at path, on this (locked) thread.
func joinNS(path string, ns Namespace) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("init: join %s namespace: %w", ns, err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), int(ns.CloneFlag())); err != nil {
		return fmt.Errorf("init: setns %s %s: %w", path, ns, err)
	}
	return nil
}

// limitResources sets cfg's rlimits and OOM score, while the init still
// has every capability: raising a hard limit needs CAP_SYS_RESOURCE, and
// so does lowering oom_score_adj.
func limitResources(cfg *Config) error {
	for _, r := range cfg.Rlimits {
		n, ok := RlimitNumber(r.Type)
		if !ok {
			return fmt.Errorf("init: unknown rlimit %q", r.Type)
		}
		if err := unix.Setrlimit(n, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}); err != nil {
			return fmt.Errorf("init: setrlimit %s soft %d hard %d: %w", r.Type, r.Soft, r.Hard, err)
		}
	}
	if cfg.OOMScoreAdj != nil {
		// Written only when it changes: the same value needs no privilege.
		old, err := os.ReadFile("/proc/self/oom_score_adj")
		want := strconv.Itoa(*cfg.OOMScoreAdj)
		if err != nil || strings.TrimSpace(string(old)) != want {
			if err := os.WriteFile("/proc/self/oom_score_adj", []byte(want), 0); err != nil {
				return fmt.Errorf("init: oom_score_adj %s: %w", want, err)
			}
		}
	}
	return nil
}

// rlimits are the resources of setrlimit(2), by the names the OCI runtime
// spec uses.
var rlimits = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE, "RLIMIT_NICE": unix.RLIMIT_NICE,
	"RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC, "RLIMIT_RSS": unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

// RlimitNumber is the resource number of an rlimit's name (RLIMIT_NOFILE).
func RlimitNumber(name string) (int, bool) {
	n, ok := rlimits[name]
	return n, ok
}

// waitStart is the "created" state of an OCI runtime's container: the set-up
// is done, the command found, and the init waits for "start". It tells the
// parent it is ready by closing the error pipe (which Start reads to EOF),
// then opens the FIFO for writing: open(2) of a FIFO blocks until someone
// opens it for reading, which "start" does. The FIFO's path is in the
// runtime's state directory, out of reach since pivot_root, so the init
// holds an O_PATH descriptor of it and reopens that through /proc/self/fd.
// A failure after this point has no pipe to go to: it goes to stderr.
func waitStart(cfg *Config, errPipe *os.File) error {
	if _, err := process.LookPath(cfg.Args[0], process.GetEnv(cfg.Env, "PATH")); err != nil {
		return err
	}
	errPipe.Close()
	fifo, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(cfg.StartFD), os.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("init: open the start FIFO: %w", err)
	}
	_, err = fifo.Write([]byte{0})
	fifo.Close()
	unix.Close(cfg.StartFD)
	if err != nil {
		return fmt.Errorf("init: write the start FIFO: %w", err)
	}
	return nil
}

// startInPIDNamespace starts the init inside the PID namespace at path
// instead of a new one. setns(2) of a PID namespace changes only where the
// caller's future children go, and only for the calling thread: so the
// clone happens on a locked thread that entered it first. The thread is
// never unlocked: it ends with its goroutine instead of going back to the
// Go scheduler in another process's namespace.
func startInPIDNamespace(path string, spec process.Spec) (*process.Process, error) {
	type result struct {
		proc *process.Process
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(path)
		if err != nil {
			done <- result{err: fmt.Errorf("join pid namespace: %w", err)}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWPID); err != nil {
			done <- result{err: fmt.Errorf("setns %s pid: %w", path, err)}
			return
		}
		proc, err := process.Start(spec)
		done <- result{proc, err}
	}()
	r := <-done
	return r.proc, r.err
}
