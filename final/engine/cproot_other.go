//go:build !linux

package engine

import (
	"errors"
	"fmt"
	"os"
)

type bind struct {
	source, destination string
	readOnly            bool
}

func mountPrivate(string, []string, string, string, []bind) (*os.File, func(), error) {
	return nil, nil, fmt.Errorf("mount a stopped container's root: %w", errors.ErrUnsupported)
}
