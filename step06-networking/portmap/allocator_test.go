package portmap_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/step06-networking/portmap"
)

func TestReserveFixedPortConflicts(t *testing.T) {
	tests := []struct {
		name     string
		first    portmap.Mapping
		second   portmap.Mapping
		conflict bool
	}{
		{"same port", portmap.Mapping{}, portmap.Mapping{}, true},
		{"all addresses against one", portmap.Mapping{}, portmap.Mapping{HostIP: localhost}, true},
		{"one against all addresses", portmap.Mapping{HostIP: localhost}, portmap.Mapping{}, true},
		{"other protocol", portmap.Mapping{Proto: "udp"}, portmap.Mapping{}, false},
		{"other address", portmap.Mapping{HostIP: localhost}, portmap.Mapping{HostIP: netip.MustParseAddr("127.0.0.2")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := portmap.New(t.TempDir())
			require.NoError(t, err)
			port := freePort(t, "tcp")
			fill := func(m portmap.Mapping) portmap.Mapping {
				m.HostPort, m.ContainerPort = port, 80
				if m.Proto == "" {
					m.Proto = "tcp"
				}
				return m
			}
			_, err = a.Reserve("first", []portmap.Mapping{fill(tc.first)})
			require.NoError(t, err)

			got, err := a.Reserve("second", []portmap.Mapping{fill(tc.second)})
			if !tc.conflict {
				require.NoError(t, err)
				return
			}
			if !errors.Is(err, portmap.ErrAllocated) {
				t.Fatalf("Reserve(second) = %v, %v; want ErrAllocated", got, err)
			}
			want := fmt.Sprintf("Bind for %s:%d failed: port is already allocated", addrOrAll(tc.second.HostIP), port)
			if be, ok := errors.AsType[*portmap.BindError](err); !ok || be.Error() != want {
				t.Errorf("Reserve(second) error = %v, want a *BindError saying %q", err, want)
			}
		})
	}
}

func addrOrAll(a netip.Addr) string {
	if !a.IsValid() {
		return "0.0.0.0"
	}
	return a.String()
}

func TestReserveHostBoundPort(t *testing.T) {
	for _, proto := range []string{"tcp", "udp"} {
		t.Run(proto, func(t *testing.T) {
			// A host program holds 127.0.0.1:port; publishing it on 0.0.0.0 must fail.
			var port uint16
			if proto == "udp" {
				c, err := net.ListenPacket("udp4", "127.0.0.1:0")
				require.NoError(t, err)
				t.Cleanup(func() { c.Close() })
				port = uint16(c.LocalAddr().(*net.UDPAddr).Port)
			} else {
				l, err := net.Listen("tcp4", "127.0.0.1:0")
				require.NoError(t, err)
				t.Cleanup(func() { l.Close() })
				port = uint16(l.Addr().(*net.TCPAddr).Port)
			}
			a, err := portmap.New(t.TempDir())
			require.NoError(t, err)

			// The first mapping is fine, the second is taken: nothing may stay reserved.
			okPort := freePort(t, proto)
			_, err = a.Reserve("web", []portmap.Mapping{
				{HostPort: okPort, ContainerPort: 81, Proto: proto},
				{HostPort: port, ContainerPort: 80, Proto: proto},
			})
			if !errors.Is(err, portmap.ErrAllocated) || !errors.Is(err, syscall.EADDRINUSE) {
				t.Fatalf("Reserve(host-bound %d/%s) = %v, want ErrAllocated and EADDRINUSE", port, proto, err)
			}
			want := fmt.Sprintf("publish ports of web: Bind for 0.0.0.0:%d failed: port is already allocated", port)
			if err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
			owned, err := a.Owned("web")
			require.NoError(t, err)
			if len(owned) != 0 {
				t.Errorf("Owned(web) after a failed Reserve = %v, want nothing", owned)
			}
			// And the good port is still free for someone else.
			_, err = a.Reserve("other", []portmap.Mapping{{HostPort: okPort, ContainerPort: 81, Proto: proto}})
			require.NoError(t, err)
		})
	}
}

func TestReserveDynamic(t *testing.T) {
	a, err := portmap.New(t.TempDir())
	require.NoError(t, err)
	ms, err := portmap.Parse("127.0.0.1::80")
	require.NoError(t, err)
	first, err := a.Reserve("a", ms)
	require.NoError(t, err)
	second, err := a.Reserve("b", ms)
	require.NoError(t, err)
	for _, got := range [][]portmap.Mapping{first, second} {
		if len(got) != 1 || got[0].HostPort < portmap.DynamicPortStart || got[0].HostIP != localhost {
			t.Fatalf("Reserve(127.0.0.1::80) = %v, want one port >= %d on 127.0.0.1", got, portmap.DynamicPortStart)
		}
	}
	if first[0].HostPort == second[0].HostPort {
		t.Errorf("two dynamic reservations both got %d", first[0].HostPort)
	}

	// After Release the port can be had again.
	require.NoError(t, a.Release("a"))
	fixed := first[0]
	_, err = a.Reserve("c", []portmap.Mapping{fixed})
	require.NoError(t, err, "reserve %v after its release", fixed)
}

func TestReserveHostRange(t *testing.T) {
	a, err := portmap.New(t.TempDir())
	require.NoError(t, err)
	base := freePort(t, "tcp")
	_, err = a.Reserve("a", []portmap.Mapping{{HostIP: localhost, HostPort: base, ContainerPort: 80, Proto: "tcp"}})
	require.NoError(t, err)

	ms := []portmap.Mapping{{HostIP: localhost, HostPort: base, HostPortEnd: base + 1, ContainerPort: 80, Proto: "tcp"}}
	got, err := a.Reserve("b", ms)
	if err != nil || len(got) != 1 {
		// base+1 may be held by some host program: that would be a real failure to pick.
		t.Fatalf("Reserve(%v) = %v, %v", ms, got, err)
	}
	want := portmap.Mapping{HostIP: localhost, HostPort: base + 1, ContainerPort: 80, Proto: "tcp"}
	if got[0] != want {
		t.Errorf("Reserve(range) = %v, want %v", got[0], want)
	}
	_, err = a.Reserve("c", ms)
	if !errors.Is(err, portmap.ErrAllPortsAllocated) {
		t.Errorf("Reserve(full range) = %v, want ErrAllPortsAllocated", err)
	}
}

func TestReserveConcurrent(t *testing.T) {
	root := t.TempDir()
	port := freePort(t, "tcp")
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, err := portmap.New(root)
			if err == nil {
				_, err = a.Reserve(fmt.Sprintf("c%d", i), []portmap.Mapping{{HostPort: port, ContainerPort: 80, Proto: "tcp"}})
			}
			errs[i] = err
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, portmap.ErrAllocated):
			t.Errorf("Reserve %d: %v, want ErrAllocated or success", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent Reserve(%d) succeeded, want exactly 1", won, n, port)
	}
}
