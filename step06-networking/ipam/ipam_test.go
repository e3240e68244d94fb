package ipam_test

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"minidocker/step06-networking/ipam"
)

// childEnv makes the re-executed test binary allocate one address and print
// it, standing for a second minidocker process.
const childEnv = "MINIDOCKER_IPAM_TEST_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(child(spec))
	}
	os.Exit(m.Run())
}

// child runs "root|subnet|owner": allocate for owner and print the address.
func child(spec string) int {
	parts := strings.Split(spec, "|")
	a, err := ipam.New(parts[0], netip.MustParsePrefix(parts[1]))
	if err == nil {
		var addr netip.Addr
		if addr, err = a.Allocate(parts[2]); err == nil {
			fmt.Println(addr)
			return 0
		}
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name   string
		subnet netip.Prefix
	}{
		{"zero", netip.Prefix{}},
		{"ipv6", netip.MustParsePrefix("fd00::/64")},
		{"slash31", netip.MustParsePrefix("172.31.9.0/31")},
		{"slash32", netip.MustParsePrefix("172.31.9.1/32")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ipam.New(t.TempDir(), tc.subnet)
			if !errors.Is(err, ipam.ErrInvalidSubnet) {
				t.Errorf("New(%v) = %v, want ErrInvalidSubnet", tc.subnet, err)
			}
		})
	}
}

func TestAllocateSkipsReservedAndExhausts(t *testing.T) {
	tests := []struct {
		name   string
		subnet string
		want   []string
	}{
		// .0 network, .1 gateway, .7 broadcast are never handed out.
		{"slash29", "172.31.9.0/29", []string{"172.31.9.2", "172.31.9.3", "172.31.9.4", "172.31.9.5", "172.31.9.6"}},
		{"slash30", "192.168.250.4/30", []string{"192.168.250.6"}},
		{"unmasked", "172.31.9.13/29", []string{"172.31.9.10", "172.31.9.11", "172.31.9.12", "172.31.9.13", "172.31.9.14"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ipam.New(t.TempDir(), netip.MustParsePrefix(tc.subnet))
			require.NoError(t, err)
			var got []string
			for i := range tc.want {
				addr, err := a.Allocate(fmt.Sprintf("c%d", i))
				require.NoError(t, err)
				got = append(got, addr.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Allocate() sequence mismatch (-want +got):\n%s", diff)
			}
			if addr, err := a.Allocate("one-too-many"); !errors.Is(err, ipam.ErrExhausted) {
				t.Errorf("Allocate() on a full subnet = %v, %v, want ErrExhausted", addr, err)
			}
		})
	}
}

func TestReleaseAndReuse(t *testing.T) {
	tests := []struct {
		name    string
		release string // owner or address
	}{
		{"by owner", "b"},
		{"by address", "172.31.9.3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ipam.New(t.TempDir(), netip.MustParsePrefix("172.31.9.0/29"))
			require.NoError(t, err)
			for _, owner := range []string{"a", "b", "c"} {
				_, err := a.Allocate(owner)
				require.NoError(t, err)
			}
			require.NoError(t, a.Release(tc.release))
			require.NoError(t, a.Release(tc.release), "second release is a no-op")

			got, err := a.Allocate("d")
			require.NoError(t, err)
			if want := netip.MustParseAddr("172.31.9.3"); got != want {
				t.Errorf("Allocate(d) after Release(%s) = %v, want %v (the freed address)", tc.release, got, want)
			}
			all, err := a.Allocations()
			require.NoError(t, err)
			want := map[netip.Addr]string{
				netip.MustParseAddr("172.31.9.2"): "a",
				netip.MustParseAddr("172.31.9.3"): "d",
				netip.MustParseAddr("172.31.9.4"): "c",
			}
			if diff := cmp.Diff(want, all); diff != "" {
				t.Errorf("Allocations() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAllocateSameOwnerTwice(t *testing.T) {
	a, err := ipam.New(t.TempDir(), netip.MustParsePrefix("172.31.9.0/24"))
	require.NoError(t, err)
	first, err := a.Allocate("web")
	require.NoError(t, err)
	second, err := a.Allocate("web")
	require.NoError(t, err)
	if first != second {
		t.Errorf("Allocate(web) twice = %v then %v, want the same address", first, second)
	}
}

func TestStatePersistsAcrossAllocators(t *testing.T) {
	root := t.TempDir()
	subnet := netip.MustParsePrefix("172.31.9.0/24")
	a, err := ipam.New(root, subnet)
	require.NoError(t, err)
	first, err := a.Allocate("a")
	require.NoError(t, err)

	b, err := ipam.New(root, subnet)
	require.NoError(t, err)
	second, err := b.Allocate("b")
	require.NoError(t, err)
	if first == second {
		t.Fatalf("two Allocators on one root both gave %v", first)
	}
	// Another subnet under the same root is independent.
	c, err := ipam.New(root, netip.MustParsePrefix("172.31.10.0/24"))
	require.NoError(t, err)
	other, err := c.Allocate("a")
	require.NoError(t, err)
	if want := netip.MustParseAddr("172.31.10.2"); other != want {
		t.Errorf("Allocate in a second subnet = %v, want %v", other, want)
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	root := t.TempDir()
	subnet := netip.MustParsePrefix("172.31.9.0/24")
	const n = 50
	addrs := make([]netip.Addr, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// A fresh Allocator per goroutine: only the file is shared.
			a, err := ipam.New(root, subnet)
			if err == nil {
				addrs[i], err = a.Allocate(fmt.Sprintf("c%02d", i))
			}
			errs[i] = err
		})
	}
	wg.Wait()
	checkDistinct(t, subnet, addrs, errs)
}

func TestConcurrentProcesses(t *testing.T) {
	root := t.TempDir()
	subnet := netip.MustParsePrefix("172.31.9.0/24")
	const n = 50
	addrs := make([]netip.Addr, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|p%02d", childEnv, root, subnet, i))
			out, err := cmd.Output()
			if err != nil {
				errs[i] = fmt.Errorf("child %d: %w", i, err)
				return
			}
			addrs[i], errs[i] = netip.ParseAddr(strings.TrimSpace(string(out)))
		})
	}
	wg.Wait()
	checkDistinct(t, subnet, addrs, errs)

	a, err := ipam.New(root, subnet)
	require.NoError(t, err)
	all, err := a.Allocations()
	require.NoError(t, err)
	if len(all) != n {
		t.Errorf("Allocations() has %d entries after %d processes, want %d", len(all), n, n)
	}
}

func checkDistinct(t *testing.T, subnet netip.Prefix, addrs []netip.Addr, errs []error) {
	t.Helper()
	seen := map[netip.Addr]int{}
	for i, addr := range addrs {
		if errs[i] != nil {
			t.Errorf("allocation %d: %v", i, errs[i])
			continue
		}
		if j, dup := seen[addr]; dup {
			t.Errorf("allocations %d and %d both got %v", j, i, addr)
		}
		seen[addr] = i
		if !subnet.Contains(addr) || addr == ipam.Gateway(subnet) || addr == subnet.Addr() {
			t.Errorf("allocation %d got %v, not a usable address of %v", i, addr, subnet)
		}
	}
}
