// Package ipam hands out IPv4 addresses of one subnet to containers, the way
// Docker's default IPAM driver gives 172.17.0.2, 172.17.0.3, … to the
// containers on docker0.
//
// # The idea
//
// An Allocator is a subnet plus a small JSON file under a root directory that
// maps each address in use to its owner (a container ID). Allocate picks the
// lowest free address, Release gives it back, and the address can be handed
// out again at once. The network address (.0), the gateway (the first host
// address, .1, which the bridge itself holds) and the broadcast address are
// never handed out.
//
// Several minidocker processes may start containers at the same moment, so
// every read-modify-write of the file happens under flock(2) on a lock file
// beside it, and the new state replaces the old one with rename(2): a reader
// never sees half a file and two processes never hand out the same address.
// Allocate is idempotent per owner: asking again for the same owner returns
// the address it already has, so a retried start does not leak an address.
//
// # The syscalls, in order
//
//  1. open("<root>/172.17.0.0-16.lock", O_CREAT|O_RDWR), flock(fd, LOCK_EX).
//  2. read "<root>/172.17.0.0-16.json" (missing: nothing allocated yet).
//  3. write "<root>/172.17.0.0-16.json.tmp", rename(2) it over the state file.
//  4. close(fd), which drops the lock.
//
// # What goes wrong
//
// A process killed between Allocate and its container's start leaves the
// address owned; whoever cleans the container up (network.Detach) calls
// Release with the owner's ID, which works from the file alone. The file is
// not fsynced: after a power cut it may be older than the kernel state, which
// at that point has no containers either.
//
// flock is advisory: only processes that use this package respect it.
//
// # See also
//
// flock(2), rename(2); moby libnetwork/ipams/defaultipam; the CNI host-local
// IPAM plugin (plugins/ipam/host-local), which keeps one file per address.
package ipam
