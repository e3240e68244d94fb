package namespaces

import (
	"os"

	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/privileges"
)

// JoinConfig is a process to run inside a container that already runs:
// docker exec. The container's namespaces and confinement, the exec's own
// command, environment, directory and user.
type JoinConfig struct {
	// Init is the container's PID 1 as the host sees it, with its start
	// time: a PID reused by another process is never joined.
	Init process.Identity `json:"init"`
	// Namespaces are the container's (Default; without Net for --network
	// host, whose network is the host's own).
	Namespaces []Namespace `json:"namespaces"`
	Args       []string    `json:"args"`
	Env        []string    `json:"env"`
	Dir        string      `json:"dir,omitempty"`  // "" is /
	User       string      `json:"user,omitempty"` // docker's --user form; "" is root
	// Tty: fd 0 is a terminal, which becomes the controlling terminal of
	// the command's new session.
	Tty        bool               `json:"tty,omitempty"`
	Privileges *privileges.Config `json:"privileges,omitempty"`
	// IDs, when set, replace User: numbers used as they are (an OCI
	// process.user; see Config.IDs).
	IDs *IDs `json:"ids,omitempty"`
	// Rlimits are set before the command starts (Config.Rlimits).
	Rlimits []Rlimit `json:"rlimits,omitempty"`
	// Detach: return once the command runs, without waiting for it (an OCI
	// runtime's exec --detach). The command's parent, the joining process,
	// then exits, and the command is adopted by the nearest child
	// subreaper above it: the engine's shim, which waits for it.
	Detach bool `json:"detach,omitempty"`
}

// JoinOptions are the host side of a Join.
type JoinOptions struct {
	// Started, if set, is called with the command's PID (as the host sees
	// it) once it has been executed.
	Started func(pid int)
	// Console, if set, is called once the container's namespaces are
	// joined (its /dev is ours then) and gives the terminal to use as the
	// command's stdin, stdout, stderr and controlling terminal: an OCI
	// runtime's exec with --console-socket makes it from the container's
	// own /dev/ptmx.
	Console func() (*os.File, error)
}
