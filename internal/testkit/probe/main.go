//go:build linux

// Command probe tries one thing a container must not be able to do, and
// says how the kernel answered: "NAME: ok" when it worked, "NAME: EPERM"
// (the errno's name) when it was refused. The escape tests run it inside
// containers, with the default options and with --privileged, and compare.
//
//	probe ATTEMPT [ARG...]
//
// Each attempt is harmless on the host when it works: it stops at the
// permission check that matters (an invalid argument after it), or changes
// only the container's own mount namespace.
package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe ATTEMPT [ARG...]")
		os.Exit(2)
	}
	name, args := os.Args[1], os.Args[2:]
	f, ok := attempts[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "probe: unknown attempt %q\n", name)
		os.Exit(2)
	}
	err := f(args)
	fmt.Printf("%s: %s\n", name, result(err))
}

func result(err error) string {
	if err == nil {
		return "ok"
	}
	var e unix.Errno
	if errors.As(err, &e) {
		// "mknod: EPERM" says which step was refused; a bare errno is the
		// attempt itself.
		if prefix, _, ok := strings.Cut(err.Error(), ": "); ok && strings.HasPrefix(prefix, "mknod") {
			return prefix + " " + unix.ErrnoName(e)
		}
		return unix.ErrnoName(e)
	}
	return "error " + strings.ReplaceAll(err.Error(), "\n", " ")
}

