// Package netflags declares step 6's network flags (--network, -p, --dns,
// --bridge, --subnet) into a demo's flag.FlagSet.
package netflags

import (
	"flag"

	"minidocker/internal/stepcli"
	"minidocker/step06-networking/connect"
	"minidocker/step06-networking/network"
)

// Declare declares this step's network flags into f: --network,
// -p/--publish, --dns, --bridge and --subnet.
func Declare(fs *flag.FlagSet, f *connect.Flags) {
	fs.StringVar(&f.Network, "network", connect.Bridge, "connect the container to a `network`: bridge, none or host")
	fs.Var((*stepcli.Strings)(&f.Publish), "p", "publish a container's port to the host: `[HOSTIP:][HOSTPORT:]PORT[/PROTO]` (repeatable)")
	fs.Var((*stepcli.Strings)(&f.Publish), "publish", "same as -p")
	fs.Func("dns", "a DNS `server` for the container's resolv.conf (repeatable; default: the host's, minus loopback ones)", func(v string) error {
		if err := connect.CheckDNS(v); err != nil {
			return err
		}
		f.DNS = append(f.DNS, v)
		return nil
	})
	fs.StringVar(&f.Bridge, "bridge", network.DefaultBridge, "the bridge of the bridge network (`name`)")
	fs.StringVar(&f.Subnet, "subnet", "", "the bridge network's `CIDR` (default: the bridge's, or the first free private /16)")
}
