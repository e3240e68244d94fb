package network_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"minidocker/internal/testkit"
	"minidocker/step06-networking/network"
	"minidocker/step06-networking/portmap"
)

func TestEnsureBridge(t *testing.T) {
	n := newNetwork(t)
	cfg := n.Config()

	br, err := netlink.LinkByName(cfg.Bridge)
	require.NoError(t, err)
	if br.Type() != "bridge" || br.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("%s: type %s flags %v, want an up bridge", cfg.Bridge, br.Type(), br.Attrs().Flags)
	}
	addrs, err := netlink.AddrList(br, netlink.FAMILY_V4)
	require.NoError(t, err)
	want := fmt.Sprintf("%s/%d", n.Gateway(), cfg.Subnet.Bits())
	if len(addrs) != 1 || addrs[0].IPNet.String() != want {
		t.Errorf("%s addresses = %v, want [%s]", cfg.Bridge, addrs, want)
	}
	for file, want := range map[string]string{
		"/proc/sys/net/ipv4/ip_forward":                             "1",
		"/proc/sys/net/ipv4/conf/" + cfg.Bridge + "/route_localnet": "1",
	} {
		got, err := os.ReadFile(file)
		require.NoError(t, err)
		if strings.TrimSpace(string(got)) != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}

	// Once or twice: the same six rules of the network, nothing else.
	wantRules := map[string]int{"minidocker net " + cfg.Bridge: 6}
	if diff := cmp.Diff(wantRules, comments(t, cfg.Table)); diff != "" {
		t.Errorf("rules after EnsureBridge (-want +got):\n%s", diff)
	}
	require.NoError(t, n.EnsureBridge())
	if diff := cmp.Diff(wantRules, comments(t, cfg.Table)); diff != "" {
		t.Errorf("rules after a second EnsureBridge (-want +got):\n%s", diff)
	}

	// A table made by an older version, without the loopback guard in
	// chain raw (and a book without this version's mark): EnsureBridge
	// brings the network's rules up to date.
	c, err := nftables.New()
	require.NoError(t, err)
	table := &nftables.Table{Family: nftables.TableFamilyIPv4, Name: cfg.Table}
	c.FlushChain(&nftables.Chain{Table: table, Name: "raw"})
	require.NoError(t, c.Flush())
	require.Equal(t, 5, comments(t, cfg.Table)["minidocker net "+cfg.Bridge], "rules after flushing chain raw")
	mark := filepath.Join(cfg.Root, "bridge-ensured")
	require.NoError(t, os.WriteFile(mark, fmt.Appendf(nil, "%d 1", br.Attrs().Index), 0o600))
	require.NoError(t, n.EnsureBridge())
	if diff := cmp.Diff(wantRules, comments(t, cfg.Table)); diff != "" {
		t.Errorf("rules after EnsureBridge on an old table (-want +got):\n%s", diff)
	}

	// The fast path trusts the mark only for the bridge it describes: one
	// deleted and made again bare (another interface index) gets its
	// address, its state and its rules back.
	require.NoError(t, netlink.LinkDel(br))
	require.NoError(t, netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: cfg.Bridge}}))
	require.NoError(t, n.EnsureBridge())
	br, err = netlink.LinkByName(cfg.Bridge)
	require.NoError(t, err)
	addrs, err = netlink.AddrList(br, netlink.FAMILY_V4)
	require.NoError(t, err)
	if len(addrs) != 1 || addrs[0].IPNet.String() != want || br.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("a bridge made again: addresses %v, flags %v; want [%s], up", addrs, br.Attrs().Flags, want)
	}
}

