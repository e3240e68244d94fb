package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"minidocker/internal/flock"
	"minidocker/step06-networking/ipam"
	"minidocker/step06-networking/portmap"
)

// Network is one bridge network, built from a Config. Its methods may be
// called from many goroutines and processes at once: every change of state
// under Root holds a flock.
type Network struct {
	cfg     Config
	gateway netip.Addr
	ipam    *ipam.Allocator
	ports   *portmap.Allocator
}

// New returns the Network of cfg, filling in the defaults. Nothing changes
// on the host until EnsureBridge.
func New(cfg Config) (*Network, error) {
	if cfg.Root == "" {
		return nil, errors.New("network: Config.Root is required")
	}
	if cfg.Bridge == "" {
		cfg.Bridge = DefaultBridge
	}
	if cfg.Table == "" {
		cfg.Table = DefaultTable
	}
	if !cfg.Subnet.IsValid() {
		subnet, err := defaultSubnet(cfg.Bridge)
		if err != nil {
			return nil, fmt.Errorf("network %s: %w", cfg.Bridge, err)
		}
		cfg.Subnet = subnet
	}
	cfg.Subnet = cfg.Subnet.Masked()
	a, err := ipam.New(filepath.Join(cfg.Root, "ipam"), cfg.Subnet)
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", cfg.Bridge, err)
	}
	p, err := portmap.New(filepath.Join(cfg.Root, "ports"))
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", cfg.Bridge, err)
	}
	if err := os.MkdirAll(filepath.Join(cfg.Root, "endpoints", cfg.Bridge), 0o700); err != nil {
		return nil, fmt.Errorf("network %s: %w", cfg.Bridge, err)
	}
	return &Network{cfg: cfg, gateway: ipam.Gateway(cfg.Subnet), ipam: a, ports: p}, nil
}

// defaultSubnet is the subnet already on an existing bridge, else the first
// default pool that no host route uses.
func defaultSubnet(bridge string) (netip.Prefix, error) {
	if link, err := netlink.LinkByName(bridge); err == nil {
		addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
		if err == nil && len(addrs) > 0 {
			ones, _ := addrs[0].Mask.Size()
			if a, ok := netip.AddrFromSlice(addrs[0].IP.To4()); ok {
				return netip.PrefixFrom(a, ones).Masked(), nil
			}
		}
	}
	used, err := HostRoutes()
	if err != nil {
		return netip.Prefix{}, err
	}
	return PickSubnet(DefaultPools(), used)
}

// HostRoutes returns the destinations of the host's IPv4 routes (main table).
func HostRoutes() ([]netip.Prefix, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var out []netip.Prefix
	for _, r := range routes {
		if r.Dst == nil {
			continue // the default route
		}
		ones, _ := r.Dst.Mask.Size()
		if a, ok := netip.AddrFromSlice(r.Dst.IP.To4()); ok {
			out = append(out, netip.PrefixFrom(a, ones))
		}
	}
	return out, nil
}

// Config returns the network's configuration with the defaults filled in.
func (n *Network) Config() Config { return n.cfg }

// Gateway returns the bridge's address, the containers' default route.
func (n *Network) Gateway() netip.Addr { return n.gateway }

// EnsureBridge makes the host side of the network exist, and is a no-op for
// the parts that already do: the bridge with the gateway address, up; IP
// forwarding on (net.ipv4.ip_forward=1, left on afterwards, as Docker
// leaves it); route_localnet on the bridge; the nftables table, its chains
// and this network's rules. Call Teardown to undo it.
func (n *Network) EnsureBridge() error {
	unlock, err := flock.Lock(filepath.Join(n.cfg.Root, "network.lock"))
	if err != nil {
		return fmt.Errorf("ensure bridge %s: %w", n.cfg.Bridge, err)
	}
	defer unlock()
	if n.ensured() {
		return nil
	}
	if err := n.ensureBridge(); err != nil {
		return fmt.Errorf("ensure bridge %s: %w", n.cfg.Bridge, err)
	}
	// Remember which bridge was set up, and by which version of the rules:
	// its interface index, which the kernel never gives twice while the
	// host runs.
	link, err := netlink.LinkByName(n.cfg.Bridge)
	if err == nil {
		err = os.WriteFile(n.ensuredFile(), fmt.Appendf(nil, "%d %d", link.Attrs().Index, rulesVersion), 0o600)
	}
	if err != nil {
		return fmt.Errorf("ensure bridge %s: %w", n.cfg.Bridge, err)
	}
	return nil
}

