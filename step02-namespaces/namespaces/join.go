package namespaces

import (
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
}
