//go:build linux

package main

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"minidocker/internal/testkit"
	"minidocker/step06-networking/network"
)

// TestTwoRootsOneBridge: a bridge, its addresses and its rules belong to
// the host, not to a data root. Two data roots on one bridge get distinct
// addresses (they both got 172.17.0.2 when each root kept its own book),
// and tearing the network down while a container of either root is on it
// changes nothing.
func TestTwoRootsOneBridge(t *testing.T) {
	w := newWorld(t)
	other := w.otherRoot(t)
	ip := func(w *world, name string) netip.Addr {
		t.Helper()
		s := w.inspect(name)["NetworkSettings"].(map[string]any)["IPAddress"].(string)
		a, err := netip.ParseAddr(s)
		require.NoError(t, err, "IPAddress %q of %s", s, name)
		return a
	}
	var addrs []netip.Addr
	for i, world := range []*world{w, other, w, other} {
		name := []string{"a1", "b1", "a2", "b2"}[i]
		world.ok("run", "-d", "--name", name, "busybox", "sleep", "1000")
		a := ip(world, name)
		require.True(t, w.subnet.Contains(a), "%s got %v, outside the bridge's %v", name, a, w.subnet)
		require.NotContains(t, addrs, a, "%s got an address another root's container has", name)
		addrs = append(addrs, a)
	}
	// In use by both roots: Teardown (what step06's teardown and make
	// demo's clean-up call) leaves the bridge and its table.
	n := w.network()
	require.ErrorIs(t, n.Teardown(), network.ErrInUse)
	_, err := netlink.LinkByName(w.bridge)
	require.NoError(t, err, "the bridge was deleted under running containers")
	require.True(t, testkit.NFTTableExists(t, w.bridge), "the nft table was deleted under running containers")
	// One root's containers gone: still in use by the other's.
	w.ok("rm", "-f", "a1", "a2")
	require.ErrorIs(t, n.Teardown(), network.ErrInUse)
	other.ok("rm", "-f", "b1", "b2")
	require.NoError(t, n.Teardown())
	_, err = netlink.LinkByName(w.bridge)
	require.Error(t, err, "the bridge is left after the last container went")
}