// rulesVersion numbers the set of rules ensureRules makes: a version that
// adds one (as the loopback guard was added) bumps it, and every bridge set
// up by an older one gets the whole set-up once more.
const rulesVersion = 2

// ensured is EnsureBridge's fast path, checked once per run instead of the
// whole set-up (1.2 ms: the address, two sysctls, reading the nft table):
// the bridge this book set up, with this version's rules, is still there
// (same interface index) and up. A bridge deleted and made again by
// someone else has another index and gets the whole set-up. (Rules flushed
// by hand under a bridge that stays, as `nft flush ruleset` does, are not
// noticed until the bridge is made again: Docker does not notice either.)
func (n *Network) ensured() bool {
	data, err := os.ReadFile(n.ensuredFile())
	if err != nil {
		return false
	}
	var index, version int
	if _, err := fmt.Sscanf(string(data), "%d %d", &index, &version); err != nil || version != rulesVersion {
		return false
	}
	link, err := netlink.LinkByName(n.cfg.Bridge)
	return err == nil && link.Attrs().Index == index && link.Attrs().Flags&net.FlagUp != 0 && link.Type() == "bridge"
}

func (n *Network) ensuredFile() string { return filepath.Join(n.cfg.Root, "bridge-ensured") }

func (n *Network) ensureBridge() error {
	link, err := netlink.LinkByName(n.cfg.Bridge)
	if _, notFound := errors.AsType[netlink.LinkNotFoundError](err); notFound {
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.cfg.Bridge}}
		if err := netlink.LinkAdd(br); err != nil {
			return fmt.Errorf("create bridge: %w", err)
		}
		link, err = netlink.LinkByName(n.cfg.Bridge)
	}
	if err != nil {
		return err
	}
	if link.Type() != "bridge" {
		return fmt.Errorf("%s is a %s: %w", n.cfg.Bridge, link.Type(), ErrNotBridge)
	}
	gw := &netlink.Addr{IPNet: &net.IPNet{IP: n.gateway.AsSlice(), Mask: net.CIDRMask(n.cfg.Subnet.Bits(), 32)}}
	if err := netlink.AddrReplace(link, gw); err != nil {
		return fmt.Errorf("add address %s: %w", gw.IPNet, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("set up: %w", err)
	}
	// Routing between the bridge and the host's other links.
	if err := writeSysctl("net/ipv4/ip_forward", "1"); err != nil {
		return err
	}
	// Let packets with a 127.0.0.0/8 source leave through the bridge after
	// the output chain DNATs 127.0.0.1:8080 to a container (see doc.go).
	if err := writeSysctl("net/ipv4/conf/"+n.cfg.Bridge+"/route_localnet", "1"); err != nil {
		return err
	}
	return n.ensureRules()
}

func writeSysctl(name, value string) error {
	path := filepath.Join("/proc/sys", name)
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", strings.ReplaceAll(name, "/", "."), value, err)
	}
	return nil
}