func TestAttachConfiguresContainer(t *testing.T) {
	n := newNetwork(t)
	s, ep := attach(t, n)

	if !n.Config().Subnet.Contains(ep.IP) || ep.IP == n.Gateway() || ep.Gateway != n.Gateway() {
		t.Errorf("Attach() = IP %v gateway %v, want an address of %v and gateway %v", ep.IP, ep.Gateway, n.Config().Subnet, n.Gateway())
	}
	host, err := netlink.LinkByName(ep.HostVeth)
	require.NoError(t, err, "host veth")
	br, err := netlink.LinkByName(n.Config().Bridge)
	require.NoError(t, err)
	if host.Attrs().MasterIndex != br.Attrs().Index || host.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("%s: master %d up %v, want on %s (%d) and up", ep.HostVeth, host.Attrs().MasterIndex,
			host.Attrs().Flags&net.FlagUp != 0, br.Attrs().Name, br.Attrs().Index)
	}

	h, err := netlink.NewHandleAt(s.handle)
	require.NoError(t, err)
	defer h.Close()
	lo, err := h.LinkByName("lo")
	require.NoError(t, err)
	if lo.Attrs().Flags&net.FlagUp == 0 {
		t.Error("lo is down in the container")
	}
	eth0, err := h.LinkByName("eth0")
	require.NoError(t, err)
	if got := eth0.Attrs().HardwareAddr.String(); got != ep.MAC || got != network.MACFor(ep.IP).String() {
		t.Errorf("eth0 MAC = %s, want %s", got, ep.MAC)
	}
	addrs, err := h.AddrList(eth0, netlink.FAMILY_V4)
	require.NoError(t, err)
	if want := fmt.Sprintf("%s/%d", ep.IP, ep.Subnet.Bits()); len(addrs) != 1 || addrs[0].IPNet.String() != want {
		t.Errorf("eth0 addresses = %v, want [%s]", addrs, want)
	}
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	require.NoError(t, err)
	var gw string
	for _, r := range routes {
		if r.Dst == nil || r.Dst.IP.IsUnspecified() {
			gw = r.Gw.String()
		}
	}
	if gw != n.Gateway().String() {
		t.Errorf("default route via %q, want %s (routes %v)", gw, n.Gateway(), routes)
	}

	// The recorded endpoint is what Attach returned.
	got, err := n.Endpoint(ep.ID)
	require.NoError(t, err)
	if diff := cmp.Diff(ep, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("Endpoint() mismatch (-want +got):\n%s", diff)
	}

	// Attaching the same ID again fails and leaves the first alone.
	if _, err := n.Attach(context.Background(), ep.ID, s.path, network.AttachOptions{}); !errors.Is(err, network.ErrAttached) {
		t.Errorf("second Attach(%s) = %v, want ErrAttached", ep.ID, err)
	}
	if _, err := netlink.LinkByName(ep.HostVeth); err != nil {
		t.Errorf("first attachment damaged by the second: %v", err)
	}
}

func TestTraffic(t *testing.T) {
	n := newNetwork(t)
	out := newOutside(t)
	a, epA := attach(t, n)
	b, epB := attach(t, n, "80", "8443/udp") // dynamic host ports
	tcpPort, udpPort := epB.Ports[0].HostPort, epB.Ports[1].HostPort

	serveTCP(t, b, "0.0.0.0:80")
	serveUDP(t, b, "0.0.0.0:8443")
	onGateway := serveTCP(t, nil, netip.AddrPortFrom(n.Gateway(), 0).String())
	outsideServer := serveTCP(t, out.netNS, netip.AddrPortFrom(out.addr, 0).String())

	tests := []struct {
		name     string
		from     *netNS // nil: the host
		proto    string
		to       netip.AddrPort
		wantFrom netip.Addr // the client address the server sees
	}{
		{"container to container over the bridge", a, "tcp", netip.AddrPortFrom(epB.IP, 80), epA.IP},
		{"container to the gateway", a, "tcp", onGateway, epA.IP},
		{"container to outside is masqueraded", a, "tcp", outsideServer, out.hostAddr},
		{"host to published port on 127.0.0.1", nil, "tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), tcpPort), n.Gateway()},
		{"host to published port on its link address", nil, "tcp", netip.AddrPortFrom(out.hostAddr, tcpPort), out.hostAddr},
		{"outside to published port keeps its address", out.netNS, "tcp", netip.AddrPortFrom(out.hostAddr, tcpPort), out.addr},
		{"container to a published port through the gateway", a, "tcp", netip.AddrPortFrom(n.Gateway(), tcpPort), n.Gateway()},
		{"container to its own published port (hairpin)", b, "tcp", netip.AddrPortFrom(n.Gateway(), tcpPort), n.Gateway()},
		{"udp from host to 127.0.0.1", nil, "udp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), udpPort), n.Gateway()},
		{"udp from outside", out.netNS, "udp", netip.AddrPortFrom(out.hostAddr, udpPort), out.addr},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ask(tc.from, tc.proto, tc.to)
			if err != nil {
				t.Fatalf("%s to %s: %v", tc.proto, tc.to, err)
			}
			if got != tc.wantFrom {
				t.Errorf("%s to %s: server saw the client as %v, want %v", tc.proto, tc.to, got, tc.wantFrom)
			}
		})
	}

	// After Detach the published port leads nowhere.
	require.NoError(t, n.Detach(epB.ID))
	checkGone(t, n, epB.ID)
	if got, err := ask(nil, "tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), tcpPort)); err == nil {
		t.Errorf("published port %d still answers after Detach (client seen as %v)", tcpPort, got)
	}
}

