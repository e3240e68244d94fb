package portmap

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"minidocker/internal/jsonbook"
)

// Allocator records which host ports each owner has published. Its state is
// a file under the root it was built from, shared by every Allocator (in
// any process) on that root.
type Allocator struct {
	file string // <root>/ports.json
	lock string // <root>/ports.lock
}

// state is the file: owner -> the mappings it holds, host ports resolved.
type state struct {
	Owners map[string][]Mapping `json:"owners"`
}

// New returns the Allocator keeping its state under root (created if missing).
func New(root string) (*Allocator, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("ports: %w", err)
	}
	return &Allocator{file: filepath.Join(root, "ports.json"), lock: filepath.Join(root, "ports.lock")}, nil
}

// Reserve gives owner the host ports of ms and returns ms with every host
// port chosen (HostPort set, HostPortEnd 0). A port that another owner holds
// or that cannot be bound on the host fails with a *BindError matching
// ErrAllocated; a dynamic port with none free fails with
// ErrAllPortsAllocated. On error nothing is reserved. Reserving again for an
// owner replaces what it held. Call Release when the container goes.
func (a *Allocator) Reserve(owner string, ms []Mapping) ([]Mapping, error) {
	var got []Mapping
	err := a.update(func(s *state) (bool, error) {
		_, held := s.Owners[owner]
		if len(ms) == 0 && !held {
			return false, nil // nothing to publish: no need to write
		}
		delete(s.Owners, owner)
		got = nil
		for _, m := range ms {
			r, err := reserve(s, got, m)
			if err != nil {
				return false, err
			}
			got = append(got, r)
		}
		if len(got) > 0 {
			s.Owners[owner] = got
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("publish ports of %s: %w", owner, err)
	}
	return got, nil
}

// reserve settles one mapping against what the state and this call already hold.
func reserve(s *state, mine []Mapping, m Mapping) (Mapping, error) {
	if m.HostPort != 0 && m.HostPortEnd == 0 {
		if takenBy(s, mine, m) {
			return Mapping{}, &BindError{HostIP: m.HostIP, HostPort: m.HostPort, Proto: m.Proto}
		}
		if err := probe(m); err != nil {
			return Mapping{}, &BindError{HostIP: m.HostIP, HostPort: m.HostPort, Proto: m.Proto, Err: err}
		}
		return m, nil
	}
	first, last := uint16(DynamicPortStart), uint16(DynamicPortEnd)
	if m.HostPortEnd != 0 {
		first, last = m.HostPort, m.HostPortEnd
	}
	for p := int(first); p <= int(last); p++ {
		c := m
		c.HostPort, c.HostPortEnd = uint16(p), 0
		if !takenBy(s, mine, c) && probe(c) == nil {
			return c, nil
		}
	}
	return Mapping{}, fmt.Errorf("%s:%d-%d: %w", hostIP(m.HostIP), first, last, ErrAllPortsAllocated)
}

// takenBy reports whether a reservation (in the state or earlier in this
// call) already holds m's host port for m's protocol on an overlapping address.
func takenBy(s *state, mine []Mapping, m Mapping) bool {
	conflict := func(o Mapping) bool {
		return o.Proto == m.Proto && o.HostPort == m.HostPort &&
			(!o.HostIP.IsValid() || !m.HostIP.IsValid() || o.HostIP == m.HostIP)
	}
	if slices.ContainsFunc(mine, conflict) {
		return true
	}
	for _, held := range s.Owners {
		if slices.ContainsFunc(held, conflict) {
			return true
		}
	}
	return false
}

// probe binds m's host address and port and lets go at once: the kernel's
// EADDRINUSE is the authority on whether a host program holds the port.
func probe(m Mapping) error {
	addr := netip.AddrPortFrom(hostIP(m.HostIP), m.HostPort).String()
	if m.Proto == "udp" {
		c, err := net.ListenPacket("udp4", addr)
		if err != nil {
			return err
		}
		return c.Close()
	}
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return err
	}
	return l.Close()
}

// Release gives back every port owner holds; releasing an owner holding
// nothing is not an error.
func (a *Allocator) Release(owner string) error {
	err := a.update(func(s *state) (bool, error) {
		_, ok := s.Owners[owner]
		delete(s.Owners, owner)
		return ok, nil
	})
	if err != nil {
		return fmt.Errorf("release ports of %s: %w", owner, err)
	}
	return nil
}

// Owned returns the mappings owner holds.
func (a *Allocator) Owned(owner string) ([]Mapping, error) {
	var out []Mapping
	err := a.update(func(s *state) (bool, error) {
		out = slices.Clone(s.Owners[owner])
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("ports of %s: %w", owner, err)
	}
	return out, nil
}

// update runs fn on the book under its lock (see internal/jsonbook).
func (a *Allocator) update(fn func(*state) (changed bool, err error)) error {
	return jsonbook.Book[state]{
		File: a.file, Lock: a.lock,
		New: func() state { return state{Owners: map[string][]Mapping{}} },
		Check: func(s *state) error {
			if s.Owners == nil {
				s.Owners = map[string][]Mapping{}
			}
			return nil
		},
	}.Update(fn)
}
