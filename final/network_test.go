//go:build linux

package main

import (
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"minidocker/internal/testkit"
	"minidocker/step06-networking/network"
)

// upstreamDNS starts a DNS server on 127.0.0.1 for the test, the one the
// embedded servers forward to ($MINIDOCKER_DNS_UPSTREAM in the world's
// environment): upstream.test is 192.0.2.1, any other name NXDOMAIN, at
// once (the host's own resolvers may be unreachable here).
func upstreamDNS(t *testing.T, w *world) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(rw dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg).SetReply(req)
		q := req.Question[0]
		switch {
		case q.Name == "upstream.test." && q.Qtype == dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A: net.IPv4(192, 0, 2, 1)})
		case q.Name != "upstream.test.":
			m.Rcode = dns.RcodeNameError
		}
		rw.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	w.env = append(w.env, "MINIDOCKER_DNS_UPSTREAM="+pc.LocalAddr().String())
}

// userNetwork creates the network name with args and removes it when the
// test ends, its containers first, even when the test failed; then checks
// that its bridge, its nft table and its book are gone.
func (w *world) userNetwork(name string, args ...string) (id, bridge string) {
	w.t.Helper()
	id = strings.TrimSpace(w.ok(append(append([]string{"network", "create"}, args...), name)...))
	require.Regexp(w.t, `^[0-9a-f]{64}$`, id)
	bridge = network.UserBridge(id)
	w.t.Cleanup(func() {
		for _, c := range strings.Fields(w.md("ps", "-aq", "--no-trunc").Stdout) {
			w.md("rm", "-f", c)
		}
		if r := w.md("network", "rm", name); r.Code != 0 {
			w.t.Errorf("network rm %s: %s", name, r.Stderr)
		}
		_, err := netlink.LinkByName(bridge)
		require.Error(w.t, err, "bridge %s left", bridge)
		require.False(w.t, testkit.NFTTableExists(w.t, "minidocker-"+bridge), "nft table of %s left", bridge)
		_, err = os.Stat(filepath.Join(w.execRoot, "network", bridge))
		require.ErrorIs(w.t, err, os.ErrNotExist, "book of %s left", bridge)
	})
	return id, bridge
}

// lookup is busybox nslookup NAME in a new container on net: the addresses
// answered ("" when none).
func (w *world) lookup(net, name string) (string, testkit.Result) {
	w.t.Helper()
	r := w.md("run", "--rm", "--network", net, "busybox", "nslookup", name)
	var addrs []string
	answers := false
	for line := range strings.Lines(r.Stdout) {
		if strings.HasPrefix(line, "Name:") {
			answers = true
		}
		if f := strings.Fields(line); answers && len(f) == 2 && f[0] == "Address:" {
			addrs = append(addrs, f[1])
		}
	}
	return strings.Join(addrs, " "), r
}

