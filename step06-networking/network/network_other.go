//go:build !linux

package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// Network is one bridge network; bridges, veths and nftables are Linux's.
type Network struct{ cfg Config }

// New is Linux-only.
func New(cfg Config) (*Network, error) {
	return nil, fmt.Errorf("network %s: %w", cfg.Bridge, errors.ErrUnsupported)
}

// HostRoutes is Linux-only.
func HostRoutes() ([]netip.Prefix, error) {
	return nil, fmt.Errorf("list routes: %w", errors.ErrUnsupported)
}

// LoopbackUp is Linux-only.
func LoopbackUp(nsPath string) error {
	return fmt.Errorf("loopback up: %w", errors.ErrUnsupported)
}

// Config returns the network's configuration.
func (n *Network) Config() Config { return n.cfg }

// Gateway returns the bridge's address.
func (n *Network) Gateway() netip.Addr { return netip.Addr{} }

// EnsureBridge is Linux-only.
func (n *Network) EnsureBridge() error {
	return fmt.Errorf("ensure bridge: %w", errors.ErrUnsupported)
}

// Attach is Linux-only.
func (n *Network) Attach(ctx context.Context, id, nsPath string, opts AttachOptions) (*Endpoint, error) {
	return nil, fmt.Errorf("attach %s: %w", id, errors.ErrUnsupported)
}

// Detach is Linux-only.
func (n *Network) Detach(id string) error {
	return fmt.Errorf("detach %s: %w", id, errors.ErrUnsupported)
}

// Forget is Linux-only.
func (n *Network) Forget(id string) error {
	return fmt.Errorf("detach %s: %w", id, errors.ErrUnsupported)
}

// Unplug is Linux-only.
func (n *Network) Unplug(id string) error {
	return fmt.Errorf("unplug %s: %w", id, errors.ErrUnsupported)
}

// Endpoints is Linux-only.
func (n *Network) Endpoints() ([]Endpoint, error) {
	return nil, fmt.Errorf("list endpoints: %w", errors.ErrUnsupported)
}

// Endpoint is Linux-only.
func (n *Network) Endpoint(id string) (*Endpoint, error) {
	return nil, fmt.Errorf("endpoint %s: %w", id, errors.ErrUnsupported)
}

// Teardown is Linux-only.
func (n *Network) Teardown() error {
	return fmt.Errorf("teardown: %w", errors.ErrUnsupported)
}

// FreeInterface is Linux-only.
func FreeInterface(nsPath string) (string, error) {
	return "", fmt.Errorf("free interface: %w", errors.ErrUnsupported)
}
