//go:build !linux

package privileges

import "errors"

// Compile needs Linux: seccomp is a Linux feature.
func Compile(profile []byte, caps []string) ([]byte, error) {
	return nil, errors.New("seccomp needs Linux")
}

func kernelRelease() string { return "" }
