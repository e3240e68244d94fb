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
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/rootfs"
	"minidocker/step06-networking/network"
	"minidocker/step06-networking/portmap"
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
	Net   *network.Network // nil unless Mode is Bridge
	dns   []string
}

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
	var ep *network.Endpoint
	// Twice at most: the last container of another data root may tear the
	// bridge down between our EnsureBridge and our Attach.
	for try := 0; ; try++ {
		if err := p.Net.EnsureBridge(); err != nil {
			return nil, err
		}
		var err error
		ep, err = p.Net.Attach(ctx, id, network.NetNSPath(pid), network.AttachOptions{Ports: p.Ports})
		if errors.Is(err, network.ErrNoBridge) && try == 0 {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	// The file is bind-mounted by inode: writing it in place (not by
	// rename) is what the container sees.
	hosts, err := network.HostsFile(ep.IP, names...)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "hosts"), hosts, 0o644)
	}
	if err != nil {
		return nil, errors.Join(err, p.Net.Detach(id))
	}
	return ep, nil
}

// Release disconnects the container: after it exited, or after a crash
// (it needs only the state on disk).
func (p *Plan) Release(id string) error {
	if p.Net == nil {
		return nil
	}
	return p.Net.Detach(id)
}

// Forget and Unplug are Release in two halves (see network.Forget): the
// fast one, which frees the address and ports, and then, when nobody waits,
// the veth's deletion.
func (p *Plan) Forget(id string) error {
	if p.Net == nil {
		return nil
	}
	return p.Net.Forget(id)
}

// Unplug: see Forget.
func (p *Plan) Unplug(id string) error {
	if p.Net == nil {
		return nil
	}
	return p.Net.Unplug(id)
}
