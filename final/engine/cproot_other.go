//go:build !linux

package engine

import (
	"errors"
	"fmt"
	"os"
)

func mountPrivate(string, []string, string, string) (*os.File, error) {
	return nil, fmt.Errorf("mount a stopped container's root: %w", errors.ErrUnsupported)
}
