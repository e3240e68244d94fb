//go:build !linux

package cgroups

import (
	"errors"
	"fmt"
	"time"
)

func (m *manager) killAll(time.Duration) error {
	return fmt.Errorf("cgroups: kill: %w", errors.ErrUnsupported)
}

func removeDir(string) error { return fmt.Errorf("cgroups: rmdir: %w", errors.ErrUnsupported) }

func removeParent(string) error { return fmt.Errorf("cgroups: rmdir: %w", errors.ErrUnsupported) }

func supported() error { return fmt.Errorf("cgroups: %w", errors.ErrUnsupported) }

// Freeze is only implemented on Linux.
func (m *manager) Freeze() error { return fmt.Errorf("cgroups: pause: %w", errors.ErrUnsupported) }

// Thaw is only implemented on Linux.
func (m *manager) Thaw() error { return fmt.Errorf("cgroups: unpause: %w", errors.ErrUnsupported) }
