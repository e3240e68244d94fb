package network_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"minidocker/internal/testkit"
	"minidocker/step06-networking/ipam"
	"minidocker/step06-networking/network"
	"minidocker/step06-networking/portmap"
)

// testSubnet is a /24 of 172.31.0.0/16 that no host route uses and no
// other test of this binary holds.
func testSubnet(t testing.TB) netip.Prefix { return testkit.FreeSubnet(t, 31) }

func randBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// containerID is a fresh 64-hex ID, like a real container's.
func containerID(t testing.TB) string { return hex.EncodeToString(randBytes(t, 32)) }

// newNetwork builds a network with its own bridge (mdkt…), table, subnet and
// root, and tears it down after the test, checking that nothing is left.
func newNetwork(t testing.TB) *network.Network {
	t.Helper()
	return newNetworkIn(t, t.TempDir())
}

// newNetworkIn is newNetwork with its state under root.
func newNetworkIn(t testing.TB, root string) *network.Network {
	t.Helper()
	testkit.RequireRoot(t)
	name := "mdkt" + hex.EncodeToString(randBytes(t, 4))
	n, err := network.New(network.Config{Bridge: name, Table: name, Subnet: testSubnet(t), Root: root})
	require.NoError(t, err)
	// Registered before EnsureBridge: a half-made network is torn down too.
	t.Cleanup(func() {
		if err := n.Teardown(); err != nil {
			t.Errorf("Teardown: %v", err)
		}
		checkClean(t, n)
	})
	require.NoError(t, n.EnsureBridge())
	return n
}

// checkClean fails t if anything of n is left: bridge, table, addresses,
// endpoints.
func checkClean(t testing.TB, n *network.Network) {
	t.Helper()
	cfg := n.Config()
	if _, err := netlink.LinkByName(cfg.Bridge); err == nil {
		t.Errorf("bridge %s still exists", cfg.Bridge)
	}
	if testkit.NFTTableExists(t, cfg.Table) {
		t.Errorf("nftables table ip %s still exists", cfg.Table)
	}
	a, err := ipam.New(filepath.Join(cfg.Root, "ipam"), cfg.Subnet)
	require.NoError(t, err)
	if all, err := a.Allocations(); err != nil || len(all) != 0 {
		t.Errorf("allocations left: %v, %v", all, err)
	}
	if eps, err := n.Endpoints(); err != nil || len(eps) != 0 {
		t.Errorf("endpoints left: %v, %v", eps, err)
	}
}

// checkGone fails t if the container id still has a veth, rules, an
// address, ports or an endpoint.
func checkGone(t testing.TB, n *network.Network, id string) {
	t.Helper()
	if _, err := netlink.LinkByName(network.VethName(id)); err == nil {
		t.Errorf("veth %s of %s still exists", network.VethName(id), id)
	}
	if c := comments(t, n.Config().Table); c["minidocker ctr "+id] != 0 {
		t.Errorf("%d rules of %s left", c["minidocker ctr "+id], id)
	}
	cfg := n.Config()
	a, err := ipam.New(filepath.Join(cfg.Root, "ipam"), cfg.Subnet)
	require.NoError(t, err)
	all, err := a.Allocations()
	require.NoError(t, err)
	for addr, owner := range all {
		if owner == id {
			t.Errorf("address %s still allocated to %s", addr, id)
		}
	}
	p, err := portmap.New(filepath.Join(cfg.Root, "ports"))
	require.NoError(t, err)
	if owned, err := p.Owned(id); err != nil || len(owned) != 0 {
		t.Errorf("ports of %s left: %v, %v", id, owned, err)
	}
	if _, err := n.Endpoint(id); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Endpoint(%s) = %v, want not exist", id, err)
	}
}

// comments counts the rules of table by comment (read with the library,
// as `nft list table ip NAME` would show them).
func comments(t testing.TB, table string) map[string]int {
	t.Helper()
	out := map[string]int{}
	if !testkit.NFTTableExists(t, table) {
		return out
	}
	c, err := nftables.New()
	require.NoError(t, err)
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	require.NoError(t, err)
	for _, ch := range chains {
		if ch.Table.Name != table {
			continue
		}
		rules, err := c.GetRules(ch.Table, ch)
		require.NoError(t, err)
		for _, r := range rules {
			s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
			out[s]++
		}
	}
	return out
}

// netNS is a network namespace made by the test, standing for a container
// or for "outside". It lives while its handle is open.
type netNS struct {
	handle netns.NsHandle
	path   string
}

func newNS(t testing.TB) *netNS {
	t.Helper()
	var h netns.NsHandle
	err := onThread(func() (err error) {
		h, err = netns.New() // unshare(CLONE_NEWNET): this thread is now in it
		return err
	})
	require.NoError(t, err, "new netns")
	t.Cleanup(func() { h.Close() })
	return &netNS{handle: h, path: fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), int(h))}
}

