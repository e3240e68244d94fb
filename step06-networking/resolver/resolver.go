package resolver

import (
	"bufio"
	"bytes"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Address is where the server listens in a container's namespace, and
// the nameserver of its /etc/resolv.conf: Docker's 127.0.0.11.
const Address = "127.0.0.11"

// DefaultTimeout bounds one upstream exchange.
const DefaultTimeout = 2 * time.Second

// Config is what a server answers with.
type Config struct {
	// Lookup returns the addresses of a container name (lower case,
	// without the trailing dot) on the container's networks; none when
	// the name is no container's.
	Lookup func(name string) []netip.Addr
	// Reverse returns the name of the container with address addr on the
	// container's networks, "" when none: the answer to a PTR query
	// (2.0.30.172.in-addr.arpa).
	Reverse func(addr netip.Addr) string
	// Upstream are the servers ("host:port") other names are forwarded
	// to, tried in order; none: other names get REFUSED (an internal
	// network).
	Upstream []string
	// Timeout bounds each upstream exchange; DefaultTimeout when zero.
	Timeout time.Duration
}

// Server answers DNS queries: container names from Config.Lookup, the
// rest through Config.Upstream.
type Server struct {
	cfg     Config
	client  *dns.Client
	mu      sync.Mutex
	servers []*dns.Server
}

// New returns the server of cfg; call Serve to start it.
func New(cfg Config) *Server {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Server{cfg: cfg, client: &dns.Client{Net: "udp", Timeout: cfg.Timeout}}
}

// ServeDNS answers one query (dns.Handler).
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	w.WriteMsg(s.Answer(req))
}

// Answer is the reply to req. A name that Lookup knows gets its A records
// (TTL 600, as Docker's); an AAAA query of such a name an empty answer (our
// networks are IPv4); other names go upstream.
func (s *Server) Answer(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	if len(req.Question) != 1 {
		return m.SetRcode(req, dns.RcodeFormatError)
	}
	q := req.Question[0]
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	if q.Qclass == dns.ClassINET && (q.Qtype == dns.TypeA || q.Qtype == dns.TypeAAAA) && s.cfg.Lookup != nil {
		if addrs := s.cfg.Lookup(name); len(addrs) > 0 {
			m.SetReply(req)
			m.Authoritative, m.RecursionAvailable = true, true
			if q.Qtype == dns.TypeA {
				for _, a := range addrs {
					m.Answer = append(m.Answer, &dns.A{
						Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 600},
						A:   a.AsSlice(),
					})
				}
			}
			return m
		}
	}
	if q.Qclass == dns.ClassINET && q.Qtype == dns.TypePTR && s.cfg.Reverse != nil {
		if addr, ok := reverseAddr(name); ok {
			if n := s.cfg.Reverse(addr); n != "" {
				m.SetReply(req)
				m.Authoritative, m.RecursionAvailable = true, true
				m.Answer = append(m.Answer, &dns.PTR{
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: 600},
					Ptr: dns.Fqdn(n),
				})
				return m
			}
		}
	}
	return s.forward(req)
}

// reverseAddr is the IPv4 address of a PTR query's name,
// "2.0.30.172.in-addr.arpa" for 172.30.0.2.
func reverseAddr(name string) (netip.Addr, bool) {
	rest, ok := strings.CutSuffix(name, ".in-addr.arpa")
	if !ok {
		return netip.Addr{}, false
	}
	labels := strings.Split(rest, ".")
	if len(labels) != 4 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(labels[3] + "." + labels[2] + "." + labels[1] + "." + labels[0])
	return a, err == nil && a.Is4()
}

// forward asks the upstream servers in turn; the first answer is ours.
func (s *Server) forward(req *dns.Msg) *dns.Msg {
	if len(s.cfg.Upstream) == 0 {
		return new(dns.Msg).SetRcode(req, dns.RcodeRefused)
	}
	for _, up := range s.cfg.Upstream {
		resp, _, err := s.client.Exchange(req, up)
		if err == nil && resp != nil {
			return resp
		}
	}
	return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
}

// Serve answers on pc (UDP) and l (TCP, may be nil) until Close; it
// returns once both serve.
func (s *Server) Serve(pc net.PacketConn, l net.Listener) error {
	started := make(chan error, 2)
	start := func(srv *dns.Server) {
		srv.NotifyStartedFunc = func() { started <- nil }
		s.mu.Lock()
		s.servers = append(s.servers, srv)
		s.mu.Unlock()
		go func() {
			if err := srv.ActivateAndServe(); err != nil {
				started <- err
			}
		}()
	}
	n := 1
	start(&dns.Server{PacketConn: pc, Handler: s})
	if l != nil {
		n++
		start(&dns.Server{Listener: l, Handler: s})
	}
	for range n {
		if err := <-started; err != nil {
			s.Close()
			return err
		}
	}
	return nil
}

// Close stops serving and closes the sockets.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, srv := range s.servers {
		srv.Shutdown()
	}
	s.servers = nil
	return nil
}

// Upstreams are the nameservers of a resolv.conf as "host:53", loopback
// ones included: the server forwards from the host's namespace, where they
// are reachable.
func Upstreams(resolvConf []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(resolvConf))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "nameserver" {
			if a, err := netip.ParseAddr(f[1]); err == nil {
				out = append(out, netip.AddrPortFrom(a, 53).String())
			}
		}
	}
	return out
}

// ResolvConf is a container's /etc/resolv.conf on a user network: the
// embedded server as the only nameserver, the host's search and options
// lines kept (as Docker keeps them).
func ResolvConf(host []byte) []byte {
	var out bytes.Buffer
	for line := range strings.Lines(string(host)) {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == "search" || f[0] == "options") {
			out.WriteString(strings.TrimRight(line, "\n") + "\n")
		}
	}
	out.WriteString("nameserver " + Address + "\n")
	return out.Bytes()
}
