package ipam_test

import (
	"fmt"
	"log"
	"net/netip"
	"os"

	"minidocker/step06-networking/ipam"
)

func ExampleAllocator_Allocate() {
	root, err := os.MkdirTemp("", "ipam-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)

	a, err := ipam.New(root, netip.MustParsePrefix("172.17.0.0/16"))
	if err != nil {
		log.Fatal(err)
	}
	web, _ := a.Allocate("web")
	db, _ := a.Allocate("db")
	fmt.Println("gateway", a.Gateway())
	fmt.Println("web", web)
	fmt.Println("db", db)

	_ = a.Release("web")
	cache, _ := a.Allocate("cache")
	fmt.Println("cache", cache)
	// Output:
	// gateway 172.17.0.1
	// web 172.17.0.2
	// db 172.17.0.3
	// cache 172.17.0.2
}
