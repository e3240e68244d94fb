package ipam

import "errors"

// ErrExhausted is returned by Allocate when every usable address of the
// subnet is in use.
var ErrExhausted = errors.New("no available IPv4 addresses")

// ErrInvalidSubnet is returned by New for a subnet it cannot allocate from:
// not IPv4, or too small to hold a gateway and one container (/31, /32).
var ErrInvalidSubnet = errors.New("invalid subnet")
