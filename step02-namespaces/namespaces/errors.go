package namespaces

import (
	"errors"

	"minidocker/step01-process/process"
)

// ErrInit marks a failure inside the container's init (before the command
// ran); errors.Is also matches process.ErrNotFound or
// process.ErrCannotInvoke when that was the cause.
var ErrInit = errors.New("container init")

// InitError is the init's failure as the parent received it.
type InitError struct {
	Message string
	Code    int // 125, 126 or 127
}

func (e *InitError) Error() string { return e.Message }

// Unwrap lets errors.Is find the category, so process.ExitCode gives the
// same 126/127 as it would for a program started without namespaces.
func (e *InitError) Unwrap() []error {
	switch e.Code {
	case process.ExitNotFound:
		return []error{ErrInit, process.ErrNotFound}
	case process.ExitCannotInvoke:
		return []error{ErrInit, process.ErrCannotInvoke}
	}
	return []error{ErrInit}
}
