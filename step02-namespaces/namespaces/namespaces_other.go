//go:build !linux

package namespaces

import (
	"context"
	"errors"
	"fmt"

	"minidocker/step01-process/process"
)

// Init does nothing off Linux: there is no container init to become.
func Init(stages ...Stage) {}

// Run is only implemented on Linux.
func Run(cfg Config, opts Options) (process.ExitStatus, error) {
	return process.ExitStatus{}, fmt.Errorf("run: %w", errors.ErrUnsupported)
}

// RunContext is only implemented on Linux.
func RunContext(ctx context.Context, cfg Config, opts Options) (process.ExitStatus, error) {
	return Run(cfg, opts)
}

// Join is only implemented on Linux.
func Join(cfg JoinConfig, started func()) (process.ExitStatus, error) {
	return process.ExitStatus{}, fmt.Errorf("exec: %w", errors.ErrUnsupported)
}

// RlimitNumber needs Linux's resource numbers.
func RlimitNumber(string) (int, bool) { return 0, false }
