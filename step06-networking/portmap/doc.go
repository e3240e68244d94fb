// Package portmap parses, formats and reserves published ports: the
// `-p 8080:80` of `docker run`, shown by `docker ps` as 0.0.0.0:8080->80/tcp.
//
// # The idea
//
// A published port is a promise that packets for a host port reach a
// container port. Package network keeps the promise with nftables DNAT
// rules; this package decides which host ports the rules use and makes sure
// two containers never get the same one.
//
// Parse reads Docker's grammar, with Docker's error messages:
//
//	-p 80                       a free host port (from 49153-65535) -> 80/tcp
//	-p 8080:80                  0.0.0.0:8080 -> 80/tcp
//	-p 127.0.0.1:8080:80/udp    127.0.0.1:8080 -> 80/udp
//	-p 127.0.0.1::80            a free port on 127.0.0.1 -> 80/tcp
//	-p 8000-8001:80-81          two mappings, 8000->80 and 8001->81
//	-p 8000-8010:80             the first free port of 8000-8010 -> 80
//
// An Allocator, built from a root directory, records which host ports each
// owner (container) holds, in a JSON file changed only under flock(2), so
// concurrent minidocker processes never publish the same port twice.
//
// # The syscalls, in order
//
// Reserve, for each mapping:
//
//  1. flock(2) the state file (once for the whole call).
//  2. a port held by another owner for the same protocol and an overlapping
//     address (0.0.0.0 overlaps every address) is taken;
//  3. socket + bind(2) on the host address and port, then close: EADDRINUSE
//     means a host program (or another container engine) already has it;
//  4. after every mapping is settled, write the file and rename(2) it into place.
//
// Any failure leaves the file as it was: nothing is half reserved.
//
// # What goes wrong
//
// A DNAT rule does not bind the port, so nothing stops a host program from
// binding it after the container started; that program then never sees its
// packets (Docker's docker-proxy holds the port open to prevent this). The
// bind check only catches programs that came first.
//
// Only tcp and udp are supported, and only IPv4 host addresses: Docker also
// knows sctp and IPv6, and Parse rejects them.
//
// # See also
//
// bind(2), flock(2); docker/go-connections nat.ParsePortSpec (the grammar);
// moby libnetwork/portallocator (the 49153-65535 range).
package portmap
