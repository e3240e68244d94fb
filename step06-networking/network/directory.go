package network

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Directory answers "which address has this name on these bridges?" from
// the networks' books: each Endpoint records the names its container
// answers to (AttachOptions.Names). It is the data of a network's DNS
// server: containers that come are in the book once attached, those that
// go leave it at Detach (or Forget), so the answers follow them. A
// bridge's endpoints are read again only when its directory changed (an
// endpoint file is written by rename and removed, both of which change the
// directory's mtime), so most lookups cost one stat per bridge. A
// filesystem's clock may be coarse (ext4's ticks are milliseconds): two
// changes in one tick leave one mtime, so a directory changed in the last
// freshWindow is always read again.
type Directory struct {
	mu    sync.Mutex
	books map[string]book
}

const freshWindow = 100 * time.Millisecond

type book struct {
	mtime time.Time
	names map[string][]netip.Addr
	byIP  map[netip.Addr]string // the first name of each address
}

// Lookup returns the addresses that name (any case, trailing dot or not)
// has on the bridges, in the order of the bridges.
func (d *Directory) Lookup(bridges []string, name string) []netip.Addr {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	var out []netip.Addr
	for _, br := range bridges {
		out = append(out, d.book(br).names[name]...)
	}
	return out
}

// Reverse returns the first name (the container's name) of the address
// on the bridges, "" when none has it.
func (d *Directory) Reverse(bridges []string, addr netip.Addr) string {
	for _, br := range bridges {
		if n := d.book(br).byIP[addr]; n != "" {
			return n
		}
	}
	return ""
}

func (d *Directory) book(bridge string) book {
	dir := filepath.Join(HostRoot(bridge), "endpoints", bridge)
	fi, err := os.Stat(dir)
	if err != nil {
		return book{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if b, ok := d.books[bridge]; ok && b.mtime.Equal(fi.ModTime()) && time.Since(b.mtime) > freshWindow {
		return b
	}
	b := book{mtime: fi.ModTime(), names: map[string][]netip.Addr{}, byIP: map[netip.Addr]string{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return book{}
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // detached meanwhile
		}
		var ep Endpoint
		if json.Unmarshal(data, &ep) != nil {
			continue
		}
		if len(ep.Names) > 0 {
			b.byIP[ep.IP] = ep.Names[0]
		}
		for _, n := range ep.Names {
			n = strings.ToLower(n)
			b.names[n] = append(b.names[n], ep.IP)
		}
	}
	if d.books == nil {
		d.books = map[string]book{}
	}
	d.books[bridge] = b
	return b
}
