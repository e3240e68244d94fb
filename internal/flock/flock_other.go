//go:build !unix

package flock

import (
	"errors"
	"fmt"
)

// Lock is only implemented on Unix.
func Lock(path string) (func(), error) {
	return nil, fmt.Errorf("flock %s: %w", path, errors.ErrUnsupported)
}

// LockShared is only implemented on Unix.
func LockShared(path string) (func(), error) {
	return nil, fmt.Errorf("flock %s: %w", path, errors.ErrUnsupported)
}
