package network_test

import (
	"context"
	"fmt"
	"log"
	"net/netip"

	"minidocker/step06-networking/network"
	"minidocker/step06-networking/portmap"
)

func ExampleResolvConf() {
	host := []byte("nameserver 127.0.0.53\nsearch lan\n")
	fmt.Print(string(network.ResolvConf(host, nil)))
	// Output:
	// search lan
	// nameserver 8.8.8.8
	// nameserver 8.8.4.4
}

func ExampleHostsFile() {
	hosts, err := network.HostsFile(netip.MustParseAddr("172.17.0.2"), "3f2a1b4c5d6e", "web")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(hosts))
	// Output:
	// 127.0.0.1	localhost
	// ::1	localhost ip6-localhost ip6-loopback
	// fe00::0	ip6-localnet
	// ff00::0	ip6-mcastprefix
	// ff02::1	ip6-allnodes
	// ff02::2	ip6-allrouters
	// 172.17.0.2	3f2a1b4c5d6e web
}

// The whole life of a container on the default network, as `minidocker run
// -p 8080:80` and `minidocker rm -f` go through it. Needs root.
func ExampleNetwork_Attach() {
	n, err := network.New(network.Config{Root: "/run/minidocker/network"}) // minidocker0, 172.17.0.0/16
	if err != nil {
		log.Fatal(err)
	}
	if err := n.EnsureBridge(); err != nil {
		log.Fatal(err)
	}
	ports, err := portmap.Parse("8080:80")
	if err != nil {
		log.Fatal(err)
	}
	const id = "3f2a1b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"
	pid := 4242 // the container's init, already in its own network namespace
	ep, err := n.Attach(context.Background(), id, network.NetNSPath(pid), network.AttachOptions{Ports: ports})
	if err != nil {
		log.Fatal(err) // e.g. Bind for 0.0.0.0:8080 failed: port is already allocated
	}
	fmt.Println(ep.IP, portmap.Format(ep.Ports)) // 172.17.0.2 0.0.0.0:8080->80/tcp

	// When the container is gone (even after a SIGKILL of everything):
	if err := n.Detach(id); err != nil {
		log.Fatal(err)
	}
}
