package portmap

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrInvalidSpec matches every error of Parse; the error's text is Docker's
// own ("invalid containerPort: abc").
var ErrInvalidSpec = errors.New("invalid port specification")

// ErrAllocated means a host port is already published by another container,
// or bound by a program on the host.
var ErrAllocated = errors.New("port is already allocated")

// ErrAllPortsAllocated means no port of the dynamic range (or of the range
// the user gave) is free.
var ErrAllPortsAllocated = errors.New("all ports are allocated")

// specError is a Parse error: Docker's message, matching ErrInvalidSpec.
type specError string

func (e specError) Error() string        { return string(e) }
func (e specError) Is(target error) bool { return target == ErrInvalidSpec }

// BindError says a host port cannot be published, in Docker's words:
// "Bind for 0.0.0.0:8080 failed: port is already allocated".
// errors.Is matches ErrAllocated, and the bind(2) error when there was one.
type BindError struct {
	HostIP   netip.Addr
	HostPort uint16
	Proto    string
	Err      error // the bind(2) failure, or nil when we hold the port ourselves
}

func (e *BindError) Error() string {
	return fmt.Sprintf("Bind for %s failed: %v", netip.AddrPortFrom(hostIP(e.HostIP), e.HostPort), ErrAllocated)
}

func (e *BindError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrAllocated}
	}
	return []error{ErrAllocated, e.Err}
}
