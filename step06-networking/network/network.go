package network

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"minidocker/step06-networking/portmap"
)

// Defaults, Docker's where Docker has one.
const (
	// DefaultBridge is the bridge Docker calls docker0.
	DefaultBridge = "minidocker0"
	// DefaultTable is the nftables table (family ip) holding our rules.
	DefaultTable = "minidocker"
	// VethPrefix starts the host end of every container's veth pair.
	VethPrefix = "mdk"
	// ContainerInterface is the container's end of the veth pair.
	ContainerInterface = "eth0"
)

// DefaultExecRoot holds what minidocker keeps per host rather than per
// data root (dockerd's --exec-root, /var/run/docker): a bridge, its
// addresses, its published ports and its rules are the kernel's, shared by
// every minidocker on the machine, so their book must be too. /run is a
// tmpfs: the book goes at a reboot, with the bridges it describes.
const DefaultExecRoot = "/run/minidocker"

// ExecRoot is $MINIDOCKER_EXEC_ROOT, or DefaultExecRoot. Tests set their
// own, with bridges of their own.
func ExecRoot() string {
	if dir := os.Getenv("MINIDOCKER_EXEC_ROOT"); dir != "" {
		return dir
	}
	return DefaultExecRoot
}

// HostRoot is the Config.Root of the bridge called bridge on this host:
// ExecRoot()/network/<bridge>.
func HostRoot(bridge string) string {
	if bridge == "" {
		bridge = DefaultBridge
	}
	return filepath.Join(ExecRoot(), "network", bridge)
}

// DefaultDNS are the nameservers ResolvConf falls back to, as Docker does
// when the host's resolv.conf has none usable from a container.
func DefaultDNS() []string { return []string{"8.8.8.8", "8.8.4.4"} }

// DefaultPools are the subnets a network is picked from when Config gives
// none, Docker's default address pools: 172.17.0.0/16 to 172.31.0.0/16, then
// 192.168.0.0/16 cut into /20s.
func DefaultPools() []netip.Prefix {
	var pools []netip.Prefix
	for b := 17; b <= 31; b++ {
		pools = append(pools, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(b), 0, 0}), 16))
	}
	for c := 0; c < 256; c += 16 {
		pools = append(pools, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(c), 0}), 20))
	}
	return pools
}

// PickSubnet returns the first of pools that overlaps none of used (the
// host's routes). Default routes (0.0.0.0/0) are ignored: they overlap
// everything and say nothing about which addresses are taken.
func PickSubnet(pools, used []netip.Prefix) (netip.Prefix, error) {
	for _, p := range pools {
		free := true
		for _, u := range used {
			if u.Bits() > 0 && p.Overlaps(u) {
				free = false
				break
			}
		}
		if free {
			return p, nil
		}
	}
	return netip.Prefix{}, ErrNoSubnet
}

// Config describes one network: a bridge, its subnet, and where its state lives.
type Config struct {
	// Bridge is the bridge's name; DefaultBridge when empty.
	Bridge string
	// Subnet is the bridge's subnet; the gateway is its first address. When
	// zero: the subnet already on the bridge, else the first of
	// DefaultPools that no host route uses.
	Subnet netip.Prefix
	// Root is the directory of the network's state: address allocations,
	// published ports, one file per attached container. Required.
	Root string
	// Table is the nftables table (family ip); DefaultTable when empty.
	// Networks sharing a table should share a Root too: Teardown deletes
	// the table when the last network in it goes, under a lock in Root.
	Table string
	// OwnTable says the table holds this network's rules only (a user
	// network's table): Teardown then deletes it whole, in one request,
	// instead of rule by rule and looking for other networks' rules.
	OwnTable bool
	// Internal cuts the network off the outside (docker network create
	// --internal): no masquerade, no default route in the containers, and
	// forwarding in or out of the bridge dropped; its containers reach only
	// each other.
	Internal bool
	// IsolateFrom are the other bridges this one must not exchange
	// packets with, both ways (Docker's DOCKER-ISOLATION chains): names,
	// or a prefix and "*" ("br-*", every user network's bridge).
	IsolateFrom []string
}

// AttachOptions are what a container asks of the network beyond an address.
type AttachOptions struct {
	// Ports to publish (see portmap.Parse); host port 0 means "pick one".
	Ports []portmap.Mapping
	// Names the container answers to on this network (its name, its
	// aliases), kept in its Endpoint for the network's DNS.
	Names []string
	// Interface is the container's end of the veth pair: ContainerInterface
	// (eth0) when empty; eth1, eth2... for the networks a running container
	// is connected to later (docker network connect).
	Interface string
}

