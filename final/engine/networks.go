package engine

// User-defined networks (docker network create, ls, inspect, rm, prune,
// connect, disconnect; run --network NAME --network-alias A): each one a
// bridge of its own, br-<12 hex of its ID>, with its own subnet and nft
// table, isolated from the other bridges, where containers resolve each
// other's names through the embedded DNS server (step 6's connect and
// resolver packages).
//
//	<root>/networks/<id>.json    the network, as docker network inspect shows it
//
// A network is an object of its data root, as a Docker network is of its
// daemon: two roots that each create "app" get two networks with two IDs,
// two bridges and two subnets, and their containers never meet. The bridge
// and its book (addresses, endpoints and the names on them) are the host's,
// under network.HostRoot(bridge), like the default bridge's; the bridge's
// name comes from the ID, so no two roots ever share one.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/internal/atomicfile"
	"minidocker/internal/flock"
	"minidocker/internal/names"
	"minidocker/step06-networking/connect"
	"minidocker/step06-networking/ipam"
	"minidocker/step06-networking/network"
	"minidocker/step06-networking/portmap"
)

// Network is a network as docker network inspect shows it (its JSON is
// the Engine API's).
type Network struct {
	Name       string
	ID         string `json:"Id"`
	Created    time.Time
	Scope      string
	Driver     string
	EnableIPv6 bool
	IPAM       NetworkIPAM
	Internal   bool
	Attachable bool
	Ingress    bool
	Options    map[string]string
	Labels     map[string]string
	// Containers are the running containers on it, by ID (filled in by
	// InspectNetwork, not stored).
	Containers map[string]NetworkContainer
}

// NetworkIPAM is a network's address management: its subnet and gateway.
type NetworkIPAM struct {
	Driver  string
	Options map[string]string
	Config  []NetworkIPAMConfig
}

// NetworkIPAMConfig is one subnet of a network.
type NetworkIPAMConfig struct {
	Subnet  string `json:",omitempty"`
	Gateway string `json:",omitempty"`
}

// NetworkContainer is one container on a network, as inspect shows it.
type NetworkContainer struct {
	Name        string
	EndpointID  string
	MacAddress  string
	IPv4Address string
	IPv6Address string
}

// NetworkCreateOptions are docker network create's options.
type NetworkCreateOptions struct {
	Driver   string // "" or "bridge"
	Subnet   string // "" for one picked from the default pools
	Gateway  string // "" for the subnet's first address
	Internal bool
}

// bridgeOption is the option docker network inspect shows the bridge's name in.
const bridgeOption = "com.docker.network.bridge.name"

// builtinNetworks are the networks every data root has, as docker network
// ls lists them: the default bridge, host and none (driver null).
var builtinNetworks = []struct{ name, driver string }{
	{connect.Bridge, "bridge"}, {connect.Host, "host"}, {connect.None, "null"},
}

func isBuiltinNetwork(name string) bool {
	return slices.ContainsFunc(builtinNetworks, func(b struct{ name, driver string }) bool { return b.name == name })
}

// isUserNetwork says whether a --network value names a user network
// rather than a mode (bridge, host, none, container:...).
func isUserNetwork(mode string) bool {
	return mode != "" && mode != "default" && !isBuiltinNetwork(mode) && !strings.Contains(mode, ":")
}

func (e *Engine) networksDir() string { return filepath.Join(e.Root, "networks") }

func (e *Engine) lockNetworks() (func(), error) { return lockDir(e.networksDir()) }

// attachingToNetworks holds the networks' lock shared while a container
// joins user networks (a start, until it is recorded running; a connect):
// rm and prune hold it exclusive, so they never tear a bridge down under
// an attach that would make it again, and they see the container running
// when they look. A no-op for a plan without user networks.
func (e *Engine) attachingToNetworks(p *connect.Plan) (func(), error) {
	if p != nil && !p.Resolves() {
		return func() {}, nil
	}
	if err := os.MkdirAll(e.networksDir(), 0o700); err != nil {
		return nil, err
	}
	return flock.LockShared(filepath.Join(e.networksDir(), ".lock"))
}

