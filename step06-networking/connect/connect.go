// Package connect gives one container its network, the way docker run's
// --network, -p and --name do: it is the glue between package network
// (bridge, veth, NAT) and a container being started, used by step 6's demo
// and by final, so neither copies the other.
//
// The order matters, and is the lesson's:
//
//  1. Before the container exists (Plan, then Files): parse -p; write the
//     container's /etc/hosts, /etc/hostname and /etc/resolv.conf in its
//     directory, to be bind-mounted over the image's (they are files of
//     the container, not of the image: Docker does the same).
//  2. After the init was cloned into its new network namespace, and before
//     it runs the user's program (Attach, from namespaces.Options.Created):
//     the veth pair, the address, the route, the DNAT rules. Then the
//     container's address goes into its /etc/hosts.
//  3. When the container is gone (Release): the veth, the rules, the
//     address and the ports.
package connect

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/rootfs"
	"minidocker/step06-networking/network"
	"minidocker/step06-networking/portmap"
	"minidocker/step06-networking/resolver"
)

// The network modes of --network.
const (
	Bridge = "bridge" // the default: a veth on the bridge, NAT
	None   = "none"   // a network namespace with only lo
	Host   = "host"   // the host's own network namespace
)

// Flags are the values of docker run's network flags (--network, -p, --dns),
// plus the bridge and its subnet (dockerd's --bridge and --bip) so tests and
// learners can make their own. The caller declares the flags (the demos
// with step06-networking/netflags; Network
// defaults to Bridge, Bridge to network.DefaultBridge; check each --dns
// with CheckDNS); Plan checks the rest.
type Flags struct {
	Network string
	Publish []string
	Bridge  string
	Subnet  string
	DNS     []string
}

// CheckDNS checks one --dns value, with Docker's message.
func CheckDNS(v string) error {
	if _, err := netip.ParseAddr(v); err != nil {
		return fmt.Errorf("%s is not an ip address", v)
	}
	return nil
}

// Plan is what a container asked of the network, checked.
type Plan struct {
	Mode  string
	Ports []portmap.Mapping
	Net   *network.Network // nil unless Mode is Bridge or user networks
	dns   []string
	// user says Net is a user network, where the container answers to
	// names (none on the default bridge); extra are the user networks
	// connected beyond Net (eth1, eth2...).
	user  bool
	names []string
	extra []userNet
	// Upstream are the servers the embedded DNS forwards other names to
	// ("host:port"); nil: the host's resolvers (its /etc/resolv.conf), or
	// --dns's. NewUserPlan sets it; a caller may replace it.
	Upstream []string
}

// UserNet is one user-defined network (docker network create) a container
// is on, as the caller stored it, and the names the container answers to
// there: its name, its aliases (--network-alias) and its short ID.
type UserNet struct {
	Bridge      string
	Subnet      netip.Prefix
	Internal    bool
	IsolateFrom []string
	Names       []string
}

type userNet struct {
	net   *network.Network
	names []string
}

// Network is the network of u, its state per host under
// network.HostRoot(u.Bridge), its rules in a table of its own.
func (u UserNet) Network() (*network.Network, error) {
	return network.New(network.Config{Bridge: u.Bridge, Subnet: u.Subnet, Root: network.HostRoot(u.Bridge),
		Table: UserTable(u.Bridge), OwnTable: true, Internal: u.Internal, IsolateFrom: u.IsolateFrom})
}

// UserTable is the nftables table of a user network's bridge.
func UserTable(bridge string) string { return "minidocker-" + bridge }

// NewUserPlan is the plan of a container on user networks: the first is
// its eth0 and default route, the others eth1, eth2...; names resolve
// through the embedded DNS server (ServeDNS), which forwards other names
// to dns (--dns) or, when none, to the host's resolvers; on an internal
// first network nothing is forwarded.
func NewUserPlan(nets []UserNet, ports []portmap.Mapping, dns []string) (*Plan, error) {
	if len(nets) == 0 {
		return nil, errors.New("user networks: none")
	}
	n, err := nets[0].Network()
	if err != nil {
		return nil, err
	}
	p := &Plan{Mode: Bridge, Ports: ports, dns: dns, Net: n, user: true, names: nets[0].Names}
	if err := p.Connect(nets[1:]...); err != nil {
		return nil, err
	}
	for _, s := range dns {
		if a, err := netip.ParseAddr(s); err == nil {
			p.Upstream = append(p.Upstream, netip.AddrPortFrom(a, 53).String())
		}
	}
	if nets[0].Internal {
		p.Upstream = []string{}
	}
	return p, nil
}

// Connect adds user networks to a bridge or user plan, beyond its first
// network: the container gets eth1, eth2... on them (docker network
// connect), and the embedded DNS server.
func (p *Plan) Connect(nets ...UserNet) error {
	if len(nets) > 0 && p.Net == nil {
		return fmt.Errorf("a container on network %s cannot be connected to other networks", p.Mode)
	}
	for _, u := range nets {
		n, err := u.Network()
		if err != nil {
			return err
		}
		p.extra = append(p.extra, userNet{n, u.Names})
	}
	return nil
}

