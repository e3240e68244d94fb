package apiclient

import (
	"encoding/json"
	"net/netip"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"minidocker/final/engine"
)

// fromNetwork is the API's network as the engine's: the same fields under
// the same JSON names, so it goes through JSON.
func fromNetwork(v any) (engine.Network, error) {
	var n engine.Network
	data, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(data, &n)
	}
	return n, err
}

// CreateNetwork is POST /networks/create.
func (c *Client) CreateNetwork(name string, o engine.NetworkCreateOptions) (engine.Network, error) {
	opts := client.NetworkCreateOptions{Driver: o.Driver, Internal: o.Internal}
	if o.Subnet != "" || o.Gateway != "" {
		cfg := network.IPAMConfig{}
		if o.Subnet != "" {
			p, err := netip.ParsePrefix(o.Subnet)
			if err != nil {
				return engine.Network{}, err
			}
			cfg.Subnet = p
		}
		if o.Gateway != "" {
			a, err := netip.ParseAddr(o.Gateway)
			if err != nil {
				return engine.Network{}, err
			}
			cfg.Gateway = a
		}
		opts.IPAM = &network.IPAM{Config: []network.IPAMConfig{cfg}}
	}
	res, err := c.api.NetworkCreate(c.ctx, name, opts)
	if err != nil {
		return engine.Network{}, kind(err)
	}
	return c.InspectNetwork(res.ID)
}

// Networks is GET /networks.
func (c *Client) Networks() ([]engine.Network, error) {
	res, err := c.api.NetworkList(c.ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, kind(err)
	}
	var out []engine.Network
	for _, s := range res.Items {
		n, err := fromNetwork(s)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// InspectNetwork is GET /networks/{id}.
func (c *Client) InspectNetwork(ref string) (engine.Network, error) {
	res, err := c.api.NetworkInspect(c.ctx, ref, client.NetworkInspectOptions{})
	if err != nil {
		return engine.Network{}, kind(err)
	}
	return fromNetwork(res.Network)
}

// RemoveNetwork is DELETE /networks/{id}.
func (c *Client) RemoveNetwork(ref string) error {
	_, err := c.api.NetworkRemove(c.ctx, ref, client.NetworkRemoveOptions{})
	return kind(err)
}

// PruneNetworks is POST /networks/prune.
func (c *Client) PruneNetworks() ([]string, error) {
	res, err := c.api.NetworkPrune(c.ctx, client.NetworkPruneOptions{})
	if err != nil {
		return nil, kind(err)
	}
	return res.Report.NetworksDeleted, nil
}

// ConnectNetwork is POST /networks/{id}/connect.
func (c *Client) ConnectNetwork(net, container string, aliases []string) error {
	_, err := c.api.NetworkConnect(c.ctx, net, client.NetworkConnectOptions{Container: container,
		EndpointConfig: &network.EndpointSettings{Aliases: aliases}})
	return kind(err)
}

// DisconnectNetwork is POST /networks/{id}/disconnect.
func (c *Client) DisconnectNetwork(net, container string) error {
	_, err := c.api.NetworkDisconnect(c.ctx, net, client.NetworkDisconnectOptions{Container: container})
	return kind(err)
}

// networkingConfig is NetworkingConfig of a create: the --network-alias
// values on the container's network, as the docker CLI sends them.
func networkingConfig(o engine.RunOptions) *network.NetworkingConfig {
	if len(o.Aliases) == 0 {
		return nil
	}
	return &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{o.Network: {Aliases: o.Aliases}}}
}
