package ipam

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"minidocker/internal/jsonbook"
)

// Allocator hands out the addresses of one subnet. Its state lives in a file
// under the root it was built from, so any number of Allocators (in one
// process or many) on the same root and subnet share it.
type Allocator struct {
	subnet netip.Prefix
	file   string // <root>/<subnet>.json
	lock   string // <root>/<subnet>.lock
}

// state is the file's content: the addresses in use and who owns them.
type state struct {
	Subnet      string            `json:"subnet"`
	Allocations map[string]string `json:"allocations"` // address -> owner
}

// New returns the Allocator of subnet, keeping its state under root (created
// if missing). subnet must be IPv4 and hold at least a gateway and one more
// address (/30 or larger); it is masked first, so 172.31.5.7/24 means
// 172.31.5.0/24.
func New(root string, subnet netip.Prefix) (*Allocator, error) {
	if !subnet.IsValid() || !subnet.Addr().Is4() || subnet.Bits() > 30 {
		return nil, fmt.Errorf("ipam %s: %w: need an IPv4 prefix of /30 or larger", subnet, ErrInvalidSubnet)
	}
	subnet = subnet.Masked()
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("ipam %s: %w", subnet, err)
	}
	// 172.17.0.0/16 -> 172.17.0.0-16.json: a file name without a slash.
	base := filepath.Join(root, strings.ReplaceAll(subnet.String(), "/", "-"))
	return &Allocator{subnet: subnet, file: base + ".json", lock: base + ".lock"}, nil
}

// Subnet returns the (masked) subnet the Allocator hands out from.
func (a *Allocator) Subnet() netip.Prefix { return a.subnet }

// Gateway returns the subnet's first host address (.1 in a /24), which is
// reserved for the bridge and never allocated.
func (a *Allocator) Gateway() netip.Addr { return Gateway(a.subnet) }

// Gateway returns the first host address of subnet, the one Docker gives
// the bridge.
func Gateway(subnet netip.Prefix) netip.Addr { return subnet.Masked().Addr().Next() }

// Allocate gives owner the lowest free address of the subnet and records it.
// If owner already holds an address, that address is returned again.
// It returns ErrExhausted when no address is free.
func (a *Allocator) Allocate(owner string) (netip.Addr, error) {
	if owner == "" {
		return netip.Addr{}, fmt.Errorf("ipam %s: allocate: empty owner", a.subnet)
	}
	var got netip.Addr
	err := a.update(func(s *state) (bool, error) {
		for addr, o := range s.Allocations {
			if o == owner {
				got = netip.MustParseAddr(addr)
				return false, nil
			}
		}
		broadcast := lastAddr(a.subnet)
		for addr := a.Gateway().Next(); addr.Less(broadcast); addr = addr.Next() {
			if _, used := s.Allocations[addr.String()]; !used {
				s.Allocations[addr.String()] = owner
				got = addr
				return true, nil
			}
		}
		return false, ErrExhausted
	})
	if err != nil {
		return netip.Addr{}, fmt.Errorf("ipam %s: allocate for %s: %w", a.subnet, owner, err)
	}
	return got, nil
}

// Release frees the address held by key, which is either an address
// ("172.17.0.2") or an owner. Releasing something not allocated is not an
// error, so cleanup can run twice.
func (a *Allocator) Release(key string) error {
	err := a.update(func(s *state) (bool, error) {
		if _, ok := s.Allocations[key]; ok {
			delete(s.Allocations, key)
			return true, nil
		}
		changed := false
		for addr, o := range s.Allocations {
			if o == key {
				delete(s.Allocations, addr)
				changed = true
			}
		}
		return changed, nil
	})
	if err != nil {
		return fmt.Errorf("ipam %s: release %s: %w", a.subnet, key, err)
	}
	return nil
}

// Allocations returns a copy of the addresses in use and their owners.
func (a *Allocator) Allocations() (map[netip.Addr]string, error) {
	out := map[netip.Addr]string{}
	err := a.update(func(s *state) (bool, error) {
		for addr, o := range s.Allocations {
			out[netip.MustParseAddr(addr)] = o
		}
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("ipam %s: list: %w", a.subnet, err)
	}
	return out, nil
}

// update runs fn on the book under its lock (see internal/jsonbook).
func (a *Allocator) update(fn func(*state) (changed bool, err error)) error {
	return jsonbook.Book[state]{
		File: a.file, Lock: a.lock,
		New: func() state { return state{Subnet: a.subnet.String(), Allocations: map[string]string{}} },
		Check: func(s *state) error {
			if s.Allocations == nil {
				s.Allocations = map[string]string{}
			}
			for addr := range s.Allocations {
				if _, err := netip.ParseAddr(addr); err != nil {
					return err
				}
			}
			return nil
		},
	}.Update(fn)
}

// lastAddr is the subnet's broadcast address (all host bits set).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	hostBits := 32 - p.Bits()
	for i := 3; i >= 0 && hostBits > 0; i-- {
		n := min(hostBits, 8)
		b[i] |= byte(1<<n - 1)
		hostBits -= n
	}
	return netip.AddrFrom4(b)
}