// Resolves says whether the container resolves names through the
// embedded DNS server: when it is on a user network.
func (p *Plan) Resolves() bool { return p.user || len(p.extra) > 0 }

// Plan checks the flags, before anything is made. A bridge network keeps
// its state per host, in network.HostRoot(bridge), whatever the data root:
// two data roots on one bridge share its addresses and ports.
func (f *Flags) Plan() (*Plan, error) {
	var ports []portmap.Mapping
	for _, spec := range f.Publish {
		ms, err := portmap.Parse(spec)
		if err != nil {
			return nil, err
		}
		ports = append(ports, ms...)
	}
	var subnet netip.Prefix
	if f.Subnet != "" {
		var err error
		if subnet, err = netip.ParsePrefix(f.Subnet); err != nil {
			return nil, fmt.Errorf("invalid argument %q for \"--subnet\" flag: %w", f.Subnet, err)
		}
	}
	return NewPlan(f.Network, f.Bridge, subnet, ports, f.DNS)
}

// NewPlan is Plan from values already parsed: the network mode, the
// bridge ("" for the default) and its subnet (zero for the default), the
// ports to publish and the DNS servers (nil for the host's).
func NewPlan(mode, bridge string, subnet netip.Prefix, ports []portmap.Mapping, dns []string) (*Plan, error) {
	p := &Plan{Mode: mode, Ports: ports, dns: dns}
	switch mode {
	case Bridge:
	case None, Host:
		if len(ports) > 0 {
			// Docker drops them with a warning; an error teaches better.
			return nil, fmt.Errorf("published ports need the bridge network, not --network %s", mode)
		}
		return p, nil
	default:
		return nil, fmt.Errorf("network %s not found (the networks are bridge, none and host)", mode)
	}
	if bridge == "" {
		bridge = network.DefaultBridge
	}
	cfg := network.Config{Bridge: bridge, Subnet: subnet, Root: network.HostRoot(bridge)}
	if bridge != network.DefaultBridge {
		// A bridge of one's own gets a table of its own: its teardown
		// never waits for, or touches, the default network's rules.
		cfg.Table = bridge
	}
	n, err := network.New(cfg)
	if err != nil {
		return nil, err
	}
	p.Net = n
	return p, nil
}

// Files writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into dir and returns the bind mounts that put them in
// place, to pass with the volumes. names are the container's host name
// and any other name (--name) it answers to in its own /etc/hosts.
func (p *Plan) Files(dir string, names ...string) ([]rootfs.Mount, error) {
	if len(names) == 0 {
		return nil, errors.New("container files: no host name")
	}
	// Checked before anything is written.
	hostname, err := network.HostnameFile(names[0])
	if err != nil {
		return nil, err
	}
	hosts, err := network.HostsFile(netip.Addr{}, names...)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	hostConf, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if len(p.dns) > 0 {
		// --dns replaces the host's nameservers; search and options stay.
		var kept []string
		for line := range strings.Lines(string(hostConf)) {
			if !strings.HasPrefix(strings.TrimSpace(line), "nameserver") {
				kept = append(kept, line)
			}
		}
		hostConf = []byte(strings.Join(kept, ""))
	}
	resolv := network.ResolvConf(hostConf, p.dns)
	if p.Resolves() {
		resolv = resolver.ResolvConf(hostConf) // the embedded DNS server
	}
	if p.Mode == Host {
		resolv = hostConf // the host's network: its resolvers work as they are
	}
	files := map[string][]byte{"hostname": hostname, "hosts": hosts, "resolv.conf": resolv}
	var mounts []rootfs.Mount
	for _, name := range []string{"hostname", "hosts", "resolv.conf"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return nil, fmt.Errorf("write the container's /etc/%s: %w", name, err)
		}
		mounts = append(mounts, rootfs.Mount{Source: path, Destination: "/etc/" + name})
	}
	return mounts, nil
}

// Namespaces sets the namespaces the mode needs in cfg: host shares the
// host's network namespace.
func (p *Plan) Namespaces(cfg *namespaces.Config) {
	if p.Mode != Host {
		return
	}
	var keep []namespaces.Namespace
	for _, ns := range cfg.Namespaces {
		if ns != namespaces.Net {
			keep = append(keep, ns)
		}
	}
	cfg.Namespaces = keep
}