func TestPortConflicts(t *testing.T) {
	n := newNetwork(t)
	_, epA := attach(t, n, "80")
	taken := epA.Ports[0].HostPort

	// A port a host program holds.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	bound := uint16(ln.Addr().(*net.TCPAddr).Port)

	tests := []struct {
		name    string
		ports   []portmap.Mapping
		wantErr string
	}{
		{"published by another container", []portmap.Mapping{{HostPort: taken, ContainerPort: 80, Proto: "tcp"}},
			fmt.Sprintf("Bind for 0.0.0.0:%d failed: port is already allocated", taken)},
		{"bound on the host", []portmap.Mapping{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: bound, ContainerPort: 80, Proto: "tcp"}},
			fmt.Sprintf("Bind for 127.0.0.1:%d failed: port is already allocated", bound)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newNS(t)
			id := containerID(t)
			_, err := n.Attach(context.Background(), id, s.path, network.AttachOptions{Ports: tc.ports})
			if !errors.Is(err, portmap.ErrAllocated) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Attach(%v) = %v, want ErrAllocated saying %q", tc.ports, err, tc.wantErr)
			}
			checkGone(t, n, id)
		})
	}
	// The first container kept its rules.
	if got := comments(t, n.Config().Table)["minidocker ctr "+epA.ID]; got != 2 {
		t.Errorf("container A has %d rules after the failed attaches, want 2", got)
	}
}

func TestAttachFailsCleanlyAfterReservations(t *testing.T) {
	n := newNetwork(t)
	id := containerID(t)
	// A namespace path that does not exist: the failure comes after the
	// ports and the address were taken, and must give them back.
	_, err := n.Attach(context.Background(), id, "/proc/self/fd/100000", network.AttachOptions{
		Ports: []portmap.Mapping{{ContainerPort: 80, Proto: "tcp"}},
	})
	if !errors.Is(err, syscall.EBADF) && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Attach(bad netns) = %v, want a not-found error", err)
	}
	checkGone(t, n, id)

	// A cancelled context stops Attach as well, with nothing left.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := newNS(t)
	if _, err := n.Attach(ctx, id, s.path, network.AttachOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Attach(cancelled) = %v, want context.Canceled", err)
	}
	checkGone(t, n, id)
}

func TestConcurrentAttach(t *testing.T) {
	n := newNetwork(t)
	const count = 50
	nss := make([]*netNS, count)
	ids := make([]string, count)
	for i := range count {
		nss[i], ids[i] = newNS(t), containerID(t)
	}
	eps := make([]*network.Endpoint, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i := range count {
		wg.Go(func() {
			eps[i], errs[i] = n.Attach(context.Background(), ids[i], nss[i].path, network.AttachOptions{})
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for i := range count {
			wg.Go(func() { errs[i] = n.Detach(ids[i]) })
		}
		wg.Wait()
		for i, id := range ids {
			if errs[i] != nil {
				t.Errorf("Detach %d: %v", i, errs[i])
			}
			checkGone(t, n, id)
		}
	})
	seen := map[netip.Addr]int{}
	for i, ep := range eps {
		if errs[i] != nil {
			t.Errorf("Attach %d: %v", i, errs[i])
			continue
		}
		if j, dup := seen[ep.IP]; dup {
			t.Errorf("containers %d and %d both got %v", j, i, ep.IP)
		}
		seen[ep.IP] = i
	}
	// Every one of them is on the wire: the last reaches the first.
	if errs[0] == nil && errs[count-1] == nil {
		serveTCP(t, nss[0], "0.0.0.0:80")
		if _, err := ask(nss[count-1], "tcp", netip.AddrPortFrom(eps[0].IP, 80)); err != nil {
			t.Errorf("container %d to container 0: %v", count-1, err)
		}
	}
}

func TestDetachAfterSIGKILL(t *testing.T) {
	n := newNetwork(t)
	unshare, err := exec.LookPath("unshare")
	testkit.RequireFeature(t, err == nil, "unshare(1) from util-linux")

	// A "container": a process in a network namespace of its own.
	cmd := exec.Command(unshare, "--net", "sleep", "600")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// unshare has switched namespaces once sleep runs in it.
	hostNS, err := os.Readlink("/proc/self/ns/net")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ns, err := os.Readlink(network.NetNSPath(cmd.Process.Pid))
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", cmd.Process.Pid))
		return err == nil && ns != hostNS && strings.HasSuffix(exe, "sleep")
	}, 5*time.Second, 10*time.Millisecond)

	id := containerID(t)
	ms, err := portmap.Parse("80")
	require.NoError(t, err)
	ep, err := n.Attach(context.Background(), id, network.NetNSPath(cmd.Process.Pid), network.AttachOptions{Ports: ms})
	require.NoError(t, err)
	t.Cleanup(func() { n.Detach(id) })

	// Everything is killed: the container, and (as far as state goes) us.
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	cmd.Wait()

	fresh, err := network.New(n.Config())
	require.NoError(t, err)
	if _, err := fresh.Endpoint(id); err != nil {
		t.Fatalf("Endpoint(%s) from the state on disk: %v", id, err)
	}
	if got := comments(t, n.Config().Table)["minidocker ctr "+id]; got != 2 {
		t.Errorf("container has %d rules before Detach, want 2 (one published port)", got)
	}
	require.NoError(t, fresh.Detach(id))
	checkGone(t, n, id)
	// The address and the port can be had again.
	s, ep2 := attach(t, fresh, fmt.Sprintf("%d:80", ep.Ports[0].HostPort))
	_ = s
	if ep2.IP != ep.IP {
		t.Errorf("after Detach the next container got %v, want the freed %v", ep2.IP, ep.IP)
	}
}

