//go:build !linux

package testkit

import (
	"net/netip"
	"testing"
)

// FreeSubnet is only implemented on Linux, where the tests that need a
// bridge run.
func FreeSubnet(t testing.TB, second byte) netip.Prefix {
	t.Helper()
	t.Skip("bridges are Linux only")
	return netip.Prefix{}
}
