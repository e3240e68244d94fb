//go:build !linux

package cgroups

import (
	"errors"
	"fmt"
)

var attachDevices = func(string, []DeviceRule) error {
	return fmt.Errorf("cgroups: device program: %w", errors.ErrUnsupported)
}
