//go:build !linux

package layers

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/opencontainers/go-digest"
)

// Apply is only implemented on Linux.
func Apply(dir string, r io.Reader) (int64, error) {
	return 0, fmt.Errorf("apply layer: %w", errors.ErrUnsupported)
}

// Unpack is only implemented on Linux.
func Unpack(dir string, compressed io.Reader, diffID digest.Digest) error {
	return fmt.Errorf("unpack layer: %w", errors.ErrUnsupported)
}

func unpack(dir string, compressed io.Reader, diffID digest.Digest, warn func(string, error), layout io.Writer) error {
	return Unpack(dir, compressed, diffID)
}

// MountOverlay is only implemented on Linux.
func MountOverlay(target string, lowers []string, upper, work string) error {
	return fmt.Errorf("mount overlay: %w", errors.ErrUnsupported)
}

// ApplyWarn is only implemented on Linux.
func ApplyWarn(dir string, r io.Reader, warn func(entry string, err error)) (int64, error) {
	return 0, fmt.Errorf("apply layer: %w", errors.ErrUnsupported)
}

// Diff is only implemented on Linux.
func Diff(w io.Writer, upper string, o DiffOptions) (int64, error) {
	return 0, fmt.Errorf("diff %s: %w", upper, errors.ErrUnsupported)
}

// Changes is only implemented on Linux.
func (s *Store) Changes(diffIDs []digest.Digest, dir string, fn func(root *os.Root) error) error {
	return fmt.Errorf("changes: %w", errors.ErrUnsupported)
}

// HasPath is only implemented on Linux.
func (s *Store) HasPath(diffIDs []digest.Digest, name string) bool { return false }
