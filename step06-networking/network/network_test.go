package network_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"minidocker/step06-networking/network"
)

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestPickSubnet(t *testing.T) {
	tests := []struct {
		name    string
		routes  []netip.Prefix
		want    string
		wantErr error
	}{
		{"no routes", nil, "172.17.0.0/16", nil},
		{"default route is ignored", prefixes("0.0.0.0/0"), "172.17.0.0/16", nil},
		{"docker0 present", prefixes("0.0.0.0/0", "192.0.2.0/24", "172.17.0.0/16"), "172.18.0.0/16", nil},
		{"a smaller route inside the first pool", prefixes("172.17.5.0/24"), "172.18.0.0/16", nil},
		{"a bigger route over every 172 pool", prefixes("172.16.0.0/12"), "192.168.0.0/20", nil},
		{"home lan on 192.168.1.0/24", prefixes("172.16.0.0/12", "192.168.1.0/24"), "192.168.16.0/20", nil},
		{"nothing left", prefixes("172.16.0.0/12", "192.168.0.0/16"), "", network.ErrNoSubnet},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := network.PickSubnet(network.DefaultPools(), tc.routes)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("PickSubnet(%v) error = %v, want %v", tc.routes, err, tc.wantErr)
			}
			if err == nil && got.String() != tc.want {
				t.Errorf("PickSubnet(%v) = %v, want %s", tc.routes, got, tc.want)
			}
		})
	}
}

func TestResolvConf(t *testing.T) {
	tests := []struct {
		name     string
		host     string
		fallback []string
		want     string
	}{
		{
			name: "systemd-resolved stub is replaced by the default",
			host: "# managed by systemd-resolved\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch example.com\n",
			want: "# managed by systemd-resolved\noptions edns0 trust-ad\nsearch example.com\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n",
		},
		{
			name: "reachable nameservers are kept",
			host: "nameserver 192.0.2.53\nnameserver 127.0.0.1\nnameserver 198.51.100.53\n",
			want: "nameserver 192.0.2.53\nnameserver 198.51.100.53\n",
		},
		{
			name: "ipv6 nameservers do not work on an ipv4 bridge",
			host: "nameserver ::1\nnameserver fe80::1%eth0\nnameserver 2001:db8::53\n",
			want: "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
		},
		{
			name:     "own fallback",
			host:     "nameserver 127.0.1.1\n",
			fallback: []string{"192.0.2.1"},
			want:     "nameserver 192.0.2.1\n",
		},
		{
			name: "empty host file",
			host: "",
			want: "nameserver 8.8.8.8\nnameserver 8.8.4.4\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(network.ResolvConf([]byte(tc.host), tc.fallback)); got != tc.want {
				t.Errorf("ResolvConf(%q) =\n%s\nwant\n%s", tc.host, got, tc.want)
			}
		})
	}
}

func TestHostsFile(t *testing.T) {
	const base = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n" +
		"ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"
	tests := []struct {
		name    string
		names   []string
		ip      netip.Addr
		want    string
		wantErr bool
	}{
		{"bridge", []string{"3f2a1b4c5d6e"}, netip.MustParseAddr("172.17.0.2"), base + "172.17.0.2\t3f2a1b4c5d6e\n", false},
		{"with --name", []string{"3f2a1b4c5d6e", "web"}, netip.MustParseAddr("172.17.0.2"), base + "172.17.0.2\t3f2a1b4c5d6e web\n", false},
		{"no address (none, host)", []string{"web"}, netip.Addr{}, base, false},
		// Names that would write lines or aliases of their own.
		{"newline", []string{"web\n10.0.0.9 registry.local"}, netip.MustParseAddr("172.17.0.2"), "", true},
		{"newline without an address", []string{"web\n10.0.0.9 registry.local"}, netip.Addr{}, "", true},
		{"carriage return", []string{"web\r"}, netip.MustParseAddr("172.17.0.2"), "", true},
		{"space", []string{"web registry.local"}, netip.MustParseAddr("172.17.0.2"), "", true},
		{"tab in the second name", []string{"web", "db\tx"}, netip.MustParseAddr("172.17.0.2"), "", true},
		{"NUL", []string{"web\x00"}, netip.MustParseAddr("172.17.0.2"), "", true},
		{"comment", []string{"web#x"}, netip.MustParseAddr("172.17.0.2"), "", true},
		{"empty", []string{""}, netip.MustParseAddr("172.17.0.2"), "", true},
		{"unicode line separator", []string{"web\u2028x"}, netip.MustParseAddr("172.17.0.2"), "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := network.HostsFile(tc.ip, tc.names...)
			if tc.wantErr {
				if !errors.Is(err, network.ErrInvalidName) || got != nil {
					t.Errorf("HostsFile(%v, %q) = %q, %v; want ErrInvalidName and no content", tc.ip, tc.names, got, err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("HostsFile(%v, %q) =\n%s%v\nwant\n%s", tc.ip, tc.names, got, err, tc.want)
			}
		})
	}
}

func TestHostnameFile(t *testing.T) {
	if got, err := network.HostnameFile("web"); err != nil || string(got) != "web\n" {
		t.Errorf("HostnameFile(web) = %q, %v; want \"web\\n\"", got, err)
	}
	for _, name := range []string{"web\nx", "web x", "", "a\x00"} {
		if got, err := network.HostnameFile(name); !errors.Is(err, network.ErrInvalidName) || got != nil {
			t.Errorf("HostnameFile(%q) = %q, %v; want ErrInvalidName", name, got, err)
		}
	}
}

func TestVethName(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string
	}{
		{"container id", "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081", "mdk3f2a1b4c5d6"},
		{"upper case hex", "3F2A1B4C5D6E7F", "mdk3f2a1b4c5d6"},
		{"a name is hashed", "web", ""},
		{"short hex is hashed", "abc", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := network.VethName(tc.id)
			if len(got) > 15 || !strings.HasPrefix(got, network.VethPrefix) {
				t.Fatalf("VethName(%q) = %q, want %s and at most 15 bytes (IFNAMSIZ-1)", tc.id, got, network.VethPrefix)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("VethName(%q) = %q, want %q", tc.id, got, tc.want)
			}
			if again := network.VethName(tc.id); again != got {
				t.Errorf("VethName(%q) changed: %q then %q", tc.id, got, again)
			}
		})
	}
	if network.VethName("web") == network.VethName("db") {
		t.Error("VethName gives web and db the same name")
	}
}

func TestMACFor(t *testing.T) {
	if got, want := network.MACFor(netip.MustParseAddr("172.17.0.2")).String(), "02:42:ac:11:00:02"; got != want {
		t.Errorf("MACFor(172.17.0.2) = %s, want %s", got, want)
	}
}
