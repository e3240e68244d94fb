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
	"minidocker/step06-networking/ipam"
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
	return id, w.removeNetworkAtEnd(name, id)
}

// removeNetworkAtEnd removes the network name (ID id) when the test ends
// (unless the test did), its containers first, even when the test failed;
// then checks that its bridge, its nft table and its book are gone. It
// returns the bridge.
func (w *world) removeNetworkAtEnd(name, id string) (bridge string) {
	bridge = network.UserBridge(id)
	w.t.Cleanup(func() {
		for _, c := range strings.Fields(w.md("ps", "-aq", "--no-trunc").Stdout) {
			w.md("rm", "-f", c)
		}
		if r := w.md("network", "rm", name); r.Code != 0 && !strings.Contains(r.Stderr, "not found") {
			w.t.Errorf("network rm %s: %s", name, r.Stderr)
		}
		_, err := netlink.LinkByName(bridge)
		require.Error(w.t, err, "bridge %s left", bridge)
		require.False(w.t, testkit.NFTTableExists(w.t, "minidocker-"+bridge), "nft table of %s left", bridge)
		_, err = os.Stat(filepath.Join(w.execRoot, "network", bridge))
		require.ErrorIs(w.t, err, os.ErrNotExist, "book of %s left", bridge)
	})
	return bridge
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
	dbIP, otherIP := ipOfNet(t, w, "db", "neta"), ipOfNet(t, w, "other", "netb")
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
	out = w.ok("run", "--rm", "--network", "neta", "busybox", "nslookup", dbIP)
	require.Contains(t, out, "name = db\n", "the reverse (PTR) of db's address")
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

// TestNetworkInternalAndConnect: an --internal network has no route out
// and forwards no name upstream, but its containers still resolve each
// other; network connect gives a running container an eth1 on a second
// network, where its alias resolves, and disconnect takes both away.
func TestNetworkInternalAndConnect(t *testing.T) {
	w := newWorld(t)
	upstreamDNS(t, w)
	w.ok("pull", "busybox")
	inside, outside := testkit.FreeSubnet(t, 27), testkit.FreeSubnet(t, 27)
	w.userNetwork("inside", "--internal", "--subnet", inside.String())
	w.userNetwork("outside", "--subnet", outside.String(), "--gateway", ipam.Gateway(outside).String())
	require.Equal(t, true, w.inspectNetwork("inside")["Internal"])

	w.ok("run", "-d", "--name", "lone", "--network", "inside", "busybox", "sleep", "1000")
	routes := w.ok("exec", "lone", "ip", "route")
	require.NotContains(t, routes, "default", "an internal network's container has a way out:\n%s", routes)
	require.Contains(t, routes, inside.String())
	got, r := w.lookup("inside", "lone")
	require.NotEmpty(t, got, "names resolve on an internal network too: %s %s", r.Stdout, r.Stderr)
	got, _ = w.lookup("inside", "upstream.test")
	require.Empty(t, got, "an internal network forwarded a name upstream")
	got, _ = w.lookup("outside", "upstream.test")
	require.Equal(t, "192.0.2.1", got)

	w.ok("run", "-d", "--name", "multi", "--network", "outside", "busybox", "sleep", "1000")
	w.ok("network", "connect", "--alias", "m2", "inside", "multi")
	addrs := w.ok("exec", "multi", "ip", "-o", "-4", "addr", "show", "eth1")
	require.Contains(t, addrs, inside.Addr().String()[:len(inside.Addr().String())-1], "eth1 on inside: %s", addrs)
	got, _ = w.lookup("inside", "m2")
	require.NotEmpty(t, got, "the alias of a connected container")
	require.True(t, inside.Contains(netip.MustParseAddr(got)), "m2 is %s, not in %s", got, inside)
	nets := w.inspect("multi")["NetworkSettings"].(map[string]any)["Networks"].(map[string]any)
	require.Contains(t, nets, "inside")
	require.Contains(t, nets, "outside")
	r = w.md("network", "connect", "inside", "multi")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: endpoint with name multi already exists in network inside\n", r.Stderr)

	// Stopped, it leaves both networks' books; started again, it is back
	// on both (eth0 and eth1), with its names.
	w.ok("stop", "-t", "0", "multi")
	got, _ = w.lookup("inside", "m2")
	require.Empty(t, got, "a stopped container's alias resolves")
	w.ok("start", "multi")
	got, _ = w.lookup("inside", "m2")
	require.True(t, got != "" && inside.Contains(netip.MustParseAddr(got)), "m2 after a restart: %q", got)
	require.Contains(t, w.ok("exec", "multi", "ip", "-o", "link"), "eth1")

	w.ok("network", "disconnect", "inside", "multi")
	got, _ = w.lookup("inside", "m2")
	require.Empty(t, got, "m2 resolves after disconnect")
	require.NotEqual(t, 0, w.md("exec", "multi", "ip", "link", "show", "eth1").Code, "eth1 left after disconnect")
	require.NotContains(t, w.inspect("multi")["NetworkSettings"].(map[string]any)["Networks"], "inside")

	// A restart puts it back on its network, with its name.
	w.ok("restart", "-t", "0", "multi")
	got, _ = w.lookup("outside", "multi")
	require.True(t, got != "" && outside.Contains(netip.MustParseAddr(got)), "multi after a restart: %q", got)

	// A container of the default bridge connected to a user network: a
	// name there at once; after a restart, eth1 again and the embedded
	// server for its own lookups.
	w.ok("run", "-d", "--name", "plain", "busybox", "sleep", "1000")
	w.ok("network", "connect", "--alias", "p2", "outside", "plain")
	got, _ = w.lookup("outside", "p2")
	require.True(t, got != "" && outside.Contains(netip.MustParseAddr(got)), "p2: %q", got)
	w.ok("restart", "-t", "0", "plain")
	require.Contains(t, w.ok("exec", "plain", "cat", "/etc/resolv.conf"), "nameserver 127.0.0.11")
	out := w.ok("exec", "plain", "nslookup", "multi")
	require.Contains(t, out, "Address: "+ipOfNet(t, w, "multi", "outside"), "plain resolves multi:\n%s", out)
	r = w.md("network", "connect", "outside", "lone")
	require.Equal(t, 0, r.Code, "lone (on an internal network) joins a second one: %s", r.Stderr)
	r = w.md("run", "-d", "--name", "alone", "--network", "none", "busybox", "sleep", "1000")
	require.Equal(t, 0, r.Code, r.Stderr)
	r = w.md("network", "connect", "outside", "alone")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Error: container cannot be connected to multiple networks with one of the networks in private (none) mode\n", r.Stderr)

	// prune: the networks a running container is on stay.
	w.ok("rm", "-f", "lone")
	require.Equal(t, "Deleted Networks:\ninside\n\n", w.ok("network", "prune", "-f"))
}

// ipOfNet is the address of the running container name on the user
// network net, from inspect (the network it was started on).
func ipOfNet(t *testing.T, w *world, name, net string) string {
	t.Helper()
	n := w.inspect(name)["NetworkSettings"].(map[string]any)["Networks"].(map[string]any)[net].(map[string]any)
	return n["IPAddress"].(string)
}

func (w *world) inspectNetwork(name string) map[string]any {
	w.t.Helper()
	var nets []map[string]any
	require.NoError(w.t, json.Unmarshal([]byte(w.ok("network", "inspect", name)), &nets))
	require.Len(w.t, nets, 1)
	return nets[0]
}

// TestDaemonNetworks: docker network create, ls, inspect, connect,
// disconnect, rm and run --network --network-alias of the real docker CLI,
// through the daemon.
func TestDaemonNetworks(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	upstreamDNS(t, w)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	subnet, subnet2 := testkit.FreeSubnet(t, 26), testkit.FreeSubnet(t, 26)
	id := strings.TrimSpace(d.dockerOK("network", "create", "--subnet", subnet.String(), "app"))
	w.removeNetworkAtEnd("app", id)
	id2 := strings.TrimSpace(d.dockerOK("network", "create", "--subnet", subnet2.String(), "app2"))
	w.removeNetworkAtEnd("app2", id2)
	require.Regexp(t, `(?m)^`+id[:12]+`\s+app\s+bridge\s+local$`, d.dockerOK("network", "ls"))
	require.Equal(t, "app "+subnet.String()+" false\n",
		d.dockerOK("network", "inspect", "-f", "{{.Name}} {{(index .IPAM.Config 0).Subnet}} {{.Internal}}", "app"))

	// minidocker's own CLI through the daemon (-H: the API client).
	require.Regexp(t, `(?m)^`+id[:12]+`\s+app\s+bridge\s+local$`, w.ok("-H", "unix://"+d.sock, "network", "ls"))
	var nets []map[string]any
	require.NoError(t, json.Unmarshal([]byte(w.ok("-H", "unix://"+d.sock, "network", "inspect", "app2")), &nets))
	require.Equal(t, id2, nets[0]["Id"])
	require.Equal(t, subnet2.String(), nets[0]["IPAM"].(map[string]any)["Config"].([]any)[0].(map[string]any)["Subnet"])

	d.dockerOK("run", "-d", "--name", "db", "--network", "app", "--network-alias", "x", "busybox", "sleep", "1000")
	ip := strings.TrimSpace(d.dockerOK("inspect", "-f", "{{.NetworkSettings.Networks.app.IPAddress}}", "db"))
	require.True(t, subnet.Contains(netip.MustParseAddr(ip)), "db's address %q", ip)
	out := d.dockerOK("run", "--rm", "--network", "app", "busybox", "nslookup", "x")
	require.Contains(t, out, "Address: "+ip+"\n")
	require.Contains(t, d.dockerOK("network", "inspect", "app"), `"Name": "db"`, "the running container listed")

	d.dockerOK("network", "connect", "--alias", "y", "app2", "db")
	out = d.dockerOK("run", "--rm", "--network", "app2", "busybox", "nslookup", "y")
	require.Regexp(t, `Address: 172\.26\.`, out)
	d.dockerOK("network", "disconnect", "app2", "db")
	r := d.docker("network", "rm", "app")
	require.NotEqual(t, 0, r.Code)
	require.Contains(t, r.Stderr, "has active endpoints")
	d.dockerOK("rm", "-f", "db")
	require.Equal(t, "app2\n", d.dockerOK("network", "rm", "app2"))
	r = d.docker("network", "inspect", "app2")
	require.NotEqual(t, 0, r.Code)
	require.Contains(t, r.Stderr, "network app2 not found")
}

// TestNetworkTwoRoots: a network is its data root's object. Two roots
// that each create "app" get two networks, two bridges and two subnets;
// each root lists only its own, and a name on one is not on the other.
func TestNetworkTwoRoots(t *testing.T) {
	w := newWorld(t)
	upstreamDNS(t, w)
	other := w.otherRoot(t)
	idA, bridgeA := w.userNetwork("app", "--subnet", testkit.FreeSubnet(t, 24).String())
	idB, bridgeB := other.userNetwork("app", "--subnet", testkit.FreeSubnet(t, 24).String())
	require.NotEqual(t, idA, idB)
	require.NotEqual(t, bridgeA, bridgeB)
	require.Regexp(t, `(?m)^`+idA[:12]+`\s+app\s`, w.ok("network", "ls"))
	require.NotContains(t, w.ok("network", "ls"), idB[:12], "a root lists another root's network")

	w.ok("run", "-d", "--name", "db", "--network", "app", "busybox", "sleep", "1000")
	got, _ := w.lookup("app", "db")
	require.NotEmpty(t, got)
	got, _ = other.lookup("app", "db")
	require.Empty(t, got, "db of root A resolves on root B's app")
}
