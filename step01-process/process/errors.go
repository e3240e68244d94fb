package process

import "errors"

// Docker's exit codes for failures before the container's program runs.
const (
	// ExitToolFailed is the code when the runtime itself fails (bad flags, bad -e).
	ExitToolFailed = 125
	// ExitCannotInvoke is the code when the command exists but cannot be run.
	ExitCannotInvoke = 126
	// ExitNotFound is the code when the command is not found.
	ExitNotFound = 127
)

var (
	// ErrNotFound means the command does not exist (exit 127).
	ErrNotFound = errors.New("executable file not found in $PATH")
	// ErrCannotInvoke means the command exists but is not executable (exit 126).
	ErrCannotInvoke = errors.New("permission denied")
	// ErrInvalidEnv means a -e value has no variable name.
	ErrInvalidEnv = errors.New("invalid environment variable")
)

// ExitCode maps an error from starting a process to Docker's exit code:
// 127 for ErrNotFound, 126 for ErrCannotInvoke and 125 for anything else.
func ExitCode(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return ExitNotFound
	case errors.Is(err, ErrCannotInvoke):
		return ExitCannotInvoke
	default:
		return ExitToolFailed
	}
}