// builtinNetwork is bridge, host or none, with an ID of its own to the
// data root that stays the same.
func (e *Engine) builtinNetwork(name, driver string) Network {
	sum := sha256.Sum256([]byte("minidocker network " + e.Root + " " + name))
	n := Network{Name: name, ID: hex.EncodeToString(sum[:]), Scope: "local", Driver: driver,
		IPAM:    NetworkIPAM{Driver: "default", Options: map[string]string{}, Config: []NetworkIPAMConfig{}},
		Options: map[string]string{}, Labels: map[string]string{}, Containers: map[string]NetworkContainer{}}
	if name == connect.Bridge {
		bridge := e.bridge
		if bridge == "" {
			bridge = network.DefaultBridge
		}
		n.Options[bridgeOption] = bridge
		if e.subnet.IsValid() {
			n.IPAM.Config = append(n.IPAM.Config, NetworkIPAMConfig{Subnet: e.subnet.String(), Gateway: ipam.Gateway(e.subnet).String()})
		}
	}
	return n
}

// userNetworks are the data root's user networks, by name.
func (e *Engine) userNetworks() ([]Network, error) {
	entries, err := os.ReadDir(e.networksDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Network
	for _, d := range entries {
		id, ok := strings.CutSuffix(d.Name(), ".json")
		if !ok {
			continue
		}
		n, err := e.readNetwork(id)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Network) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (e *Engine) readNetwork(id string) (Network, error) {
	var n Network
	data, err := os.ReadFile(filepath.Join(e.networksDir(), id+".json"))
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(data, &n); err != nil {
		return n, fmt.Errorf("network %s: %w", id, err)
	}
	return n, nil
}

// Networks is docker network ls: the built-in ones, then the user's by name.
func (e *Engine) Networks() ([]Network, error) {
	var out []Network
	for _, b := range builtinNetworks {
		out = append(out, e.builtinNetwork(b.name, b.driver))
	}
	user, err := e.userNetworks()
	return append(out, user...), err
}

// network finds a network by name, full ID or unique ID prefix, as dockerd
// does: "network app not found" (NotFound) when none.
func (e *Engine) network(ref string) (Network, error) {
	all, err := e.Networks()
	if err != nil {
		return Network{}, err
	}
	for _, n := range all {
		if n.Name == ref || n.ID == ref {
			return n, nil
		}
	}
	var found []Network
	for _, n := range all {
		if ref != "" && strings.HasPrefix(n.ID, ref) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Network{}, errdefs.NotFound(fmt.Errorf("network %s not found", ref))
	}
	return Network{}, errdefs.InvalidParameter(fmt.Errorf("network %s is ambiguous (%d matches found based on ID prefix)", ref, len(found)))
}

// CreateNetwork is docker network create: a record in the data root and,
// at once (as dockerd makes it), the bridge with its subnet and rules.
func (e *Engine) CreateNetwork(name string, o NetworkCreateOptions) (Network, error) {
	if o.Driver != "" && o.Driver != "bridge" {
		return Network{}, errdefs.NotFound(fmt.Errorf("plugin %q not found", o.Driver))
	}
	if !names.Valid(name) {
		return Network{}, errdefs.InvalidParameter(fmt.Errorf("invalid network name %q, only %s are allowed", name, names.Chars))
	}
	if isBuiltinNetwork(name) || name == "default" {
		return Network{}, errdefs.Conflict(fmt.Errorf("%s is a pre-defined network and cannot be created", name))
	}
	var subnet netip.Prefix
	if o.Subnet != "" {
		p, err := netip.ParsePrefix(o.Subnet)
		if err != nil || !p.Addr().Is4() {
			return Network{}, errdefs.InvalidParameter(fmt.Errorf("invalid subnet %s : invalid CIDR address: %s", o.Subnet, o.Subnet))
		}
		if p.Bits() > 30 {
			return Network{}, errdefs.InvalidParameter(fmt.Errorf("invalid subnet %s: minidocker needs a /30 or larger", o.Subnet))
		}
		subnet = p.Masked()
	}
	if o.Gateway != "" {
		gw, err := netip.ParseAddr(o.Gateway)
		switch {
		case err != nil:
			return Network{}, errdefs.InvalidParameter(fmt.Errorf("invalid gateway address %s", o.Gateway))
		case !subnet.IsValid():
			return Network{}, errdefs.InvalidParameter(errors.New("gateway address requires a subnet (--subnet)"))
		case gw != ipam.Gateway(subnet):
			// Our bridge holds the subnet's first address, as the step's
			// IPAM reserves it (see the lesson).
			return Network{}, errdefs.InvalidParameter(fmt.Errorf("invalid gateway %s: minidocker's gateway is the subnet's first address, %s", gw, ipam.Gateway(subnet)))
		}
	}
	unlock, err := e.lockNetworks()
	if err != nil {
		return Network{}, err
	}
	defer unlock()
	existing, err := e.userNetworks()
	if err != nil {
		return Network{}, err
	}
	if slices.ContainsFunc(existing, func(n Network) bool { return n.Name == name }) {
		return Network{}, errdefs.Conflict(fmt.Errorf("network with name %s already exists", name))
	}
	// The subnet is chosen, and the bridge made (its route then marks the
	// subnet taken), under one lock per host: two creates never pick the
	// same pool.
	if err := os.MkdirAll(filepath.Join(network.ExecRoot(), "network"), 0o700); err != nil {
		return Network{}, err
	}
	unlockPool, err := flock.Lock(filepath.Join(network.ExecRoot(), "network", "pools.lock"))
	if err != nil {
		return Network{}, err
	}
	defer unlockPool()
	used, err := network.HostRoutes()
	if err != nil {
		return Network{}, err
	}
	for _, n := range existing {
		for _, c := range n.IPAM.Config {
			if p, err := netip.ParsePrefix(c.Subnet); err == nil {
				used = append(used, p)
			}
		}
	}
	if subnet.IsValid() {
		if slices.ContainsFunc(used, func(u netip.Prefix) bool { return u.Bits() > 0 && u.Overlaps(subnet) }) {
			return Network{}, errdefs.Conflict(errors.New("invalid pool request: Pool overlaps with other one on this address space"))
		}
	} else if subnet, err = network.PickSubnet(network.DefaultPools()[1:], used); err != nil {
		// Not the first pool, 172.17.0.0/16: the default bridge's, as it
		// is docker0's, wanted by it even before it is up.
		return Network{}, errdefs.Conflict(err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	id := hex.EncodeToString(b)
	n := Network{Name: name, ID: id, Created: time.Now().UTC(), Scope: "local", Driver: "bridge",
		IPAM: NetworkIPAM{Driver: "default", Options: map[string]string{},
			Config: []NetworkIPAMConfig{{Subnet: subnet.String(), Gateway: ipam.Gateway(subnet).String()}}},
		Internal: o.Internal, Options: map[string]string{bridgeOption: network.UserBridge(id)}, Labels: map[string]string{}}
	net, err := e.userNet(n, nil).Network()
	if err == nil {
		err = net.EnsureBridge()
	}
	if err != nil {
		if net != nil {
			err = errors.Join(err, net.Teardown())
		}
		return Network{}, fmt.Errorf("create network %s: %w", name, err)
	}
	data, _ := json.MarshalIndent(n, "", "  ")
	if err := atomicfile.Write(filepath.Join(e.networksDir(), id+".json"), data, 0o600); err != nil {
		return Network{}, errors.Join(fmt.Errorf("create network %s: %w", name, err), net.Teardown())
	}
	return n, nil
}

// userNet is the network n as step 6's connect package takes it, with the
// names a container answers to there.
func (e *Engine) userNet(n Network, names []string) connect.UserNet {
	var subnet netip.Prefix
	if len(n.IPAM.Config) > 0 {
		subnet, _ = netip.ParsePrefix(n.IPAM.Config[0].Subnet)
	}
	defaultBridge := e.bridge
	if defaultBridge == "" {
		defaultBridge = network.DefaultBridge
	}
	return connect.UserNet{Bridge: network.UserBridge(n.ID), Subnet: subnet, Internal: n.Internal,
		IsolateFrom: []string{"br-*", defaultBridge}, Names: names}
}

// endpointNames are the names c answers to on a network: its name, its
// aliases there and its short ID (as Docker's DNS answers them).
func endpointNames(c *state.Container, ep state.NetworkEndpoint) []string {
	return slices.Compact(append(append([]string{c.Name}, ep.Aliases...), c.ShortID()))
}

// running are the running containers on the network id.
func (e *Engine) runningOn(id string) ([]*state.Container, error) {
	list, err := e.containers.List()
	if err != nil {
		return nil, err
	}
	var out []*state.Container
	for _, c := range list {
		if alive(c) && slices.ContainsFunc(c.Config.Networks, func(ep state.NetworkEndpoint) bool { return ep.NetworkID == id }) {
			out = append(out, c)
		}
	}
	return out, nil
}

// InspectNetwork is docker network inspect, with the running containers on it.
func (e *Engine) InspectNetwork(ref string) (Network, error) {
	n, err := e.network(ref)
	if err != nil || isBuiltinNetwork(n.Name) {
		return n, err
	}
	n.Containers = map[string]NetworkContainer{}
	cs, err := e.runningOn(n.ID)
	if err != nil {
		return n, err
	}
	net, err := e.userNet(n, nil).Network()
	if err != nil {
		return n, err
	}
	for _, c := range cs {
		nc := NetworkContainer{Name: c.Name, IPv6Address: ""}
		if ep, err := net.Endpoint(c.ID); err == nil {
			nc.EndpointID, nc.MacAddress = ep.HostVeth, ep.MAC
			nc.IPv4Address = netip.PrefixFrom(ep.IP, ep.Subnet.Bits()).String()
		}
		n.Containers[c.ID] = nc
	}
	return n, nil
}

// RemoveNetwork is docker network rm: refused for the built-in networks
// and while a running container is on it; the bridge, its rules and its
// book go with the record.
func (e *Engine) RemoveNetwork(ref string) error {
	unlock, err := e.lockNetworks()
	if err != nil {
		return err
	}
	defer unlock()
	return e.removeNetwork(ref)
}

func (e *Engine) removeNetwork(ref string) error {
	n, err := e.network(ref)
	if err != nil {
		return err
	}
	if isBuiltinNetwork(n.Name) {
		return errdefs.Conflict(fmt.Errorf("%s is a pre-defined network and cannot be removed", n.Name))
	}
	inUse := errdefs.Conflict(fmt.Errorf("error while removing network: network %s id %s has active endpoints", n.Name, n.ID))
	if cs, err := e.runningOn(n.ID); err != nil {
		return err
	} else if len(cs) > 0 {
		return inUse
	}
	net, err := e.userNet(n, nil).Network()
	if err != nil {
		return err
	}
	if err := net.Teardown(); errors.Is(err, network.ErrInUse) {
		return inUse
	} else if err != nil {
		return fmt.Errorf("remove network %s: %w", n.Name, err)
	}
	if err := os.Remove(filepath.Join(e.networksDir(), n.ID+".json")); err != nil {
		return err
	}
	return os.RemoveAll(network.HostRoot(network.UserBridge(n.ID)))
}

// PruneNetworks is docker network prune: every user network no running
// container is on. It returns their names.
func (e *Engine) PruneNetworks() ([]string, error) {
	unlock, err := e.lockNetworks()
	if err != nil {
		return nil, err
	}
	defer unlock()
	nets, err := e.userNetworks()
	if err != nil {
		return nil, err
	}
	return removeUnused(nets, func(n Network) string { return n.Name }, func(n Network) error { return e.removeNetwork(n.ID) })
}

// ConnectNetwork is docker network connect: the container is on the
// network from now on (its record), and at once if it runs (a new ethN).
func (e *Engine) ConnectNetwork(netRef, ref string, aliases []string) error {
	n, err := e.network(netRef)
	if err != nil {
		return err
	}
	if isBuiltinNetwork(n.Name) {
		return errdefs.InvalidParameter(fmt.Errorf("minidocker connects user-defined networks only, not %s", n.Name))
	}
	c, unlock, err := e.lockContainer(ref)
	if err != nil {
		return err
	}
	defer unlock()
	switch c.Config.Network {
	case connect.Host:
		return errdefs.Conflict(errors.New("container cannot be disconnected from host network or connected to host network"))
	case connect.None:
		return errdefs.Conflict(errors.New("container cannot be connected to multiple networks with one of the networks in private (none) mode"))
	}
	if slices.ContainsFunc(c.Config.Networks, func(ep state.NetworkEndpoint) bool { return ep.NetworkID == n.ID }) {
		return errdefs.Conflict(fmt.Errorf("endpoint with name %s already exists in network %s", c.Name, n.Name))
	}
	ep := state.NetworkEndpoint{NetworkID: n.ID, Name: n.Name, Aliases: aliases}
	unlockNets, err := e.attachingToNetworks(nil)
	if err != nil {
		return err
	}
	defer unlockNets()
	if _, err := e.readNetwork(n.ID); err != nil { // removed meanwhile
		return errdefs.NotFound(fmt.Errorf("network %s not found", n.Name))
	}
	if alive(c) {
		if _, err := connect.Connect(context.Background(), e.userNet(n, endpointNames(c, ep)), c.ID, c.State.Pid); err != nil {
			return fmt.Errorf("connect %s to %s: %w", c.Name, n.Name, err)
		}
	}
	return e.containers.Update(c.ID, func(c *state.Container) error {
		c.Config.Networks = append(c.Config.Networks, ep)
		return nil
	})
}

// DisconnectNetwork is docker network disconnect.
func (e *Engine) DisconnectNetwork(netRef, ref string) error {
	n, err := e.network(netRef)
	if err != nil {
		return err
	}
	c, unlock, err := e.lockContainer(ref)
	if err != nil {
		return err
	}
	defer unlock()
	i := slices.IndexFunc(c.Config.Networks, func(ep state.NetworkEndpoint) bool { return ep.NetworkID == n.ID })
	if i < 0 {
		return errdefs.Conflict(fmt.Errorf("container %s is not connected to network %s", c.ID, n.Name))
	}
	if alive(c) {
		if err := connect.Disconnect(e.userNet(n, nil), c.ID); err != nil {
			return fmt.Errorf("disconnect %s from %s: %w", c.Name, n.Name, err)
		}
	}
	return e.containers.Update(c.ID, func(c *state.Container) error {
		c.Config.Networks = slices.Delete(c.Config.Networks, i, i+1)
		return nil
	})
}

// userPlan is the network plan of a container on user networks; a network
// removed since is "network app not found" (as dockerd says at start).
func (e *Engine) userPlan(c *state.Container, ports []portmap.Mapping) (*connect.Plan, error) {
	if len(c.Config.Networks) == 0 {
		// Disconnected from every network: only lo, as with none.
		return connect.NewPlan(connect.None, "", netip.Prefix{}, nil, c.Config.DNS)
	}
	nets, err := e.userNets(c)
	if err != nil {
		return nil, err
	}
	p, err := connect.NewUserPlan(nets, ports, c.Config.DNS)
	if err != nil {
		return nil, err
	}
	e.dnsUpstream(p, c)
	return p, nil
}

// userNets are the user networks of c's record, as step 6 takes them; a
// network removed since is "network app not found" (as dockerd says at
// start).
func (e *Engine) userNets(c *state.Container) ([]connect.UserNet, error) {
	var nets []connect.UserNet
	for _, ep := range c.Config.Networks {
		n, err := e.readNetwork(ep.NetworkID)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errdefs.NotFound(fmt.Errorf("network %s not found", ep.Name))
		}
		if err != nil {
			return nil, err
		}
		nets = append(nets, e.userNet(n, endpointNames(c, ep)))
	}
	return nets, nil
}

// connectPlan adds to the plan of a container on the default bridge the
// user networks it was connected to (docker network connect).
func (e *Engine) connectPlan(p *connect.Plan, c *state.Container) (*connect.Plan, error) {
	if len(c.Config.Networks) == 0 {
		return p, nil
	}
	nets, err := e.userNets(c)
	if err == nil {
		err = p.Connect(nets...)
	}
	if err != nil {
		return nil, err
	}
	e.dnsUpstream(p, c)
	return p, nil
}

// dnsUpstream points the embedded DNS server at $MINIDOCKER_DNS_UPSTREAM
// when set, unless --dns says otherwise or the network is internal.
func (e *Engine) dnsUpstream(p *connect.Plan, c *state.Container) {
	if v := os.Getenv(dnsUpstreamEnv); v != "" && len(c.Config.DNS) == 0 && p.Upstream == nil {
		p.Upstream = strings.Split(v, ",")
	}
}

// checkUserNetwork is Validate's part for --network NAME: the network
// exists; --network-alias only there, as dockerd says.
func (e *Engine) checkUserNetwork(o RunOptions) error {
	if !isUserNetwork(o.Network) {
		if len(o.Aliases) > 0 {
			return errdefs.InvalidParameter(errors.New("network-scoped alias is supported only for containers in user defined networks"))
		}
		return nil
	}
	_, err := e.network(o.Network)
	return err
}

// joinUserNetwork records, at create, the user network the container is on.
func (e *Engine) joinUserNetwork(c *state.Container, o RunOptions) error {
	if !isUserNetwork(o.Network) {
		return nil
	}
	n, err := e.network(o.Network)
	if err != nil {
		return err
	}
	c.Config.Networks = []state.NetworkEndpoint{{NetworkID: n.ID, Name: n.Name, Aliases: o.Aliases}}
	return nil
}

// currentPlan is the network plan of container id as its record says now
// (network connect and disconnect change it while it runs); plan when the
// record cannot be read.
func (e *Engine) currentPlan(id string, plan *connect.Plan) *connect.Plan {
	c, err := e.containers.Get(id)
	if err != nil {
		return plan
	}
	if p, err := e.plan(c); err == nil {
		return p
	}
	return plan
}

// dnsUpstreamEnv overrides the embedded DNS server's upstream servers
// ("host:port,..."): tests point it at a server of their own on loopback.
const dnsUpstreamEnv = "MINIDOCKER_DNS_UPSTREAM"

// bridgesOf are the bridges of the user networks the container id is on
// now: what its embedded DNS server answers from.
func (e *Engine) bridgesOf(id string) []string {
	c, err := e.containers.Get(id)
	if err != nil {
		return nil
	}
	var out []string
	for _, ep := range c.Config.Networks {
		out = append(out, network.UserBridge(ep.NetworkID))
	}
	return out
}
