package portmap

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The range Docker picks host ports from for `-p 80` (moby
// libnetwork/portallocator: the IANA dynamic range, less 49152).
const (
	DynamicPortStart = 49153
	DynamicPortEnd   = 65535
)

// Mapping is one published port.
type Mapping struct {
	// HostIP is the host address the port is published on; the zero Addr
	// means every address (0.0.0.0).
	HostIP netip.Addr `json:"hostIP,omitzero"`
	// HostPort is the host port; 0 until Reserve picks one for `-p 80`.
	HostPort uint16 `json:"hostPort"`
	// HostPortEnd, when not 0, makes HostPort..HostPortEnd a range that
	// Reserve picks the first free port from (`-p 8000-8010:80`).
	HostPortEnd   uint16 `json:"hostPortEnd,omitempty"`
	ContainerPort uint16 `json:"containerPort"`
	Proto         string `json:"proto"` // "tcp" or "udp"
}

// String formats m the way `docker ps` shows it: 0.0.0.0:8080->80/tcp, or
// 80/tcp while no host port has been chosen.
func (m Mapping) String() string {
	if m.HostPort == 0 {
		return fmt.Sprintf("%d/%s", m.ContainerPort, m.Proto)
	}
	if m.HostPortEnd != 0 {
		return fmt.Sprintf("%s:%d-%d->%d/%s", hostIP(m.HostIP), m.HostPort, m.HostPortEnd, m.ContainerPort, m.Proto)
	}
	return fmt.Sprintf("%s->%d/%s", netip.AddrPortFrom(hostIP(m.HostIP), m.HostPort), m.ContainerPort, m.Proto)
}

// Format joins mappings for the PORTS column of `docker ps`, folding runs of
// consecutive ports into ranges: 0.0.0.0:8000-8001->80-81/tcp, 0.0.0.0:53->53/udp.
func Format(ms []Mapping) string {
	var out []string
	for i := 0; i < len(ms); {
		j := i + 1
		for j < len(ms) && ms[i].HostPort != 0 && ms[i].HostPortEnd == 0 && ms[j].HostPortEnd == 0 &&
			ms[j].HostIP == ms[i].HostIP && ms[j].Proto == ms[i].Proto &&
			int(ms[j].HostPort) == int(ms[i].HostPort)+(j-i) &&
			int(ms[j].ContainerPort) == int(ms[i].ContainerPort)+(j-i) {
			j++
		}
		if j-i == 1 {
			out = append(out, ms[i].String())
		} else {
			first, last := ms[i], ms[j-1]
			out = append(out, fmt.Sprintf("%s:%d-%d->%d-%d/%s", hostIP(first.HostIP),
				first.HostPort, last.HostPort, first.ContainerPort, last.ContainerPort, first.Proto))
		}
		i = j
	}
	return strings.Join(out, ", ")
}

// Parse reads one -p value: [[HOSTIP:]HOSTPORT:]CONTAINERPORT[/PROTO], where
// either port may be a range (8000-8010). Equal ranges give one Mapping per
// port; a host range with a single container port gives one Mapping whose
// host port Reserve picks from the range. Errors carry Docker's message and
// match ErrInvalidSpec.
func Parse(spec string) ([]Mapping, error) {
	ip, hostPort, containerPort := splitParts(spec)
	containerPort, proto, _ := strings.Cut(containerPort, "/")
	if containerPort == "" {
		return nil, specError(fmt.Sprintf("no port specified: %s<empty>", spec))
	}
	if proto == "" {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" {
		return nil, specError("invalid proto: " + proto)
	}

	var addr netip.Addr
	if ip != "" {
		var err error
		addr, err = netip.ParseAddr(strings.Trim(ip, "[]"))
		if err != nil {
			return nil, specError("invalid IP address: " + ip)
		}
		if !addr.Is4() {
			return nil, specError("invalid IP address: " + ip + " (only IPv4 is supported)")
		}
		if addr.IsUnspecified() {
			addr = netip.Addr{} // 0.0.0.0 is "every address", like no address at all
		}
	}

	start, end, ok := parseRange(containerPort)
	if !ok || start == 0 {
		return nil, specError("invalid containerPort: " + containerPort)
	}
	var hostStart, hostEnd uint16
	if hostPort != "" {
		hostStart, hostEnd, ok = parseRange(hostPort)
		if !ok {
			return nil, specError("invalid hostPort: " + hostPort)
		}
		if end-start != hostEnd-hostStart && end != start {
			return nil, specError(fmt.Sprintf("invalid ranges specified for container and host Ports: %s and %s", containerPort, hostPort))
		}
	}

	if start == end && hostStart != hostEnd {
		return []Mapping{{HostIP: addr, HostPort: hostStart, HostPortEnd: hostEnd, ContainerPort: start, Proto: proto}}, nil
	}
	var ms []Mapping
	for i := 0; i <= int(end-start); i++ {
		m := Mapping{HostIP: addr, ContainerPort: start + uint16(i), Proto: proto}
		if hostStart != 0 {
			m.HostPort = hostStart + uint16(i)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// splitParts splits on the last two colons, so "[::1]:80:80" would keep its
// address whole (Parse then rejects IPv6).
func splitParts(spec string) (ip, hostPort, containerPort string) {
	parts := strings.Split(spec, ":")
	switch n := len(parts); n {
	case 1:
		return "", "", parts[0]
	case 2:
		return "", parts[0], parts[1]
	default:
		return strings.Join(parts[:n-2], ":"), parts[n-2], parts[n-1]
	}
}

// parseRange reads "80" or "8000-8010".
func parseRange(s string) (start, end uint16, ok bool) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil {
		return 0, 0, false
	}
	if !isRange {
		return uint16(a), uint16(a), true
	}
	b, err := strconv.ParseUint(hi, 10, 16)
	if err != nil || b < a {
		return 0, 0, false
	}
	return uint16(a), uint16(b), true
}

// hostIP shows the zero address as 0.0.0.0.
func hostIP(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return netip.IPv4Unspecified()
	}
	return a
}