// TestUserNetworks: network create/ls/inspect; two containers on a user
// network reach each other by name, alias and short ID, through the
// embedded DNS server at 127.0.0.11; other names go upstream; a container
// on another network neither resolves nor reaches them, both ways; a
// removed container's name is gone; the default bridge has no names.
func TestUserNetworks(t *testing.T) {
	w := newWorld(t)
	upstreamDNS(t, w)
	w.ok("pull", "busybox")
	subnetA, subnetB := testkit.FreeSubnet(t, 28), testkit.FreeSubnet(t, 28)
	idA, bridgeA := w.userNetwork("neta", "--subnet", subnetA.String())
	w.userNetwork("netb", "--subnet", subnetB.String())
	require.Equal(t, "br-"+idA[:12], bridgeA)
	link, err := netlink.LinkByName(bridgeA)
	require.NoError(t, err, "network create makes the bridge")
	require.Equal(t, "bridge", link.Type())

	out := w.ok("network", "ls")
	require.Regexp(t, `^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n`, out)
	for _, row := range []string{`bridge\s+bridge`, `host\s+host`, `none\s+null`, `neta\s+bridge`, `netb\s+bridge`} {
		require.Regexp(t, `(?m)^[0-9a-f]{12}\s+`+row+`\s+local$`, out)
	}
	require.Regexp(t, `(?m)^`+idA[:12]+`\s+neta\s`, out)
	var nets []map[string]any
	require.NoError(t, json.Unmarshal([]byte(w.ok("network", "inspect", "neta")), &nets))
	require.Len(t, nets, 1)
	require.Equal(t, idA, nets[0]["Id"])
	require.Equal(t, subnetA.String(), nets[0]["IPAM"].(map[string]any)["Config"].([]any)[0].(map[string]any)["Subnet"])
	require.Equal(t, bridgeA, nets[0]["Options"].(map[string]any)["com.docker.network.bridge.name"])
	r := w.md("network", "create", "neta")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: network with name neta already exists\n", r.Stderr)
	r = w.md("network", "create", "--subnet", subnetA.String(), "netc")
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "Pool overlaps with other one on this address space")
	r = w.md("run", "--rm", "--network", "nope", "busybox", "true")
	require.Equal(t, 125, r.Code)
	require.Equal(t, "Error: network nope not found\n", r.Stderr)

	// httpd serves each container's /etc: /hostname says who answered.
	serve := func(name, net string, extra ...string) string {
		args := append([]string{"run", "-d", "--name", name, "--network", net}, extra...)
		id := strings.TrimSpace(w.ok(append(args, "busybox", "httpd", "-f", "-p", "8080", "-h", "/etc")...))
		return id[:12]
	}
	db := serve("db", "neta", "--network-alias", "database")
	other := serve("other", "netb")
	ipOf := func(name, net string) string {
		n := w.inspect(name)["NetworkSettings"].(map[string]any)["Networks"].(map[string]any)[net].(map[string]any)
		return n["IPAddress"].(string)
	}
	dbIP, otherIP := ipOf("db", "neta"), ipOf("other", "netb")
	require.True(t, subnetA.Contains(netip.MustParseAddr(dbIP)), "db's address %s in %s", dbIP, subnetA)

	resolv := w.ok("run", "--rm", "--network", "neta", "busybox", "cat", "/etc/resolv.conf")
	require.Contains(t, resolv, "nameserver 127.0.0.11\n")
	for _, name := range []string{"db", "database", db, "DB"} {
		got, r := w.lookup("neta", name)
		require.Equal(t, dbIP, got, "nslookup %s: %s %s", name, r.Stdout, r.Stderr)
	}
	// GET /hostname with nc, connect bounded by -w 3 (busybox wget
	// crashes resolving a name in a static busybox; nc does not). The body
	// is the last line of the answer.
	get := func(net, host string) testkit.Result {
		r := w.md("run", "--rm", "--network", net, "busybox", "sh", "-c",
			`printf 'GET /hostname HTTP/1.0\r\n\r\n' | nc -w 3 "$0" 8080`, host)
		if lines := strings.Split(strings.TrimSpace(r.Stdout), "\n"); len(lines) > 0 {
			r.Stdout = lines[len(lines)-1] + "\n"
		}
		return r
	}
	r = get("neta", "db")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.Equal(t, db+"\n", r.Stdout, "db answered by name")
	got, _ := w.lookup("neta", "upstream.test")
	require.Equal(t, "192.0.2.1", got, "other names are forwarded upstream")

	// Another network: no names of neta, no way to its containers, and
	// none from neta to it.
	got, _ = w.lookup("netb", "db")
	require.Empty(t, got, "db resolved on netb")
	require.NotEqual(t, 0, get("netb", dbIP).Code, "netb reached db")
	require.NotEqual(t, 0, get("neta", otherIP).Code, "neta reached other")
	r = get("netb", "other")
	require.Equal(t, other+"\n", r.Stdout, "other answers on its own network: %s", r.Stderr)
	// The default bridge: no names, the host's resolvers.
	require.NotContains(t, w.ok("run", "--rm", "busybox", "cat", "/etc/resolv.conf"), "127.0.0.11")

	// In use: refused; a removed container's name goes.
	r = w.md("network", "rm", "neta")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: error while removing network: network neta id "+idA+" has active endpoints\n", r.Stderr)
	w.ok("rm", "-f", "db")
	got, _ = w.lookup("neta", "db")
	require.Empty(t, got, "db still resolves after rm")
	r = w.md("network", "rm", "bridge")
	require.Equal(t, "Error: bridge is a pre-defined network and cannot be removed\n", r.Stderr)
}
