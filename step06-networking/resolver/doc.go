// Package resolver is the DNS server of user-defined networks: the one
// that lets a container on network "app" reach "db" by name.
//
// # The idea
//
// On Docker's default bridge containers know each other only by address.
// On a network the user made (docker network create app), each container
// answers to its --name, its --network-alias values and its short ID, for
// every container on the same network, and the answers follow the
// containers as they come and go. Docker does it with an embedded DNS
// server at 127.0.0.11 in each container's network namespace; podman with
// aardvark-dns, one process per host listening on each bridge's gateway.
//
// We take Docker's shape, in the process that already lives exactly as
// long as the container: its monitor. Once the container's init exists,
// the monitor opens a UDP and a TCP socket inside the container's network
// namespace, bound to 127.0.0.11:53 (127.0.0.0/8 is all the namespace's
// lo, so no address need be added and no NAT rule is needed), and the
// container's /etc/resolv.conf says "nameserver 127.0.0.11". A socket
// keeps the namespace it was made in: the monitor goes back to the host's
// namespace and serves from there. Names of containers come from the
// network's book (each endpoint records the names it answers to); other
// names are forwarded, from the host's namespace, to the host's own
// resolvers, so even a loopback resolver such as systemd-resolved's
// 127.0.0.53 works, as it does for Docker's embedded server.
//
// The trade-off: a server per container costs a goroutine and two sockets
// in a process that exists anyway, and can never outlive its container or
// its network (no extra process to reap, nothing to leak); a server per
// network (podman's) costs one process per bridge whose life must be
// managed beside the network's. On an --internal network nothing is
// forwarded: such a network has no way out, names included (Docker's
// choice as well).
//
// # The syscalls, in order
//
//  1. setns(fd of /proc/<init>/ns/net, CLONE_NEWNET) on a locked thread;
//  2. socket(AF_INET, SOCK_DGRAM) + bind(127.0.0.11:53), and the same with
//     SOCK_STREAM + listen: both belong to the container's namespace;
//  3. setns back to the host's namespace, unlock the thread;
//  4. recvmsg/sendmsg on them for as long as the container runs; for an
//     upstream name, a UDP exchange with the host's resolvers.
//
// # What goes wrong
//
// A resolv.conf with search domains makes clients try "db.example.com"
// before "db": those queries go upstream and cost the upstream's time.
// When no upstream answers, the client gets SERVFAIL after Timeout.
//
// # See also
//
// resolv.conf(5), setns(2), network_namespaces(7), RFC 1035; moby
// libnetwork/resolver.go (the embedded DNS server); containers/aardvark-dns;
// github.com/miekg/dns.
package resolver