// Attach connects the container whose network namespace is at nsPath (see
// NetNSPath) to the network, as id:
//
//  1. reserve the published ports (opts.Ports) and allocate an address;
//  2. record the Endpoint under Root, so Detach can undo all this later;
//  3. create the veth pair: the host end, VethName(id), on the bridge, the
//     peer created directly inside the container's namespace as eth0;
//  4. inside: lo up, eth0 up with the address and the MAC, default route
//     via the gateway;
//  5. add the DNAT rules of the published ports.
//
// Call EnsureBridge first, and Detach when the container is gone. On error
// nothing is left behind.
func (n *Network) Attach(ctx context.Context, id, nsPath string, opts AttachOptions) (_ *Endpoint, err error) {
	if err := checkID(id); err != nil {
		return nil, fmt.Errorf("attach %q: %w", id, err)
	}
	if _, err := os.Stat(n.endpointFile(id)); err == nil {
		return nil, fmt.Errorf("attach %s to %s: %w", id, n.cfg.Bridge, ErrAttached)
	}
	// Shared: attaches run side by side, and Teardown (exclusive) sees a
	// container either not yet recorded or with its veth plugged.
	unlock, err := flock.LockShared(filepath.Join(n.cfg.Root, "network.lock"))
	if err != nil {
		return nil, fmt.Errorf("attach %s to %s: %w", id, n.cfg.Bridge, err)
	}
	defer unlock()
	bridge, err := netlink.LinkByName(n.cfg.Bridge)
	if _, notFound := errors.AsType[netlink.LinkNotFoundError](err); notFound {
		return nil, fmt.Errorf("attach %s to %s: %w", id, n.cfg.Bridge, ErrNoBridge)
	}
	if err != nil {
		return nil, fmt.Errorf("attach %s to %s: bridge: %w", id, n.cfg.Bridge, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("attach %s to %s: %w", id, n.cfg.Bridge, err), n.Detach(id))
		}
	}()
	ports, err := n.ports.Reserve(id, opts.Ports)
	if err != nil {
		return nil, err
	}
	ip, err := n.ipam.Allocate(id)
	if err != nil {
		return nil, err
	}
	iface := opts.Interface
	if iface == "" {
		iface = ContainerInterface
	}
	ep := &Endpoint{
		ID: id, Bridge: n.cfg.Bridge, IP: ip, Subnet: n.cfg.Subnet, Gateway: n.gateway,
		MAC: MACFor(ip).String(), HostVeth: hostVeth(id, iface), Ports: ports,
		Names: opts.Names, Interface: iface,
	}
	if err := n.saveEndpoint(ep); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := n.plugVeth(ep, bridge, nsPath); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := n.addPortRules(ep); err != nil {
		return nil, err
	}
	return ep, nil
}

// plugVeth creates the pair and configures the container's end.
func (n *Network) plugVeth(ep *Endpoint, bridge netlink.Link, nsPath string) error {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer ns.Close()

	// exercise:begin 06-veth Create the veth pair in one netlink request: the host end ep.HostVeth up on the bridge, the peer ContainerInterface with MACFor(ep.IP) created straight in ns; hairpin on; then, through a netlink handle in ns: lo up, the address, eth0 up, the default route via ep.Gateway
	mac := MACFor(ep.IP)
	veth := &netlink.Veth{
		// Up from the start, like `ip link add … up`: one request less.
		LinkAttrs:        netlink.LinkAttrs{Name: ep.HostVeth, MasterIndex: bridge.Attrs().Index, Flags: net.FlagUp},
		PeerName:         ep.Interface,
		PeerHardwareAddr: mac,
		PeerNamespace:    netlink.NsFd(int(ns)),
	}
	if err := netlink.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %s/%s: %w", ep.HostVeth, ep.Interface, err)
	}
	// Hairpin: a container may reach its own published port through the
	// host, and the bridge must then send the frame back out the same port.
	if err := netlink.LinkSetHairpin(veth, true); err != nil {
		return fmt.Errorf("hairpin %s: %w", ep.HostVeth, err)
	}

	// A netlink socket opened inside the container's namespace: no need to
	// move this thread there with setns(2).
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", nsPath, err)
	}
	defer h.Close()
	if err := linkUp(h, "lo"); err != nil {
		return err
	}
	eth0, err := h.LinkByName(ep.Interface)
	if err != nil {
		return fmt.Errorf("find %s in %s: %w", ep.Interface, nsPath, err)
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: ep.IP.AsSlice(), Mask: net.CIDRMask(ep.Subnet.Bits(), 32)}}
	if err := h.AddrAdd(eth0, addr); err != nil {
		return fmt.Errorf("add address %s to %s: %w", addr.IPNet, ep.Interface, err)
	}
	if err := h.LinkSetUp(eth0); err != nil {
		return fmt.Errorf("set %s up: %w", ep.Interface, err)
	}
	// An internal network gives no way out: no default route (and the
	// forward chain drops what would leave anyway). Only the first
	// network's interface routes: a network connected later adds its
	// subnet, not a second default route.
	if n.cfg.Internal || ep.Interface != ContainerInterface {
		return nil
	}
	route := &netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: ep.Gateway.AsSlice()}
	if err := h.RouteAdd(route); err != nil {
		return fmt.Errorf("add default route via %s: %w", ep.Gateway, err)
	}
	return nil
	// exercise:end
}

