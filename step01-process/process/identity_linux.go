package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Identify returns the identity of the process that has pid now. It fails
// with ErrGone when no process has it.
func Identify(pid int) (Identity, error) {
	st, err := readStat(pid)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Pid: pid, StartTime: st.StartTime}, nil
}

func readStat(pid int) (procStat, error) {
	if pid <= 0 {
		return procStat{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return procStat{}, fmt.Errorf("pid %d: %w", pid, ErrGone)
	}
	if err != nil {
		return procStat{}, err
	}
	return parseStat(data)
}

// Alive reports whether the process still runs: its PID is taken by a
// process that started when it did, and that is not a zombie (exited,
// waiting for its parent to read its status).
func (id Identity) Alive() bool {
	st, err := readStat(id.Pid)
	if err != nil || st.State == 'Z' {
		return false
	}
	return id.StartTime == 0 || st.StartTime == id.StartTime
}

// Handle is a pidfd: a file descriptor that refers to one process, not to
// a number. Signals sent through it (pidfd_send_signal) reach that process
// or fail with ESRCH once it has exited, even if its PID was reused since;
// and it becomes readable when the process exits, so a non-parent can wait
// for it with poll(2) instead of asking again and again.
type Handle struct {
	fd int
	ID Identity
}

// Open returns a pidfd for the process if it is still the one id names,
// and an error wrapping ErrGone if not. The order matters: pidfd_open
// first, then the start time. A pidfd opened on a PID that was already
// reused would point at the stranger, and the start time read next shows
// it; if the start time matches, the pidfd was opened on our process,
// which it then pins however the PID is reused.
func (id Identity) Open() (*Handle, error) {
	if id.Pid <= 0 {
		return nil, fmt.Errorf("pid %d: %w", id.Pid, ErrGone)
	}
	fd, err := unix.PidfdOpen(id.Pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil, fmt.Errorf("%v: %w", id, ErrGone)
	}
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", id.Pid, err)
	}
	unix.CloseOnExec(fd)
	if !id.Alive() {
		unix.Close(fd)
		return nil, fmt.Errorf("%v: %w", id, ErrGone)
	}
	return &Handle{fd: fd, ID: id}, nil
}

// Signal sends sig to the process (pidfd_send_signal); ErrGone when it has
// exited.
func (h *Handle) Signal(sig syscall.Signal) error {
	err := unix.PidfdSendSignal(h.fd, sig, nil, 0)
	if errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("%v: %w", h.ID, ErrGone)
	}
	if err != nil {
		return fmt.Errorf("signal %v: %w", h.ID, err)
	}
	return nil
}

// Wait waits up to timeout for the process to exit (the pidfd polls
// readable) and reports whether it did.
func (h *Handle) Wait(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline).Milliseconds())
		if ms < 0 {
			ms = 0
		}
		fds := []unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n == 1 {
			return err == nil
		}
		if ms == 0 {
			return false
		}
	}
}

// WaitContext waits until the process exits or ctx ends: nil once it
// exited, ctx.Err() if ctx ended first. The wait is one poll(2) on two
// descriptors, the pidfd and an eventfd that the end of ctx writes to:
// nothing wakes up before one of them is readable.
func (h *Handle) WaitContext(ctx context.Context) error {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("wait for %v: eventfd: %w", h.ID, err)
	}
	defer unix.Close(efd)
	woken := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(woken)
		one := [8]byte{1} // adds a non-zero value to the counter: readable
		unix.Write(efd, one[:])
	})
	defer func() {
		if !stop() {
			<-woken // the write ran or runs: not into a closed (or reused) descriptor
		}
	}()
	fds := []unix.PollFd{{Fd: int32(h.fd), Events: unix.POLLIN}, {Fd: int32(efd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		switch {
		case err != nil:
			return fmt.Errorf("wait for %v: poll: %w", h.ID, err)
		case fds[0].Revents != 0:
			return nil
		default:
			return ctx.Err()
		}
	}
}

// Close closes the pidfd.
func (h *Handle) Close() error { return unix.Close(h.fd) }

// Fd is the pidfd itself, for calls that take one (setns(2) joins the
// namespaces of the process it names).
func (h *Handle) Fd() int { return h.fd }

// Signal sends sig to the process id names, if it is still that process;
// an error wrapping ErrGone if not, and then nothing was sent.
func (id Identity) Signal(sig syscall.Signal) error {
	h, err := id.Open()
	if err != nil {
		return err
	}
	defer h.Close()
	return h.Signal(sig)
}