func errno(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

var attempts = map[string]func(args []string) error{
	// mount a tmpfs (CAP_SYS_ADMIN; seccomp allows mount only with it).
	"mount": func([]string) error {
		os.MkdirAll("/tmp/probe-mnt", 0o755)
		if err := unix.Mount("probe", "/tmp/probe-mnt", "tmpfs", 0, ""); err != nil {
			return err
		}
		return unix.Unmount("/tmp/probe-mnt", 0)
	},
	// mount a cgroup v1 hierarchy: the first step of the release_agent
	// escape. It never writes release_agent.
	"mount-cgroup": func(args []string) error {
		os.MkdirAll("/tmp/probe-cg", 0o755)
		if err := unix.Mount("cgroup", "/tmp/probe-cg", "cgroup", 0, args[0]); err != nil {
			return err
		}
		return unix.Unmount("/tmp/probe-cg", 0)
	},
	// a user namespace, as unshare -U does (in a child: a threaded Go
	// process cannot unshare one itself).
	"userns": func([]string) error {
		cmd := exec.Command("/proc/self/exe", "noop")
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER}
		return cmd.Run()
	},
	"noop": func([]string) error { return nil },
	// remount /proc/sys read-write, then open core_pattern for writing.
	"remount-proc-sys": func([]string) error {
		return unix.Mount("", "/proc/sys", "", unix.MS_REMOUNT|unix.MS_BIND, "")
	},
	// open a file for writing, and write nothing: "open-write PATH".
	"open-write": func(args []string) error {
		f, err := os.OpenFile(args[0], os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return f.Close()
	},
	// create a file or directory: "create PATH" / "mkdir PATH".
	"create": func(args []string) error {
		f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		f.Close()
		return os.Remove(args[0])
	},
	"mkdir": func(args []string) error {
		if err := os.Mkdir(args[0], 0o755); err != nil {
			return err
		}
		return os.Remove(args[0])
	},
	// unmount a masked path: "umount PATH".
	"umount": func(args []string) error { return unix.Unmount(args[0], unix.MNT_DETACH) },
	// mknod /dev/kmsg's device (c 1 11) and open it: the devices cgroup
	// allows the mknod and refuses the open.
	"kmsg": func([]string) error {
		p := "/tmp/probe-kmsg"
		os.Remove(p)
		if err := unix.Mknod(p, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 11))); err != nil {
			return fmt.Errorf("mknod: %w", err)
		}
		defer os.Remove(p)
		fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	},
	// mknod the host's disk (b MAJOR MINOR) and open it for reading: with no
	// devices cgroup, a container reads the host's filesystem raw.
	"disk": func(args []string) error {
		var major, minor uint32
		fmt.Sscan(args[0], &major)
		fmt.Sscan(args[1], &minor)
		p := "/tmp/probe-disk"
		os.Remove(p)
		if err := unix.Mknod(p, unix.S_IFBLK|0o600, int(unix.Mkdev(major, minor))); err != nil {
			return fmt.Errorf("mknod: %w", err)
		}
		defer os.Remove(p)
		fd, err := unix.Open(p, unix.O_RDONLY, 0)
		if err != nil {
			return err
		}
		return unix.Close(fd)
	},
	"mknod": func([]string) error {
		p := "/tmp/probe-null"
		os.Remove(p)
		defer os.Remove(p)
		return unix.Mknod(p, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 3)))
	},
	// open_by_handle_at, the "shocker" attack: "handle MOUNTFILE TYPE HEX"
	// opens a file by a handle the test took on the host
	// (name_to_handle_at), through any file of the same filesystem.
	"handle": func(args []string) error {
		mfd, err := unix.Open(args[0], unix.O_RDONLY, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", args[0], err)
		}
		defer unix.Close(mfd)
		var typ int32
		fmt.Sscan(args[1], &typ)
		b, err := hex.DecodeString(args[2])
		if err != nil {
			return err
		}
		fd, err := unix.OpenByHandleAt(mfd, unix.NewFileHandle(typ, b), unix.O_RDONLY)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		buf := make([]byte, 64)
		n, _ := unix.Read(fd, buf)
		fmt.Printf("read: %q\n", buf[:n])
		return nil
	},
	// keyctl: the session keyring's ID (read-only).
	"keyctl": func([]string) error {
		_, _, e := unix.Syscall(unix.SYS_KEYCTL, unix.KEYCTL_GET_KEYRING_ID, uintptr(0xfffffffd), 0) // KEY_SPEC_SESSION_KEYRING
		return errno(e)
	},
	// bpf: create a map with an invalid size (EINVAL once allowed).
	"bpf": func([]string) error {
		attr := make([]byte, 128)
		_, _, e := unix.Syscall(unix.SYS_BPF, 0 /* BPF_MAP_CREATE */, uintptr(unsafe.Pointer(&attr[0])), uintptr(len(attr)))
		return errno(e)
	},
	// reboot(CAD_OFF): in a PID namespace, EINVAL once allowed.
	"reboot": func([]string) error {
		return unix.Reboot(unix.LINUX_REBOOT_CMD_CAD_OFF)
	},
	// swapon a file that does not exist: ENOENT once allowed.
	"swapon": func([]string) error {
		p, _ := unix.BytePtrFromString("/nonexistent-swap")
		_, _, e := unix.Syscall(unix.SYS_SWAPON, uintptr(unsafe.Pointer(p)), 0, 0)
		return errno(e)
	},
	// kexec_load with invalid flags: EINVAL (or ENOSYS) once allowed.
	"kexec_load": func([]string) error {
		_, _, e := unix.Syscall6(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0xffff0000, 0, 0)
		return errno(e)
	},
	// init_module with no module: EINVAL/EFAULT/ENOSYS once allowed.
	"init_module": func([]string) error {
		p, _ := unix.BytePtrFromString("")
		_, _, e := unix.Syscall(unix.SYS_INIT_MODULE, 0, 0, uintptr(unsafe.Pointer(p)))
		return errno(e)
	},
	// settimeofday with an invalid time: EINVAL once allowed.
	"settimeofday": func([]string) error {
		tv := unix.Timeval{Sec: 0, Usec: -1}
		_, _, e := unix.Syscall(unix.SYS_SETTIMEOFDAY, uintptr(unsafe.Pointer(&tv)), 0, 0)
		return errno(e)
	},
	// move ourselves into the root of the pids cgroup we see.
	"cgroup-move": func(args []string) error {
		return os.WriteFile(args[0], []byte(fmt.Sprint(os.Getpid())), 0)
	},
	// push a character into our stdin's terminal (TIOCSTI).
	"tiocsti": func([]string) error {
		c := byte('!')
		_, _, e := unix.Syscall(unix.SYS_IOCTL, 0, unix.TIOCSTI, uintptr(unsafe.Pointer(&c)))
		return errno(e)
	},
	// ptrace-attach to a process: "ptrace PID", or "ptrace child" for a
	// child of our own (that one must work: ptrace itself is allowed).
	"ptrace": func(args []string) error {
		var pid int
		if args[0] == "child" {
			cmd := exec.Command("/bin/sleep", "5")
			if err := cmd.Start(); err != nil {
				return err
			}
			defer func() { cmd.Process.Kill(); cmd.Wait() }()
			pid = cmd.Process.Pid
		} else {
			fmt.Sscan(args[0], &pid)
		}
		runtime.LockOSThread() // the tracer is a thread
		if err := unix.PtraceAttach(pid); err != nil {
			return err
		}
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, unix.WALL, nil)
		return unix.PtraceDetach(pid)
	},
	// read a descriptor we may have inherited: "fd N".
	"fd": func(args []string) error {
		var n int
		fmt.Sscan(args[0], &n)
		buf := make([]byte, 64)
		k, err := unix.Read(n, buf)
		if err != nil {
			return err
		}
		fmt.Printf("read: %q\n", buf[:k])
		return nil
	},
	// the process's credentials as /proc/self/status shows them.
	"status": func([]string) error {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp:"} {
				if strings.HasPrefix(l, k) {
					fmt.Println(strings.Join(strings.Fields(l), " "))
				}
			}
		}
		return nil
	},
}
