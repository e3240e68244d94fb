//go:build !unix

package state

import (
	"errors"
	"fmt"
)

func lockFile(path string) (func(), error) {
	return nil, fmt.Errorf("flock %s: %w", path, errors.ErrUnsupported)
}
