//go:build !unix

package portmap

import (
	"errors"
	"fmt"
)

func lockFile(path string) (func(), error) {
	return nil, fmt.Errorf("flock %s: %w", path, errors.ErrUnsupported)
}
