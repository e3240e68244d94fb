package resolver

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// serve starts s on a loopback UDP port of its own and returns it.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, s.Serve(pc, nil))
	t.Cleanup(func() { s.Close() })
	return pc.LocalAddr().String()
}

func query(t *testing.T, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(m, addr)
	require.NoError(t, err)
	return resp
}

func aRecords(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out
}

// TestAnswer: container names (any case) get their addresses; other names
// go upstream (a server of the test's own on loopback), and without
// upstream they are refused.
func TestAnswer(t *testing.T) {
	upstream := New(Config{Lookup: func(name string) []netip.Addr {
		if name == "example.test" {
			return []netip.Addr{netip.MustParseAddr("192.0.2.7")}
		}
		return nil
	}})
	up := serve(t, upstream)
	names := map[string][]netip.Addr{"db": {netip.MustParseAddr("172.30.0.2")}}
	lookup := func(name string) []netip.Addr { return names[name] }
	reverse := func(a netip.Addr) string {
		if a == netip.MustParseAddr("172.30.0.2") {
			return "db"
		}
		return ""
	}
	s := New(Config{Lookup: lookup, Reverse: reverse, Upstream: []string{up}})
	addr := serve(t, s)

	r := query(t, addr, "db", dns.TypeA)
	require.Equal(t, dns.RcodeSuccess, r.Rcode)
	require.Equal(t, []string{"172.30.0.2"}, aRecords(r))
	require.Equal(t, []string{"172.30.0.2"}, aRecords(query(t, addr, "DB.", dns.TypeA)), "names are case-insensitive")
	r = query(t, addr, "db", dns.TypeAAAA)
	require.Equal(t, dns.RcodeSuccess, r.Rcode)
	require.Empty(t, r.Answer, "IPv4 only: no AAAA, but the name exists")

	r = query(t, addr, "2.0.30.172.in-addr.arpa", dns.TypePTR)
	require.Len(t, r.Answer, 1, "PTR of a container's address")
	require.Equal(t, "db.", r.Answer[0].(*dns.PTR).Ptr)
	require.Equal(t, dns.RcodeRefused, query(t, addr, "3.0.30.172.in-addr.arpa", dns.TypePTR).Rcode, "another address: upstream's answer")

	require.Equal(t, []string{"192.0.2.7"}, aRecords(query(t, addr, "example.test", dns.TypeA)), "forwarded upstream")
	require.Equal(t, dns.RcodeRefused, query(t, addr, "nothere.test", dns.TypeA).Rcode, "the upstream's answer, passed on")

	internal := serve(t, New(Config{Lookup: lookup}))
	require.Equal(t, []string{"172.30.0.2"}, aRecords(query(t, internal, "db", dns.TypeA)))
	require.Equal(t, dns.RcodeRefused, query(t, internal, "example.test", dns.TypeA).Rcode, "no upstream: nothing forwarded")

	dead := serve(t, New(Config{Upstream: []string{"127.0.0.1:1"}, Timeout: 200 * time.Millisecond}))
	require.Equal(t, dns.RcodeServerFailure, query(t, dead, "example.test", dns.TypeA).Rcode)
}

func TestUpstreamsAndResolvConf(t *testing.T) {
	host := []byte("# comment\nsearch example.com\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver fe80::1%eth0\noptions ndots:2\n")
	require.Equal(t, []string{"127.0.0.53:53", "10.0.0.1:53", "[fe80::1%eth0]:53"}, Upstreams(host))
	require.Equal(t, "search example.com\noptions ndots:2\nnameserver 127.0.0.11\n", string(ResolvConf(host)))
}
