package network_test

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"minidocker/step06-networking/network"
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

// synAnswered is the same escape for a container that only has
// CAP_NET_RAW (in Docker's default set): from inside s it writes a TCP SYN
// for dst:port (127.0.0.1) straight to the gateway's MAC with a packet
// socket, and reports whether a SYN-ACK from dst:port comes back within a
// second. The packet socket sees the reply before the container's own IP
// layer drops it (a 127.0.0.1 source is martian on eth0).
func synAnswered(t *testing.T, s *netNS, ep *network.Endpoint, gwMAC net.HardwareAddr, to netip.Addr, port uint16) bool {
	t.Helper()
	ethPIP := uint16(unix.ETH_P_IP<<8&0xff00 | unix.ETH_P_IP>>8) // htons
	var fd, ifindex int
	require.NoError(t, s.do(func() (err error) {
		eth0, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		ifindex = eth0.Index
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, int(ethPIP))
		if err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: ethPIP, Ifindex: ifindex})
	}), "packet socket in the container")
	defer unix.Close(fd)
	require.NoError(t, unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100_000}))

	const sport = 40404
	src, dst := ep.IP.As4(), to.As4()
	syn := tcpSYN(src, dst, sport, port)
	ll := &unix.SockaddrLinklayer{Protocol: ethPIP, Ifindex: ifindex, Halen: 6}
	copy(ll.Addr[:], gwMAC)
	require.NoError(t, unix.Sendto(fd, syn, 0, ll), "send the SYN")

	buf := make([]byte, 1500)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			continue // EAGAIN: the 100 ms receive timeout
		}
		p := buf[:n]
		if len(p) < 40 || p[9] != unix.IPPROTO_TCP || [4]byte(p[12:16]) != dst || [4]byte(p[16:20]) != src {
			continue
		}
		tcp := p[int(p[0]&0xf)*4:]
		if binary.BigEndian.Uint16(tcp[0:2]) == port && binary.BigEndian.Uint16(tcp[2:4]) == sport && tcp[13]&0x12 == 0x12 {
			return true
		}
	}
	return false
}

// tcpSYN is an IPv4 packet holding a TCP SYN, checksums included.
func tcpSYN(src, dst [4]byte, sport, dport uint16) []byte {
	p := make([]byte, 40)
	p[0], p[8], p[9] = 0x45, 64, unix.IPPROTO_TCP // version 4, 5 words; TTL; protocol
	binary.BigEndian.PutUint16(p[2:], 40)
	copy(p[12:16], src[:])
	copy(p[16:20], dst[:])
	binary.BigEndian.PutUint16(p[10:], checksum(p[:20]))
	tcp := p[20:]
	binary.BigEndian.PutUint16(tcp[0:], sport)
	binary.BigEndian.PutUint16(tcp[2:], dport)
	binary.BigEndian.PutUint32(tcp[4:], 0x01020304) // sequence number
	tcp[12], tcp[13] = 5<<4, 0x02                   // header length 5 words; SYN
	binary.BigEndian.PutUint16(tcp[14:], 64240)     // window
	pseudo := append(append(append([]byte{}, src[:]...), dst[:]...), 0, unix.IPPROTO_TCP, 0, 20)
	binary.BigEndian.PutUint16(tcp[16:], checksum(append(pseudo, tcp...)))
	return p
}

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// With only CAP_NET_RAW, hand-made frames: the host must not answer a SYN
// for its 127.0.0.1 that came in on the bridge.
func TestContainerCannotReachHostLoopbackRaw(t *testing.T) {
	n := newNetwork(t)
	s, ep := attach(t, n)
	hostOnly := serveTCP(t, nil, "127.0.0.1:0")
	br, err := netlink.LinkByName(n.Config().Bridge)
	require.NoError(t, err)

	// First a SYN for a server on the gateway's own address, which must be
	// answered: the probe works, and the host learns the container's MAC
	// (ARP) for its replies, so silence below is the drop rule's.
	onGateway := serveTCP(t, nil, netip.AddrPortFrom(n.Gateway(), 0).String())
	if !synAnswered(t, s, ep, br.Attrs().HardwareAddr, n.Gateway(), onGateway.Port()) {
		t.Fatalf("no SYN-ACK from the gateway %v: the raw probe is broken", onGateway)
	}
	if synAnswered(t, s, ep, br.Attrs().HardwareAddr, hostOnly.Addr(), hostOnly.Port()) {
		t.Errorf("the host answered a SYN for %v sent by a container over the bridge, want it dropped", hostOnly)
	}
}
