package network_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
)

// escapeToHostLoopback makes the container namespace s send 127.0.0.0/8
// to the gateway instead of to its own lo, as a container with
// CAP_NET_ADMIN in its namespace can: lo loses 127.0.0.1 (so 127.0.0.0/8 is
// no longer local), a route sends it via the gateway, and eth0 accepts
// packets with a 127.0.0.0/8 source (the replies). A container without
// CAP_NET_ADMIN but with CAP_NET_RAW reaches the same path by writing the
// frames itself; this is the short way to the same packet on the wire.
func escapeToHostLoopback(t *testing.T, s *netNS, gw netip.Addr) {
	t.Helper()
	require.NoError(t, s.do(func() error {
		h, err := netlink.NewHandle()
		if err != nil {
			return err
		}
		defer h.Close()
		lo, err := h.LinkByName("lo")
		if err != nil {
			return err
		}
		if err := h.AddrDel(lo, &netlink.Addr{IPNet: ipNet(netip.MustParseAddr("127.0.0.1"), 8)}); err != nil {
			return err
		}
		eth0, err := h.LinkByName("eth0")
		if err != nil {
			return err
		}
		if err := h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Dst: ipNet(netip.MustParseAddr("127.0.0.0"), 8), Gw: gw.AsSlice()}); err != nil {
			return err
		}
		// /proc/sys/net is the namespace of the thread that opens it.
		return os.WriteFile("/proc/sys/net/ipv4/conf/eth0/route_localnet", []byte("1"), 0o644)
	}), "route 127.0.0.0/8 via the gateway inside the container")
}

// A container on the bridge must not reach a service the host binds to
// 127.0.0.1, although route_localnet=1 on the bridge (needed by -p on
// 127.0.0.1) lets the kernel route such packets.
func TestContainerCannotReachHostLoopback(t *testing.T) {
	n := newNetwork(t)
	s, ep := attach(t, n, "80")
	serveTCP(t, s, "0.0.0.0:80")
	hostOnly := serveTCP(t, nil, "127.0.0.1:0")

	escapeToHostLoopback(t, s, n.Gateway())
	got, err := ask(s, "tcp", hostOnly)
	if err == nil {
		t.Errorf("container reached the host's %v (server saw it as %v), want the packets dropped", hostOnly, got)
	} else if ne, ok := errors.AsType[net.Error](err); !ok || !ne.Timeout() {
		// Dropped, not refused: a RST would mean the host's stack saw it.
		t.Errorf("container to the host's %v: %v, want a timeout (packets dropped)", hostOnly, err)
	}

	// Published ports still work from the host's 127.0.0.1 (the replies
	// come back in on the bridge to the gateway, then are un-NATed to
	// 127.0.0.1: the rule must not see them).
	pub := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ep.Ports[0].HostPort)
	if got, err := ask(nil, "tcp", pub); err != nil || got != n.Gateway() {
		t.Errorf("host to published %v = %v, %v; want it answered, client seen as %v", pub, got, err, n.Gateway())
	}
}
