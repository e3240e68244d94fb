package testkit

import (
	"crypto/rand"
	"net/netip"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
)

// subnets are the test subnets this test binary holds.
var subnets struct {
	sync.Mutex
	used map[netip.Prefix]bool
}

// FreeSubnet returns a /24 of 172.<second>.0.0/16 for a test's own bridge:
// one that no route of the host overlaps (a user's minidocker0, docker0, a
// LAN) and no other test of this binary holds until it ends.
func FreeSubnet(t testing.TB, second byte) netip.Prefix {
	t.Helper()
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	require.NoError(t, err, "list routes")
	var used []netip.Prefix
	for _, r := range routes {
		if r.Dst == nil {
			continue // the default route overlaps everything and takes nothing
		}
		ones, _ := r.Dst.Mask.Size()
		if a, ok := netip.AddrFromSlice(r.Dst.IP.To4()); ok {
			used = append(used, netip.PrefixFrom(a, ones))
		}
	}
	subnets.Lock()
	defer subnets.Unlock()
	if subnets.used == nil {
		subnets.used = map[netip.Prefix]bool{}
	}
	b := make([]byte, 1)
	rand.Read(b)
next:
	for i := range 256 {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{172, second, byte((int(b[0]) + i) % 256), 0}), 24)
		if subnets.used[p] {
			continue
		}
		for _, u := range used {
			if u.Bits() > 0 && p.Overlaps(u) {
				continue next
			}
		}
		subnets.used[p] = true
		t.Cleanup(func() {
			subnets.Lock()
			defer subnets.Unlock()
			delete(subnets.used, p)
		})
		return p
	}
	t.Fatalf("no free /24 in 172.%d.0.0/16 for the test's bridge", second)
	return netip.Prefix{}
}
