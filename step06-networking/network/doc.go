// Package network puts containers on a bridge, the way Docker's default
// "bridge" network does: each container gets a veth pair, an address from
// the bridge's subnet, a default route through the host, masquerading to
// reach the world and DNAT rules for its published ports.
//
// # The idea
//
// A bridge (minidocker0, like docker0) is a virtual switch on the host that
// holds the subnet's first address, 172.17.0.1 by default: the gateway. A
// veth pair is a virtual cable; one end (mdk…) is plugged into the bridge,
// the other is created inside the container's network namespace and named
// eth0. The container gets the next free address (package ipam) and a
// default route via the gateway, so everything it sends that is not for
// its neighbours goes to the host, which routes it on (net.ipv4.ip_forward=1).
//
// nftables (our own table, `ip minidocker`, never anyone else's) then does
// the address translation, in five base chains:
//
//   - raw (a filter chain on the prerouting hook, priority raw, the first
//     to see a packet): drop what comes in on the bridge for 127.0.0.0/8,
//     the host's loopback (see below);
//   - postrouting: masquerade what leaves the subnet by any other link,
//     so the world sees the host's address and the replies find their way
//     back;
//   - prerouting: for each published port, `fib daddr type local … dnat to
//     172.17.0.2:80`, so a packet for any host address on port 8080 goes to
//     the container instead;
//   - output: the same rules for connections the host itself opens, since
//     those never pass prerouting;
//   - forward: accept what enters or leaves by the bridge.
//
// Every rule carries a comment naming its network ("minidocker net
// minidocker0") or its container ("minidocker ctr <id>"), so Detach removes
// exactly one container's rules, and Teardown deletes the table when no
// network is left in it. `nft list table ip minidocker` shows them all.
//
// Reaching a published port on 127.0.0.1 from the host needs more: after
// the output chain rewrites 127.0.0.1:8080 to 172.17.0.2:80 the packet would
// leave by the bridge with source 127.0.0.1, which the kernel refuses to
// route off loopback and the container could not answer anyway. We chose
// the kernel-only way, the one Docker takes with --userland-proxy=false:
// net.ipv4.conf.minidocker0.route_localnet=1 lets such packets out, and a
// postrouting rule masquerades a 127.0.0.0/8 source leaving by the bridge
// into the gateway's address. The alternative, a userland proxy like
// docker-proxy listening on 127.0.0.1:8080 and copying bytes, needs a
// process per port that outlives the CLI; the rules need nothing running,
// and keep the DNAT story in one place.
//
// route_localnet has a price: it also makes the kernel accept packets for
// 127.0.0.0/8 that come *in* on the bridge. A container that routes
// 127.0.0.1 via the gateway (with CAP_NET_ADMIN in its namespace) or writes
// such a frame itself (CAP_NET_RAW) then reaches every service the host
// binds to 127.0.0.1 only, a local registry, a database, an admin API. The
// raw chain drops them: `iifname "minidocker0" ip daddr 127.0.0.0/8 drop`,
// the rule kube-proxy added for the same hole (CVE-2020-8558, as "block
// incoming localnet connections" in the input chain). Ours sits in
// prerouting at priority raw, before routing and before conntrack, where
// the replies to the host's own 127.0.0.1 -> published port connections
// still carry the gateway's address (conntrack rewrites them to 127.0.0.1
// later, at dstnat), so they pass; an input chain (priority filter) would
// see them as 127.0.0.1 and need kube-proxy's `ct state` exceptions.
//
// A user-defined network (docker network create) is the same Network on a
// bridge of its own (UserBridge: br-<12 hex of its ID>), with a table of
// its own (Config.OwnTable: Teardown deletes it in one request) and two
// more kinds of rule in its forward chain, before the accepts: drops of
// what crosses to or from the other bridges (Config.IsolateFrom, "br-*"
// being nft's wildcard), and with Config.Internal drops of anything
// entering or leaving the bridge, no masquerade and no default route. A
// drop in any table's chain is final, where an accept only ends its own
// chain: the isolation holds whatever the other tables accept. Each
// endpoint records the names its container answers to there
// (AttachOptions.Names); Directory reads them for the network's DNS server
// (package resolver).
//
// Modes `--network none` (only lo: LoopbackUp) and `--network host` (no
// namespace at all) are the caller's; HostsFile and ResolvConf make the
// container's /etc/hosts and /etc/resolv.conf in every mode.
//
// # The syscalls, in order
//
// EnsureBridge (once; every step is skipped when already done):
//
//  1. RTM_NEWLINK kind bridge "minidocker0"; RTM_NEWADDR 172.17.0.1/16; up.
//  2. write 1 to /proc/sys/net/ipv4/ip_forward and to
//     /proc/sys/net/ipv4/conf/minidocker0/route_localnet. ip_forward stays
//     1 afterwards, as Docker leaves it: other things may rely on it by then.
//  3. one nftables batch (a transaction): NEWTABLE ip minidocker, NEWCHAIN
//     ×5, NEWRULE ×6 for the network (an older table with fewer rules
//     of the network has them replaced in the same batch).
//
// Attach, per container:
//
//  1. portmap.Reserve (flock, bind test) and ipam.Allocate (flock).
//  2. write <root>/endpoints/<bridge>/<id>.json: from now on Detach can undo.
//  3. RTM_NEWLINK kind veth "mdk…", peer "eth0" with IFLA_NET_NS_FD = the
//     container's namespace and IFLA_ADDRESS 02:42:ac:11:00:02; master
//     minidocker0, hairpin on, up.
//  4. inside the namespace, through a netlink socket opened there: lo up;
//     RTM_NEWADDR 172.17.0.2/16 on eth0; eth0 up; RTM_NEWROUTE default via
//     172.17.0.1.
//  5. one nftables batch: two DNAT rules per published port.
//
// Detach: RTM_DELLINK of the host end (the kernel deletes eth0 with it),
// DELRULE of the container's rules, then release the ports and the address
// and delete the endpoint file. Everything it needs is the ID and the files
// under Root, so it works after the container, the monitor and the CLI were
// all SIGKILLed; a veth whose namespace died is already gone.
//
// # What goes wrong
//
// Another firewall on the host may drop forwarded packets before ours
// accepts them: a base chain with policy drop in any table (iptables
// FORWARD DROP, as Docker itself sets it, ufw, firewalld) wins over our
// accept. nft list ruleset shows who.
//
// With br_netfilter loaded and bridge-nf-call-iptables=1, traffic between
// two containers on the bridge also passes the forward chains.
//
// Deleting a veth takes the kernel 15 ms or more (unregistering a device
// waits for RCU grace periods), most of Detach's time.
//
// A published port is a DNAT rule, not a listening socket: a host program
// may still bind 0.0.0.0:8080 afterwards and will never see a packet.
// Conntrack entries of a detached container's connections linger until they
// time out.
//
// State belongs under the run root (/run/minidocker/network, a tmpfs): after
// a reboot no container is running and no address should stay allocated.
//
// # See also
//
// veth(4), ip-link(8), nft(8) (fib, masquerade, dnat), rtnetlink(7),
// network_namespaces(7); Documentation/networking/ip-sysctl.rst
// (route_localnet, ip_forward); moby libnetwork/drivers/bridge; the CNI
// bridge and portmap plugins.
package network