func linkUp(h *netlink.Handle, name string) error {
	link, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", name, err)
	}
	return nil
}

// LoopbackUp sets lo up in the network namespace at nsPath: all that
// `--network none` gives a container.
func LoopbackUp(nsPath string) error {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return fmt.Errorf("loopback up: open netns %s: %w", nsPath, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("loopback up: netlink in %s: %w", nsPath, err)
	}
	defer h.Close()
	if err := linkUp(h, "lo"); err != nil {
		return fmt.Errorf("loopback up in %s: %w", nsPath, err)
	}
	return nil
}

// Detach undoes Attach for id: deletes the host end of the veth pair (the
// kernel deletes eth0 with it), the container's nftables rules, its address
// and its ports. It needs only the state under Root, so it works after the
// container and minidocker were killed; parts already gone are skipped, so
// it may run twice. It is Forget and Unplug at once.
func (n *Network) Detach(id string) error {
	if err := checkID(id); err != nil {
		return fmt.Errorf("detach %q: %w", id, err)
	}
	// Deleting a veth takes the kernel 15 ms or more (unregistering a
	// device waits for RCU grace periods); the rest runs meanwhile.
	veth := VethName(id)
	if ep, err := n.Endpoint(id); err == nil && ep.HostVeth != "" {
		veth = ep.HostVeth
	}
	vethErr := make(chan error, 1)
	go func() { vethErr <- deleteLink(veth) }()
	err := n.forget(id)
	if err := errors.Join(err, <-vethErr); err != nil {
		return fmt.Errorf("detach %s from %s: %w", id, n.cfg.Bridge, err)
	}
	return nil
}

// Forget is the fast half of Detach, for a container that is gone (its
// processes all dead): its rules, address, ports and endpoint record, but
// not its veth. The address may go to the next container at once: the old
// veth sits in a dead namespace, and the kernel deletes the pair when that
// namespace goes. Call Unplug after, when nobody waits (final's monitor does
// it once it told the exit code).
func (n *Network) Forget(id string) error {
	if err := checkID(id); err != nil {
		return fmt.Errorf("detach %q: %w", id, err)
	}
	if err := n.forget(id); err != nil {
		return fmt.Errorf("detach %s from %s: %w", id, n.cfg.Bridge, err)
	}
	return nil
}

// Unplug is the slow half of Detach: it deletes the container's veth if it
// is still there (15 ms or more: the kernel waits for RCU grace periods).
// Only eth0's pair is found by the ID alone, and only when it is plugged
// into this network's bridge; the pairs of networks connected later go
// with the container's namespace.
func (n *Network) Unplug(id string) error {
	if err := checkID(id); err != nil {
		return fmt.Errorf("unplug %q: %w", id, err)
	}
	link, err := netlink.LinkByName(VethName(id))
	if err != nil {
		return nil // gone already
	}
	if bridge, err := netlink.LinkByName(n.cfg.Bridge); err == nil && link.Attrs().MasterIndex != bridge.Attrs().Index {
		return nil // on another network's bridge: that network's to unplug
	}
	return deleteLink(VethName(id))
}

func (n *Network) forget(id string) error {
	var errs []error
	// The endpoint file says whether there are ports to unpublish; without
	// it (a crash before it was written) every place is searched.
	ep, err := n.Endpoint(id)
	if err != nil || len(ep.Ports) > 0 {
		errs = append(errs, n.deleteRules(containerTag(id)), n.ports.Release(id))
	}
	errs = append(errs, n.ipam.Release(id))
	if err := os.Remove(n.endpointFile(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Endpoints returns the containers attached to the network, as recorded
// under Root.
func (n *Network) Endpoints() ([]Endpoint, error) {
	dir := filepath.Join(n.cfg.Root, "endpoints", n.cfg.Bridge)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list endpoints of %s: %w", n.cfg.Bridge, err)
	}
	var eps []Endpoint
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		ep, err := n.Endpoint(id)
		if err != nil {
			return nil, err
		}
		eps = append(eps, *ep)
	}
	return eps, nil
}

// Endpoint returns the recorded endpoint of id; errors.Is(err,
// fs.ErrNotExist) when id is not attached.
func (n *Network) Endpoint(id string) (*Endpoint, error) {
	data, err := os.ReadFile(n.endpointFile(id))
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", id, err)
	}
	var ep Endpoint
	if err := json.Unmarshal(data, &ep); err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", id, err)
	}
	return &ep, nil
}

