//go:build !linux

package limits

import (
	"errors"
	"fmt"
	"os"

	"minidocker/step02-namespaces/namespaces"
	"minidocker/step04-cgroups/cgroups"
)

// Container is a container started in its cgroups (Linux only).
type Container struct{}

// Start is only implemented on Linux.
func Start(namespaces.Config, namespaces.Options, cgroups.Config) (*Container, error) {
	return nil, fmt.Errorf("start container: %w", errors.ErrUnsupported)
}

// Pid is only implemented on Linux.
func (c *Container) Pid() int { return 0 }

// CgroupPaths is only implemented on Linux.
func (c *Container) CgroupPaths() map[string]string { return nil }

// Wait is only implemented on Linux.
func (c *Container) Wait() (Result, error) { return Result{}, errors.ErrUnsupported }

// Run is only implemented on Linux.
func Run(namespaces.Config, namespaces.Options, cgroups.Config) (Result, error) {
	return Result{}, fmt.Errorf("run container: %w", errors.ErrUnsupported)
}

// WaitThen is only implemented on Linux.
func (c *Container) WaitThen(func()) (Result, error) { return Result{}, errors.ErrUnsupported }

// Signal is only implemented on Linux.
func (c *Container) Signal(os.Signal) error { return errors.ErrUnsupported }
