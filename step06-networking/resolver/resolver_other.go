//go:build !linux

package resolver

import (
	"errors"
	"fmt"
	"net"
)

// ListenIn is Linux-only: network namespaces are Linux's.
func ListenIn(nsPath, addr string) (net.PacketConn, net.Listener, error) {
	return nil, nil, fmt.Errorf("dns: listen in %s: %w", nsPath, errors.ErrUnsupported)
}