// onThread runs fn on a locked OS thread and puts the thread back in the
// host namespace after; if that fails the thread stays locked and dies.
func onThread(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		host, err := netns.Get()
		if err != nil {
			done <- err
			return
		}
		defer host.Close()
		err = fn()
		if serr := netns.Set(host); serr != nil {
			done <- errors.Join(err, serr)
			return
		}
		runtime.UnlockOSThread()
		done <- err
	}()
	return <-done
}

// do runs fn with the calling thread in s (the host when s is nil). Sockets
// opened in fn stay in s.
func (s *netNS) do(fn func() error) error {
	if s == nil {
		return fn()
	}
	return onThread(func() error {
		if err := netns.Set(s.handle); err != nil {
			return err
		}
		return fn()
	})
}

// serveTCP listens on addr inside s and answers each line with
// "LINE from REMOTE", REMOTE being the client's address as the server sees it.
func serveTCP(t testing.TB, s *netNS, addr string) netip.AddrPort {
	t.Helper()
	var ln net.Listener
	require.NoError(t, s.do(func() (err error) { ln, err = net.Listen("tcp4", addr); return err }))
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				line, err := bufio.NewReader(conn).ReadString('\n')
				if err == nil {
					fmt.Fprintf(conn, "%s from %s\n", strings.TrimSpace(line), conn.RemoteAddr())
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// serveUDP is serveTCP for datagrams.
func serveUDP(t testing.TB, s *netNS, addr string) netip.AddrPort {
	t.Helper()
	var pc net.PacketConn
	require.NoError(t, s.do(func() (err error) { pc, err = net.ListenPacket("udp4", addr); return err }))
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(fmt.Appendf(nil, "%s from %s\n", strings.TrimSpace(string(buf[:n])), from), from)
		}
	}()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// ask sends "hello" from inside s (the host when nil) to addr and returns
// the address the server saw the request come from.
func ask(s *netNS, proto string, addr netip.AddrPort) (netip.Addr, error) {
	var conn net.Conn
	err := s.do(func() (err error) {
		conn, err = net.DialTimeout(proto+"4", addr.String(), 3*time.Second)
		return err
	})
	if err != nil {
		return netip.Addr{}, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write([]byte("hello\n")); err != nil {
		return netip.Addr{}, err
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s %s: read reply: %w", proto, addr, err)
	}
	from, ok := strings.CutPrefix(strings.TrimSpace(reply), "hello from ")
	if !ok {
		return netip.Addr{}, fmt.Errorf("%s %s: reply %q", proto, addr, reply)
	}
	ap, err := netip.ParseAddrPort(from)
	return ap.Addr(), err
}

// attach attaches a new netns to n as a fresh container ID.
func attach(t testing.TB, n *network.Network, ports ...string) (*netNS, *network.Endpoint) {
	t.Helper()
	s := newNS(t)
	var opts network.AttachOptions
	for _, p := range ports {
		ms, err := portmap.Parse(p)
		require.NoError(t, err)
		opts.Ports = append(opts.Ports, ms...)
	}
	id := containerID(t)
	ep, err := n.Attach(context.Background(), id, s.path, opts)
	require.NoError(t, err, "attach %s", id)
	t.Cleanup(func() {
		if err := n.Detach(id); err != nil {
			t.Errorf("Detach: %v", err)
		}
		checkGone(t, n, id)
	})
	return s, ep
}

// outside is a namespace reachable from the host over its own veth pair,
// standing for another machine on the host's network.
type outside struct {
	*netNS
	hostAddr netip.Addr // the host's address on the link
	addr     netip.Addr // the outside namespace's address
}

func newOutside(t testing.TB) *outside {
	t.Helper()
	s := newNS(t)
	subnet := testSubnet(t)
	o := &outside{netNS: s, hostAddr: subnet.Addr().Next(), addr: subnet.Addr().Next().Next()}
	name := "mdko" + hex.EncodeToString(randBytes(t, 4))
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}, PeerName: "eth0", PeerNamespace: netlink.NsFd(int(s.handle))}
	require.NoError(t, netlink.LinkAdd(veth), "add veth %s", name)
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(name); err == nil {
			netlink.LinkDel(l)
		}
	})
	host, err := netlink.LinkByName(name)
	require.NoError(t, err)
	require.NoError(t, netlink.AddrAdd(host, &netlink.Addr{IPNet: ipNet(o.hostAddr, 24)}))
	require.NoError(t, netlink.LinkSetUp(host))

	h, err := netlink.NewHandleAt(s.handle)
	require.NoError(t, err)
	defer h.Close()
	for _, ifname := range []string{"lo", "eth0"} {
		l, err := h.LinkByName(ifname)
		require.NoError(t, err)
		require.NoError(t, h.LinkSetUp(l))
		if ifname == "eth0" {
			require.NoError(t, h.AddrAdd(l, &netlink.Addr{IPNet: ipNet(o.addr, 24)}))
		}
	}
	return o
}

func ipNet(a netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(bits, 32)}
}
