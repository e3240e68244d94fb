//go:build !linux

package rootfs

import (
	"errors"
	"fmt"
	"net"
	"os"
)

// Setup is only implemented on Linux.
func Setup(cfg *Config, newNet bool) error {
	return fmt.Errorf("rootfs setup: %w", errors.ErrUnsupported)
}

func dialConsole(path string) (*net.UnixConn, error) {
	if path == "" {
		return nil, nil
	}
	return nil, errors.ErrUnsupported
}

func consoleConn(cfg *Config) (*net.UnixConn, error) { return dialConsole(cfg.ConsoleSocket) }

func setupConsole(*net.UnixConn, uint16, uint16) error { return errors.ErrUnsupported }

// ReceiveConsole is only implemented on Linux.
func ReceiveConsole(*net.UnixListener) (*os.File, error) { return nil, errors.ErrUnsupported }

// SendConsole needs Linux.
func SendConsole(*net.UnixConn, uint16, uint16) (*os.File, error) { return nil, errors.ErrUnsupported }

// DialConsole needs Linux.
func DialConsole(string) (*net.UnixConn, error) { return nil, errors.ErrUnsupported }
