package process

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseExecFrom marks every file descriptor from first on close-on-exec,
// so that none of them reaches a program this process executes.
//
// A child inherits every descriptor that lacks FD_CLOEXEC, not only 0, 1
// and 2: Go opens its own files with O_CLOEXEC, but a descriptor this
// process inherited does not have it (a shell's "7</secret" does not), and
// os/exec passes it on. runc does this before it runs a container's
// command (CloseExecFrom in libcontainer/utils); close_range(2) does it in
// one call since Linux 5.11, and /proc/self/fd is walked before that.
func CloseExecFrom(first int) error {
	err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC)
	if err == nil {
		return nil
	}
	entries, rerr := os.ReadDir("/proc/self/fd")
	if rerr != nil {
		return err
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= first {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}
