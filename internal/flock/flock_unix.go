//go:build unix

// Package flock is the one lock every store of the course uses (image
// index, addresses, ports, networks, containers): an exclusive flock(2) on
// a file, held until the returned func is called.
//
// The lock belongs to the open file description, not to the process: two
// goroutines of one process that each call Lock exclude each other just as
// two processes do, and the kernel drops it when the holder dies, even by
// SIGKILL, so a crash never leaves a store locked.
package flock

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Lock takes an exclusive flock(2) on path (creating the file), waiting
// for the holder if any; unlock releases it.
func Lock(path string) (unlock func(), err error) { return lock(path, unix.LOCK_EX) }

// LockShared takes a shared flock(2) on path: any number of shared holders
// at once, none while an exclusive Lock is held (the readers' side of a
// readers-writer lock, across processes).
func LockShared(path string) (unlock func(), err error) { return lock(path, unix.LOCK_SH) }

func lock(path string, how int) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return func() { f.Close() }, nil
}