// Teardown deletes the network: this network's rules, the nftables table
// when no other network has rules in it, and the bridge. ip_forward stays
// 1. The bridge is shared by every data root and every process that uses
// it, so it goes only when nobody is on it: if a container (of any data
// root) still has its veth on the bridge, Teardown changes nothing and
// returns ErrInUse. A recorded endpoint whose veth is gone is stale (its
// container died without a Detach: a crash, a data root deleted whole) and
// is detached first.
func (n *Network) Teardown() error {
	unlock, err := flock.Lock(filepath.Join(n.cfg.Root, "network.lock"))
	if err != nil {
		return fmt.Errorf("teardown %s: %w", n.cfg.Bridge, err)
	}
	defer unlock()

	eps, err := n.Endpoints()
	if err != nil {
		return fmt.Errorf("teardown %s: %w", n.cfg.Bridge, err)
	}
	var errs []error
	live := 0
	for _, ep := range eps {
		veth := ep.HostVeth
		if veth == "" {
			veth = VethName(ep.ID)
		}
		if _, err := netlink.LinkByName(veth); err == nil {
			live++
			continue
		}
		errs = append(errs, n.Detach(ep.ID))
	}
	if live > 0 {
		errs = append(errs, fmt.Errorf("%d container(s) still attached: %w", live, ErrInUse))
	} else {
		if err := os.Remove(n.ensuredFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
		// Deleting the bridge waits for RCU grace periods (30 ms or more
		// on a busy machine); the rules go meanwhile.
		linkErr := make(chan error, 1)
		go func() { linkErr <- deleteLink(n.cfg.Bridge) }()
		if n.cfg.OwnTable {
			errs = append(errs, n.deleteTable())
		} else {
			errs = append(errs, n.deleteRules(networkTag(n.cfg.Bridge)), n.deleteTableIfUnused())
		}
		errs = append(errs, <-linkErr)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("teardown %s: %w", n.cfg.Bridge, err)
	}
	return nil
}

// deleteLink deletes the link called name; one already gone is no error
// (a veth goes with the namespace of its peer when the container dies).
func deleteLink(name string) error {
	link, err := netlink.LinkByName(name)
	if _, notFound := errors.AsType[netlink.LinkNotFoundError](err); notFound {
		return nil
	}
	if err == nil {
		err = netlink.LinkDel(link)
	}
	if err != nil && !errors.Is(err, unix.ENODEV) { // gone meanwhile
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return nil
}

func (n *Network) endpointFile(id string) string {
	return filepath.Join(n.cfg.Root, "endpoints", n.cfg.Bridge, id+".json")
}

func (n *Network) saveEndpoint(ep *Endpoint) error {
	data, err := json.MarshalIndent(ep, "", "  ")
	if err != nil {
		return err
	}
	file := n.endpointFile(ep.ID)
	if err := os.WriteFile(file+".tmp", data, 0o600); err != nil {
		return err
	}
	return os.Rename(file+".tmp", file)
}

func checkID(id string) error {
	if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return ErrInvalidID
	}
	return nil
}

// FreeInterface is the first of eth0, eth1, ... that the network namespace
// at nsPath has no link of: the container's end for a network connected
// to a running container.
func FreeInterface(nsPath string) (string, error) {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return "", fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return "", fmt.Errorf("netlink in %s: %w", nsPath, err)
	}
	defer h.Close()
	for i := 0; ; i++ {
		name := fmt.Sprintf("eth%d", i)
		if _, err := h.LinkByName(name); err != nil {
			if _, notFound := errors.AsType[netlink.LinkNotFoundError](err); notFound {
				return name, nil
			}
			return "", fmt.Errorf("find %s in %s: %w", name, nsPath, err)
		}
	}
}
