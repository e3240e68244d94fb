//go:build !linux

package privileges

import (
	"errors"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Compile needs Linux: seccomp is a Linux feature.
func Compile(profile []byte, caps []string) ([]byte, error) {
	return nil, errors.New("seccomp needs Linux")
}

func kernelRelease() string { return "" }

// CompileSpec needs Linux too.
func CompileSpec(*specs.LinuxSeccomp) ([]byte, error) { return nil, errors.New("seccomp needs Linux") }
