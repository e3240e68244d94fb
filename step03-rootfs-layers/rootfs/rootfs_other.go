//go:build !linux

package rootfs

import (
	"errors"
	"fmt"
)

// Setup is only implemented on Linux.
func Setup(cfg *Config, newNet bool) error {
	return fmt.Errorf("rootfs setup: %w", errors.ErrUnsupported)
}
