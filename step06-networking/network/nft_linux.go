package network

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	"minidocker/step06-networking/portmap"
)

// The table holds five base chains; the rules say, in nft(8) syntax
// (`nft list table ip minidocker` shows them):
//
//	chain raw         { type filter hook prerouting priority raw; policy accept; }
//	    iifname "minidocker0" ip daddr 127.0.0.0/8 drop                     comment "minidocker net minidocker0"
//	chain prerouting  { type nat hook prerouting priority dstnat; }
//	    fib daddr type local [ip daddr HOSTIP] meta l4proto tcp th dport 8080 dnat to 172.17.0.2:80  comment "minidocker ctr ID"
//	chain output      { type nat hook output priority dstnat; }
//	    (the same rule, for connections the host itself opens, 127.0.0.1 included)
//	chain postrouting { type nat hook postrouting priority srcnat; }
//	    ip saddr 172.17.0.0/16 oifname != "minidocker0" masquerade         comment "minidocker net minidocker0"
//	    ip saddr 127.0.0.0/8 oifname "minidocker0" masquerade              comment "minidocker net minidocker0"
//	    ip saddr 172.17.0.0/16 oifname "minidocker0" ct status dnat masquerade  comment "minidocker net minidocker0"
//	chain forward     { type filter hook forward priority filter; policy accept; }
//	    iifname "minidocker0" accept                                         comment "minidocker net minidocker0"
//	    oifname "minidocker0" accept                                         comment "minidocker net minidocker0"
const (
	chainRaw         = "raw"
	chainPrerouting  = "prerouting"
	chainOutput      = "output"
	chainPostrouting = "postrouting"
	chainForward     = "forward"
)

// Rule comments: which network or container a rule belongs to.
func networkTag(bridge string) string { return "minidocker net " + bridge }
func containerTag(id string) string   { return "minidocker ctr " + id }

func (n *Network) table() *nftables.Table {
	return &nftables.Table{Family: nftables.TableFamilyIPv4, Name: n.cfg.Table}
}

// chains are the table's base chains; AddChain of an existing chain is a no-op.
func (n *Network) chains() map[string]*nftables.Chain {
	t := n.table()
	accept := nftables.ChainPolicyAccept
	return map[string]*nftables.Chain{
		chainRaw: {Name: chainRaw, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRaw, Policy: &accept},
		chainPrerouting: {Name: chainPrerouting, Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest},
		chainOutput: {Name: chainOutput, Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest},
		chainPostrouting: {Name: chainPostrouting, Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource},
		chainForward: {Name: chainForward, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter, Policy: &accept},
	}
}

// ensureRules creates the table, its chains and this network's rules, all
// in one netlink batch (a transaction: all or nothing). The caller holds
// the network lock, so the check for existing rules does not race.
func (n *Network) ensureRules() error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	exists, err := n.tableExists(c)
	if err != nil {
		return err
	}
	chains := n.chains()
	rules := n.networkRules()
	var old []*nftables.Rule
	if exists {
		if old, err = n.taggedRules(c, networkTag(n.cfg.Bridge)); err != nil {
			return err
		}
		if len(old) == len(rules) {
			return nil
		}
	}
	// A network made by an older version has fewer rules (no loopback
	// guard): its rules are replaced, in the same transaction.
	for _, r := range old {
		if err := c.DelRule(r); err != nil {
			return err
		}
	}
	c.AddTable(n.table())
	for _, name := range []string{chainRaw, chainPrerouting, chainOutput, chainPostrouting, chainForward} {
		c.AddChain(chains[name])
	}
	tag := networkTag(n.cfg.Bridge)
	br := n.cfg.Bridge
	for _, r := range rules {
		c.AddRule(&nftables.Rule{Table: n.table(), Chain: chains[r.chain], Exprs: r.exprs, UserData: comment(tag)})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table ip %s: add rules of %s: %w", n.cfg.Table, br, err)
	}
	return nil
}

// rule is one rule of a network: its chain and its expressions.
type rule struct {
	chain string
	exprs []expr.Any
}

