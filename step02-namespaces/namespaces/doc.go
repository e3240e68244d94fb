// Package namespaces starts a container's process in namespaces of its own:
// its own hostname, process IDs, mount table, IPC objects, network devices and
// cgroup root, through one re-executed init that every later step extends.
//
// # The idea
//
// A namespace gives a process its own copy of one view of the system; a
// container is a process with a new one of (nearly) each kind. The work that
// must happen inside the new namespaces before the user's program runs (set
// the hostname, make the mounts private, mount /proc, bring lo up) cannot be
// done between fork and exec in Go, so the runtime starts its own binary again
// with the reserved first argument InitArg, and that copy, the init, does it
// and then execs the command. Start is the host's side, Init the container's.
// Later steps add to the init through Config.Stages and to the host's side
// through Options.Created, never by copying it.
//
// # The syscalls, in order
//
//  1. pipe2 twice: the config pipe (the init's fd 3) and the error pipe (fd 4)
//  2. clone(CLONE_NEWUTS|CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWIPC|CLONE_NEWNET)
//     + execve("/proc/self/exe", [..., "__minidocker_init"])
//  3. the Created hook on the host (cgroups, network), then the JSON config
//     written to fd 3
//  4. in the init: unshare(CLONE_NEWCGROUP) (once the host has placed it in
//     its cgroups), mount("", "/", "", MS_PRIVATE|MS_REC, ""), sethostname, ioctl(SIOCSIFFLAGS, IFF_UP) on lo, mount("proc", "/proc"),
//     the stages, the privileges (package privileges), execve of the command
//  5. on the host: read fd 4 until EOF (EOF alone means the execve worked),
//     then wait4 as in step 1
//
// Join is the other way in (docker exec): setns(2) into the namespaces of a
// running init, through a pidfd, from one locked OS thread.
//
// # What goes wrong
//
// Without MS_PRIVATE|MS_REC the container's mounts propagate back to a host
// whose / is shared. A PID 1 without a handler for SIGTERM never gets it:
// the kernel drops it, which is why --init exists (see runPID1). An init
// that fails before execve reports {"message", "code"} on fd 4, and Start
// returns it as an *InitError with exit code 125, 126 or 127.
//
// # See also
//
// namespaces(7), pid_namespaces(7), mount_namespaces(7), clone(2), setns(2);
// runc libcontainer/init_linux.go and libcontainer/nsenter; the step's README.
package namespaces
