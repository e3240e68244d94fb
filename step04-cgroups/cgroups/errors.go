package cgroups

import "errors"

var (
	// ErrNoController means a limit was asked for a controller the host
	// does not have mounted (or, on v2, not available in our cgroup).
	ErrNoController = errors.New("cgroup controller not available")

	// ErrInternalProcesses is cgroup v2's "no internal processes" rule:
	// a non-root cgroup that holds processes cannot hand controllers to
	// children. Start minidocker in a cgroup of its own, or pass
	// --cgroup-parent.
	ErrInternalProcesses = errors.New("cgroup holds processes and cgroup v2 allows no internal processes")

	// ErrNotEmpty means processes were still in the container's cgroups
	// when Destroy gave up killing them.
	ErrNotEmpty = errors.New("cgroup still has processes")
)

// ValueError is a bad flag value. Its message is the part after the flag,
// so the CLI can print it as docker run does:
//
//	invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'
type ValueError struct {
	Value string // what the user typed
	Err   error  // why it is wrong
}

func (e *ValueError) Error() string { return e.Err.Error() }
func (e *ValueError) Unwrap() error { return e.Err }