// networkRules are the rules of the network, in their order.
func (n *Network) networkRules() []rule {
	var rules []rule
	add := func(chain string, exprs ...[]expr.Any) {
		rules = append(rules, rule{chain, slices.Concat(exprs...)})
	}
	br := n.cfg.Bridge
	// The host's loopback is not the containers' business. route_localnet=1
	// (below, for -p on 127.0.0.1) also lets the kernel accept packets for
	// 127.0.0.0/8 that come in on the bridge, so a container that sends
	// them to the gateway's MAC reaches whatever the host binds to
	// 127.0.0.1. Dropped here, in prerouting at priority raw: before
	// routing (which would deliver them to lo) and before conntrack, so the
	// replies of the host's own 127.0.0.1 -> published port connections,
	// which still carry the gateway's address at this point (conntrack
	// turns it back into 127.0.0.1 later, at dstnat), pass.
	add(chainRaw, iifname(br), daddrIn(netip.MustParsePrefix("127.0.0.0/8")), drop())
	if !n.cfg.Internal {
		// Containers going out: their source becomes the host's address on the way out.
		add(chainPostrouting, saddrIn(n.cfg.Subnet), oifname(br, expr.CmpOpNeq), masquerade())
	}
	// The host reaching a published port on 127.0.0.1: after DNAT the packet
	// leaves by the bridge with source 127.0.0.1, which the container could
	// not answer; it gets the gateway's address instead.
	add(chainPostrouting, saddrIn(netip.MustParsePrefix("127.0.0.0/8")), oifname(br, expr.CmpOpEq), masquerade())
	// A container reaching a published port of a container on the same
	// bridge through a host address: without this the reply would go
	// straight back over the bridge from an address the client never called.
	add(chainPostrouting, saddrIn(n.cfg.Subnet), oifname(br, expr.CmpOpEq), ctStatusDNAT(), masquerade())
	// Isolation, before the accepts below (a drop in any table's forward
	// chain is final; an accept only ends this chain): nothing crosses
	// between this bridge and the others, in either direction, as
	// Docker's DOCKER-ISOLATION-STAGE-1 and -2 chains do.
	for _, other := range n.cfg.IsolateFrom {
		add(chainForward, iifname(br), ifnameMatch(expr.MetaKeyOIFNAME, other), oifname(br, expr.CmpOpNeq), drop())
		add(chainForward, ifnameMatch(expr.MetaKeyIIFNAME, other), iifnameNot(br), oifname(br, expr.CmpOpEq), drop())
	}
	if n.cfg.Internal {
		// No way in or out but between the network's own containers.
		add(chainForward, iifname(br), oifname(br, expr.CmpOpNeq), drop())
		add(chainForward, iifnameNot(br), oifname(br, expr.CmpOpEq), drop())
	}
	add(chainForward, iifname(br), accept())
	add(chainForward, oifname(br, expr.CmpOpEq), accept())
	return rules
}

// addPortRules adds, for each published port, its DNAT rule to prerouting
// (packets from elsewhere) and to output (packets the host sends itself).
func (n *Network) addPortRules(ep *Endpoint) error {
	if len(ep.Ports) == 0 {
		return nil
	}
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	chains := n.chains()
	for _, m := range ep.Ports {
		exprs := dnat(m, ep.IP)
		for _, chain := range []string{chainPrerouting, chainOutput} {
			c.AddRule(&nftables.Rule{Table: n.table(), Chain: chains[chain], Exprs: exprs, UserData: comment(containerTag(ep.ID))})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table ip %s: publish %s: %w", n.cfg.Table, portmap.Format(ep.Ports), err)
	}
	return nil
}

// deleteRules deletes every rule of our table whose comment is tag.
func (n *Network) deleteRules(tag string) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	if exists, err := n.tableExists(c); err != nil || !exists {
		return err
	}
	rules, err := n.taggedRules(c, tag)
	if err != nil || len(rules) == 0 {
		return err
	}
	for _, r := range rules {
		if err := c.DelRule(r); err != nil {
			return err
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables table ip %s: delete rules %q: %w", n.cfg.Table, tag, err)
	}
	return nil
}

// deleteTableIfUnused deletes our table when no rule of ours is left in it.
func (n *Network) deleteTableIfUnused() error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	if exists, err := n.tableExists(c); err != nil || !exists {
		return err
	}
	// Rules of other networks (or containers) in the same table keep it.
	rules, err := n.rulesWhere(c, func(comment string) bool { return strings.HasPrefix(comment, "minidocker ") })
	if err != nil || len(rules) > 0 {
		return err
	}
	c.DelTable(n.table())
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: delete table ip %s: %w", n.cfg.Table, err)
	}
	return nil
}

// deleteTable deletes our table, its chains and every rule in them, in one
// request; a table already gone is no error.
func (n *Network) deleteTable() error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	c.DelTable(n.table())
	if err := c.Flush(); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("nftables: delete table ip %s: %w", n.cfg.Table, err)
	}
	return nil
}

