//go:build !linux

package process

import (
	"context"
	"errors"
	"syscall"
	"time"
)

// Identify is only implemented on Linux.
func Identify(pid int) (Identity, error) { return Identity{}, errors.ErrUnsupported }

// Alive is only implemented on Linux.
func (id Identity) Alive() bool { return false }

// Handle is only implemented on Linux.
type Handle struct{ ID Identity }

// Open is only implemented on Linux.
func (id Identity) Open() (*Handle, error) { return nil, errors.ErrUnsupported }

// Signal is only implemented on Linux.
func (h *Handle) Signal(syscall.Signal) error { return errors.ErrUnsupported }

// Wait is only implemented on Linux.
func (h *Handle) Wait(time.Duration) bool { return false }

// WaitContext is only implemented on Linux.
func (h *Handle) WaitContext(context.Context) error { return errors.ErrUnsupported }

// Close is only implemented on Linux.
func (h *Handle) Close() error { return nil }

// Fd is only implemented on Linux.
func (h *Handle) Fd() int { return -1 }

// Signal is only implemented on Linux.
func (id Identity) Signal(syscall.Signal) error { return errors.ErrUnsupported }