// Attach connects the container whose init is pid, once it is in its own
// network namespace: on the bridge network its veth, address, route and
// published ports, and its address in the /etc/hosts that Files wrote in
// dir. It returns the endpoint (nil for none and host). On error nothing
// is left of it.
func (p *Plan) Attach(ctx context.Context, id string, pid int, dir string, names ...string) (*network.Endpoint, error) {
	if p.Net == nil {
		return nil, nil // none: lo is up already (the init's own set-up); host: nothing to do
	}
	ep, err := attach(ctx, p.Net, id, pid, network.AttachOptions{Ports: p.Ports, Names: p.names})
	for i, u := range p.extra {
		if err != nil {
			break
		}
		// Ports are published on the first network only.
		_, err = attach(ctx, u.net, id, pid, network.AttachOptions{Names: u.names, Interface: fmt.Sprintf("eth%d", i+1)})
	}
	if err != nil {
		return nil, errors.Join(err, p.Release(id))
	}
	// The file is bind-mounted by inode: writing it in place (not by
	// rename) is what the container sees.
	hosts, err := network.HostsFile(ep.IP, names...)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "hosts"), hosts, 0o644)
	}
	if err != nil {
		return nil, errors.Join(err, p.Release(id))
	}
	return ep, nil
}

// attach attaches the container to n, making the bridge first if needed.
func attach(ctx context.Context, n *network.Network, id string, pid int, opts network.AttachOptions) (*network.Endpoint, error) {
	// Twice at most: the last container of another data root may tear the
	// bridge down between our EnsureBridge and our Attach.
	for try := 0; ; try++ {
		if err := n.EnsureBridge(); err != nil {
			return nil, err
		}
		ep, err := n.Attach(ctx, id, network.NetNSPath(pid), opts)
		if errors.Is(err, network.ErrNoBridge) && try == 0 {
			continue
		}
		if errors.Is(err, network.ErrAttached) && try == 0 && stale(n, id) {
			// A record left by a run that ended without a Detach (its
			// monitor killed): its veth went with its namespace.
			if err := n.Detach(id); err != nil {
				return nil, err
			}
			continue
		}
		return ep, err
	}
}

// stale says whether id's endpoint on n is a leftover: its veth is gone.
func stale(n *network.Network, id string) bool {
	ep, err := n.Endpoint(id)
	if err != nil {
		return false
	}
	_, err = net.InterfaceByName(ep.HostVeth)
	return err != nil
}

// Connect attaches the running container (init pid) to the user network
// u, on the first free ethN of its namespace (docker network connect).
func Connect(ctx context.Context, u UserNet, id string, pid int) (*network.Endpoint, error) {
	n, err := u.Network()
	if err != nil {
		return nil, err
	}
	iface, err := network.FreeInterface(network.NetNSPath(pid))
	if err != nil {
		return nil, err
	}
	return attach(ctx, n, id, pid, network.AttachOptions{Names: u.Names, Interface: iface})
}

// Disconnect detaches the container from the user network u (docker
// network disconnect): its veth goes, with the interface inside.
func Disconnect(u UserNet, id string) error {
	n, err := u.Network()
	if err != nil {
		return err
	}
	return n.Detach(id)
}

// Release disconnects the container: after it exited, or after a crash
// (it needs only the state on disk).
func (p *Plan) Release(id string) error {
	if p.Net == nil {
		return nil
	}
	var errs []error
	for _, n := range p.networks() {
		errs = append(errs, n.Detach(id))
	}
	return errors.Join(errs...)
}

// Forget and Unplug are Release in two halves (see network.Forget): the
// fast one, which frees the address and ports, and then, when nobody waits,
// the veth's deletion.
func (p *Plan) Forget(id string) error {
	if p.Net == nil {
		return nil
	}
	var errs []error
	for _, n := range p.networks() {
		errs = append(errs, n.Forget(id))
	}
	return errors.Join(errs...)
}

// Unplug: see Forget.
func (p *Plan) Unplug(id string) error {
	if p.Net == nil {
		return nil
	}
	var errs []error
	for _, n := range p.networks() {
		errs = append(errs, n.Unplug(id))
	}
	return errors.Join(errs...)
}

// networks are the networks of the plan: the first one, then those
// connected beyond it.
func (p *Plan) networks() []*network.Network {
	out := []*network.Network{p.Net}
	for _, u := range p.extra {
		out = append(out, u.net)
	}
	return out
}

// ServeDNS starts the container's embedded DNS server (package resolver)
// inside the network namespace of its init (pid), at 127.0.0.11:53, for a
// container on user networks (nil, nil otherwise). bridges says, at each
// query, which bridges the container is on now (networks come and go with
// docker network connect and disconnect); their books give the answers.
// Close the server when the container is gone.
func (p *Plan) ServeDNS(pid int, bridges func() []string) (*resolver.Server, error) {
	if !p.Resolves() {
		return nil, nil
	}
	upstream := p.Upstream
	if upstream == nil {
		host, err := os.ReadFile("/etc/resolv.conf")
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		upstream = resolver.Upstreams(host)
	}
	var dir network.Directory
	s := resolver.New(resolver.Config{
		Lookup:   func(name string) []netip.Addr { return dir.Lookup(bridges(), name) },
		Reverse:  func(a netip.Addr) string { return dir.Reverse(bridges(), a) },
		Upstream: upstream,
	})
	pc, l, err := resolver.ListenIn(network.NetNSPath(pid), resolver.Address+":53")
	if err != nil {
		return nil, err
	}
	if err := s.Serve(pc, l); err != nil {
		return nil, err
	}
	return s, nil
}
