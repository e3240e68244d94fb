package portmap_test

import (
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/step06-networking/portmap"
)

var localhost = netip.MustParseAddr("127.0.0.1")

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []portmap.Mapping
	}{
		{"container port only", "80", []portmap.Mapping{{ContainerPort: 80, Proto: "tcp"}}},
		{"host and container", "8080:80", []portmap.Mapping{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{"udp", "5353:53/udp", []portmap.Mapping{{HostPort: 5353, ContainerPort: 53, Proto: "udp"}}},
		{"proto upper case", "53/UDP", []portmap.Mapping{{ContainerPort: 53, Proto: "udp"}}},
		{"host ip", "127.0.0.1:8080:80", []portmap.Mapping{{HostIP: localhost, HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{"host ip dynamic port", "127.0.0.1::80", []portmap.Mapping{{HostIP: localhost, ContainerPort: 80, Proto: "tcp"}}},
		{"all addresses is no address", "0.0.0.0:8080:80", []portmap.Mapping{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{"ranges", "8000-8002:80-82", []portmap.Mapping{
			{HostPort: 8000, ContainerPort: 80, Proto: "tcp"},
			{HostPort: 8001, ContainerPort: 81, Proto: "tcp"},
			{HostPort: 8002, ContainerPort: 82, Proto: "tcp"},
		}},
		{"container range dynamic", "80-81", []portmap.Mapping{
			{ContainerPort: 80, Proto: "tcp"},
			{ContainerPort: 81, Proto: "tcp"},
		}},
		{"host range single container port", "8000-8010:80", []portmap.Mapping{{HostPort: 8000, HostPortEnd: 8010, ContainerPort: 80, Proto: "tcp"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := portmap.Parse(tc.spec)
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tc.spec, err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.spec, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	// The messages are Docker's (docker/go-connections nat.ParsePortSpec).
	tests := []struct {
		name string
		spec string
		want string
	}{
		{"empty", "", "no port specified: <empty>"},
		{"empty container port", "8080:", "no port specified: 8080:<empty>"},
		{"bad container port", "abc", "invalid containerPort: abc"},
		{"container port zero", "8080:0", "invalid containerPort: 0"},
		{"container port too big", "70000", "invalid containerPort: 70000"},
		{"container port past uint16 by one", "65536", "invalid containerPort: 65536"},
		{"container port past uint64", "99999999999999999999", "invalid containerPort: 99999999999999999999"},
		{"container range end too big", "80-70000", "invalid containerPort: 80-70000"},
		{"host port too big", "65536:80", "invalid hostPort: 65536"},
		{"host range end too big", "8000-65536:80", "invalid hostPort: 8000-65536"},
		{"host port past uint64", "18446744073709551616:80", "invalid hostPort: 18446744073709551616"},
		{"signed port", "+80", "invalid containerPort: +80"},
		{"negative port", "8080:-80", "invalid containerPort: -80"},
		{"bad host port", "x:80", "invalid hostPort: x"},
		{"bad proto", "80/sctp", "invalid proto: sctp"},
		{"bad ip", "1.2.3:80:80", "invalid IP address: 1.2.3"},
		{"ipv6", "[::1]:80:80", "invalid IP address: [::1] (only IPv4 is supported)"},
		{"reversed range", "90-80", "invalid containerPort: 90-80"},
		{"unequal ranges", "8000-8001:80-82", "invalid ranges specified for container and host Ports: 80-82 and 8000-8001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := portmap.Parse(tc.spec)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error %q", tc.spec, got, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Parse(%q) error = %q, want %q", tc.spec, err, tc.want)
			}
			if !errors.Is(err, portmap.ErrInvalidSpec) {
				t.Errorf("Parse(%q) error %v does not match ErrInvalidSpec", tc.spec, err)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		ms   []portmap.Mapping
		want string
	}{
		{"one", []portmap.Mapping{{HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}, "0.0.0.0:8080->80/tcp"},
		{"host ip udp", []portmap.Mapping{{HostIP: localhost, HostPort: 5353, ContainerPort: 53, Proto: "udp"}}, "127.0.0.1:5353->53/udp"},
		{"not yet chosen", []portmap.Mapping{{ContainerPort: 80, Proto: "tcp"}}, "80/tcp"},
		{"run folds into a range", []portmap.Mapping{
			{HostPort: 8000, ContainerPort: 80, Proto: "tcp"},
			{HostPort: 8001, ContainerPort: 81, Proto: "tcp"},
			{HostPort: 53, ContainerPort: 53, Proto: "udp"},
		}, "0.0.0.0:8000-8001->80-81/tcp, 0.0.0.0:53->53/udp"},
		{"different protos do not fold", []portmap.Mapping{
			{HostPort: 8000, ContainerPort: 80, Proto: "tcp"},
			{HostPort: 8001, ContainerPort: 81, Proto: "udp"},
		}, "0.0.0.0:8000->80/tcp, 0.0.0.0:8001->81/udp"},
		{"none", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := portmap.Format(tc.ms); got != tc.want {
				t.Errorf("Format(%v) = %q, want %q", tc.ms, got, tc.want)
			}
		})
	}
}

// freePort asks the kernel for a port nobody holds right now.
func freePort(t *testing.T, proto string) uint16 {
	t.Helper()
	if proto == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return uint16(c.LocalAddr().(*net.UDPAddr).Port)
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}
