//go:build unix

package state

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock(2) on path; the returned func drops it.
// The lock belongs to the open file description, so two goroutines of one
// process exclude each other just as two processes do.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return func() { f.Close() }, nil
}
