// Package process runs a program the way a container runtime does, without
// any isolation yet: to the host, a container is only a process.
//
// # The idea
//
// "docker run busybox echo hi" ends in one program running on the host. What
// Docker promises about that program is exact: its stdin, stdout and stderr
// are wired through (stdout and stderr kept apart), it gets a clean
// environment (PATH and what you pass with -e, not the caller's whole
// environment), the signals you send reach it, and its exit status comes back
// as your own: "exit 3" gives 3, death by signal N gives 128+N.
//
// # The syscalls, in order
//
//  1. Look the command up in the container's PATH (not the caller's): not
//     found is exit 127, found but not executable is 126.
//  2. fork + execve: Go has no bare fork (a forked copy of a multi-threaded
//     runtime would hold only one thread), so os/exec does both at once with
//     clone(CLONE_VM|CLONE_VFORK) followed by execve in the child.
//  3. signal.Notify for SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
//     and kill(child, sig) for each one that arrives.
//  4. wait4(child): the wait status says either "exited with code N" or
//     "killed by signal N"; the second becomes 128+N, as shells report it.
//
// # What goes wrong
//
// A runtime that forgets step 3 leaves the child running after Ctrl-C or
// "docker stop" killed only the runtime. One that reads only
// ExitStatus.Code reports 0 (or -1) for a program killed by SIGKILL, and
// one that uses the caller's PATH finds programs the container does not have.
//
// # See also
//
// fork(2), execve(2), wait4(2), signal(7); Docker's exit codes in
// https://docs.docker.com/engine/containers/run/#exit-status.
package process