// Endpoint is a container's place on the network. It is what Attach
// returns, and what is kept under Root so Detach works after a crash.
type Endpoint struct {
	ID       string            `json:"id"`
	Bridge   string            `json:"bridge"`
	IP       netip.Addr        `json:"ip"`
	Subnet   netip.Prefix      `json:"subnet"`
	Gateway  netip.Addr        `json:"gateway"`
	MAC      string            `json:"mac"`
	HostVeth string            `json:"hostVeth"`
	Ports    []portmap.Mapping `json:"ports,omitempty"` // host ports chosen
	// Names are the names the container answers to on the network (see
	// AttachOptions.Names); Interface its end of the pair.
	Names     []string `json:"names,omitempty"`
	Interface string   `json:"interface,omitempty"`
}

// UserBridge is the bridge of a user-defined network (docker network
// create), named as Docker names it: "br-" and the first 12 hex digits of
// the network's ID, 15 characters, IFNAMSIZ's limit.
func UserBridge(networkID string) string { return "br-" + networkID[:min(len(networkID), 12)] }

// hostVeth is the host end of id's pair whose container end is iface:
// VethName(id) for eth0, so it is found with nothing but the ID; for
// another interface (a network connected later) a name of its own.
func hostVeth(id, iface string) string {
	if iface == "" || iface == ContainerInterface {
		return VethName(id)
	}
	return VethName(id + "/" + iface)
}

// VethName is the host end of the container's veth pair: VethPrefix and 11
// characters, the ID's own when it is hex (a container ID), else a hash of
// it. It fits IFNAMSIZ (15) and is the same every time, so Detach finds it
// with nothing but the ID.
func VethName(id string) string {
	s := strings.ToLower(id)
	if len(s) < 11 || strings.Trim(s, "0123456789abcdef") != "" {
		sum := sha256.Sum256([]byte(id))
		s = hex.EncodeToString(sum[:])
	}
	return VethPrefix + s[:11]
}

// NetNSPath is the network namespace of process pid, for Attach.
func NetNSPath(pid int) string { return fmt.Sprintf("/proc/%d/ns/net", pid) }

// MACFor is the MAC address Docker gives a container: 02:42 and then the
// four bytes of its IPv4 address (02 = locally administered, unicast).
func MACFor(ip netip.Addr) net.HardwareAddr {
	b := ip.As4()
	return net.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// HostnameFile is the content of a container's /etc/hostname. A name that
// could break the file's one-line format is refused (see CheckHostName).
func HostnameFile(name string) ([]byte, error) {
	if err := CheckHostName(name); err != nil {
		return nil, fmt.Errorf("/etc/hostname: %w", err)
	}
	return []byte(name + "\n"), nil
}

// HostsFile is the content of a container's /etc/hosts, as Docker writes it:
// localhost, the IPv6 names, and the container's own names on its address
// (left out when ip is the zero Addr, as with --network none or host). Each
// name is checked with CheckHostName: the file is one entry per line and
// names are separated by blanks, so a newline in a name would add an entry
// of its choosing and a space an alias.
func HostsFile(ip netip.Addr, names ...string) ([]byte, error) {
	for _, name := range names {
		if err := CheckHostName(name); err != nil {
			return nil, fmt.Errorf("/etc/hosts: %w", err)
		}
	}
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("ff00::0\tip6-mcastprefix\n")
	b.WriteString("ff02::1\tip6-allnodes\n")
	b.WriteString("ff02::2\tip6-allrouters\n")
	if ip.IsValid() && len(names) > 0 {
		fmt.Fprintf(&b, "%s\t%s\n", ip, strings.Join(names, " "))
	}
	return b.Bytes(), nil
}

// CheckHostName refuses a name that cannot be one field of /etc/hosts: empty,
// or with a blank, a control character (newline, NUL...) or a '#' (the start
// of a comment). The callers validated --hostname and --name already
// (Docker's rules, stricter); this is the last line of defence, where the
// file is written, for any other path a name may take to it.
func CheckHostName(name string) error {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '#'
	}) {
		return fmt.Errorf("%q: %w", name, ErrInvalidName)
	}
	return nil
}

// ResolvConf is the content of a container's /etc/resolv.conf made from the
// host's. Nameservers a container cannot reach are dropped: loopback ones
// (systemd-resolved's 127.0.0.53, a local dnsmasq) point at the container's
// own lo, and IPv6 ones are unreachable on an IPv4-only bridge. If none is
// left, fallback is used (DefaultDNS when nil). search and options lines are
// kept, as Docker keeps them.
func ResolvConf(host []byte, fallback []string) []byte {
	if fallback == nil {
		fallback = DefaultDNS()
	}
	var out bytes.Buffer
	servers := 0
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "nameserver" {
			// "fe80::1%eth0" names a zone; netip parses it and Is4 says no.
			addr, err := netip.ParseAddr(fields[1])
			if err != nil || addr.IsLoopback() || !addr.Unmap().Is4() {
				continue
			}
			servers++
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	if servers == 0 {
		for _, ns := range fallback {
			fmt.Fprintf(&out, "nameserver %s\n", ns)
		}
	}
	return out.Bytes()
}
