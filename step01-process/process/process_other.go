//go:build !linux

package process

import (
	"errors"
	"fmt"
)

// Run is only implemented on Linux.
func Run(spec Spec) (ExitStatus, error) {
	return ExitStatus{}, fmt.Errorf("run: %w", errors.ErrUnsupported)
}

// CloseExecFrom is a no-op where containers do not run.
func CloseExecFrom(first int) error { return nil }