func (n *Network) tableExists(c *nftables.Conn) (bool, error) {
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		return false, fmt.Errorf("nftables: list tables: %w", err)
	}
	return slices.ContainsFunc(tables, func(t *nftables.Table) bool { return t.Name == n.cfg.Table }), nil
}

// taggedRules lists the rules of our chains whose comment is tag.
func (n *Network) taggedRules(c *nftables.Conn, tag string) ([]*nftables.Rule, error) {
	return n.rulesWhere(c, func(comment string) bool { return comment == tag })
}

// rulesWhere lists the rules of our chains whose comment satisfies match.
func (n *Network) rulesWhere(c *nftables.Conn, match func(comment string) bool) ([]*nftables.Rule, error) {
	var out []*nftables.Rule
	for name, chain := range n.chains() {
		rules, err := c.GetRules(n.table(), chain)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("nftables: list chain %s: %w", name, err)
		}
		for _, r := range rules {
			got, _ := userdata.GetString(r.UserData, userdata.TypeComment)
			if match(got) {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// comment is a rule comment the way nft(8) stores it, so `nft list` shows it.
func comment(s string) []byte { return userdata.AppendString(nil, userdata.TypeComment, s) }

// saddrIn: ip saddr PREFIX.
func saddrIn(p netip.Prefix) []expr.Any { return addrIn(12, p) }

// daddrIn: ip daddr PREFIX.
func daddrIn(p netip.Prefix) []expr.Any { return addrIn(16, p) }

// addrIn compares the IPv4 header's address at offset (12 source, 16
// destination) with a prefix.
func addrIn(offset uint32, p netip.Prefix) []expr.Any {
	mask := netipMask(p.Bits())
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: offset, Len: 4},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Masked().Addr().AsSlice()},
	}
}

// daddrIs: ip daddr ADDR.
func daddrIs(a netip.Addr) []expr.Any {
	return []expr.Any{
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a.AsSlice()},
	}
}

func netipMask(bits int) []byte {
	m := make([]byte, 4)
	binary.BigEndian.PutUint32(m, ^uint32(0)<<(32-bits))
	return m
}

// ifname pads an interface name to IFNAMSIZ, as the kernel compares it.
func ifname(name string) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

func oifname(name string, op expr.CmpOp) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: ifname(name)},
	}
}

func iifname(name string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: ifname(name)},
	}
}

func iifnameNot(name string) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: ifname(name)},
	}
}

// ifnameMatch: iifname or oifname (key) equal to pattern, or starting
// with its prefix when it ends in "*" (nft's "br-*": the comparison is
// only as long as the prefix, no NUL padding).
func ifnameMatch(key expr.MetaKey, pattern string) []expr.Any {
	data := ifname(pattern)
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		data = []byte(prefix)
	}
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: data},
	}
}

// ctStatusDNAT: ct status dnat (the connection's destination was rewritten).
func ctStatusDNAT() []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(ipsDstNAT), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: make([]byte, 4)},
	}
}

// ipsDstNAT is IPS_DST_NAT of linux/netfilter/nf_conntrack_common.h.
const ipsDstNAT = 1 << 5

func masquerade() []expr.Any { return []expr.Any{&expr.Masq{}} }

func accept() []expr.Any { return []expr.Any{&expr.Verdict{Kind: expr.VerdictAccept}} }

func drop() []expr.Any { return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}} }

// dnat: fib daddr type local [ip daddr HOSTIP] meta l4proto PROTO th dport
// HOSTPORT dnat to IP:CONTAINERPORT.
func dnat(m portmap.Mapping, to netip.Addr) []expr.Any {
	// exercise:begin 06-dnat Build the rule's expressions: fib daddr type local, ip daddr m.HostIP (only when valid), meta l4proto (tcp or udp), th dport m.HostPort, then dnat to to:m.ContainerPort (two immediates, then expr.NAT)
	proto := byte(unix.IPPROTO_TCP)
	if m.Proto == "udp" {
		proto = unix.IPPROTO_UDP
	}
	exprs := []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
	}
	if m.HostIP.IsValid() {
		exprs = append(exprs, daddrIs(m.HostIP)...)
	}
	return append(exprs,
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(m.HostPort)},
		&expr.Immediate{Register: 1, Data: to.AsSlice()},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(m.ContainerPort)},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true},
	)
	// exercise:end
}