func TestTeardownSharedTable(t *testing.T) {
	first := newNetwork(t)
	cfg := first.Config()
	cfg.Bridge = "mdkt" + randHex(t)
	cfg.Subnet = testSubnet(t)
	second, err := network.New(cfg) // same table, same root, another bridge
	require.NoError(t, err)
	t.Cleanup(func() { second.Teardown() })
	require.NoError(t, second.EnsureBridge())
	_, ep := attach(t, second, "80")

	require.NoError(t, first.Teardown())
	got := comments(t, cfg.Table)
	if got["minidocker net "+first.Config().Bridge] != 0 || got["minidocker net "+cfg.Bridge] != 6 {
		t.Errorf("after the first Teardown rules are %v, want only the second network's", got)
	}
	// A container is on the second: its Teardown leaves it all in place.
	require.ErrorIs(t, second.Teardown(), network.ErrInUse)
	_, err = netlink.LinkByName(cfg.Bridge)
	require.NoError(t, err, "Teardown deleted a bridge in use")
	require.Equal(t, 6, comments(t, cfg.Table)["minidocker net "+cfg.Bridge], "Teardown deleted the rules of a network in use")
	require.NoError(t, second.Detach(ep.ID))
	require.NoError(t, second.Teardown())
	if testkit.NFTTableExists(t, cfg.Table) {
		t.Errorf("table %s left after the last network's Teardown", cfg.Table)
	}
	if _, err := netlink.LinkByName(cfg.Bridge); err == nil {
		t.Errorf("bridge %s left after Teardown", cfg.Bridge)
	}
}

// TestTeardownStale: a container that died without a Detach (its veth went
// with its namespace) does not keep the network up: Teardown detaches it
// (its address is free again) and deletes the bridge.
func TestTeardownStale(t *testing.T) {
	testkit.RequireRoot(t)
	root := t.TempDir()
	name := "mdkt" + randHex(t)
	n, err := network.New(network.Config{Bridge: name, Table: name, Subnet: testSubnet(t), Root: root})
	require.NoError(t, err)
	t.Cleanup(func() {
		n.Teardown()
		checkClean(t, n)
	})
	require.NoError(t, n.EnsureBridge())
	s := newNS(t)
	id := containerID(t)
	ep, err := n.Attach(context.Background(), id, s.path, network.AttachOptions{})
	require.NoError(t, err)
	require.ErrorIs(t, n.Teardown(), network.ErrInUse)
	// The container dies: when its namespace goes, the kernel deletes the
	// veth pair with it. Here (the namespace is the test's) we delete it.
	veth, err := netlink.LinkByName(ep.HostVeth)
	require.NoError(t, err)
	require.NoError(t, netlink.LinkDel(veth))
	require.NoError(t, n.Teardown())
	if _, err := n.Endpoint(id); err == nil {
		t.Errorf("the stale endpoint %s is still recorded after Teardown", id)
	}
	if _, err := netlink.LinkByName(name); err == nil {
		t.Errorf("bridge %s left after Teardown", name)
	}
}

func TestLoopbackUp(t *testing.T) {
	testkit.RequireRoot(t)
	s := newNS(t)
	require.NoError(t, network.LoopbackUp(s.path))
	serveTCP(t, s, "127.0.0.1:80")
	got, err := ask(s, "tcp", netip.MustParseAddrPort("127.0.0.1:80"))
	if err != nil || got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("inside a --network none namespace, 127.0.0.1:80 = %v, %v", got, err)
	}
}

func TestDefaultSubnet(t *testing.T) {
	testkit.RequireRoot(t)
	n, err := network.New(network.Config{Root: t.TempDir(), Bridge: "mdkt" + randHex(t)})
	require.NoError(t, err)
	routes, err := network.HostRoutes()
	require.NoError(t, err)
	want, err := network.PickSubnet(network.DefaultPools(), routes)
	require.NoError(t, err)
	if got := n.Config().Subnet; got != want {
		t.Errorf("default subnet = %v, want %v (first default pool clear of %v)", got, want, routes)
	}
}

func randHex(t testing.TB) string { return fmt.Sprintf("%x", randBytes(t, 4)) }
