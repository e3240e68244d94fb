package registry_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// Pull busybox from Docker Hub and print docker pull's lines. Not run by go
// test: it needs the internet.
func ExampleClient_Pull() {
	ref, err := reference.Parse("busybox")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := registry.New(registry.WithPlatform("linux/amd64"), registry.WithTrace(os.Stderr))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: Pulling from %s\n", ref.Tag(), ref.Path())
	img, err := c.Pull(context.Background(), ref, registry.Sink{
		Layer: func(ctx context.Context, l registry.Layer, r io.Reader) error {
			_, err := io.Copy(io.Discard, r) // a store unpacks here
			return err
		},
		Progress: func(p registry.Progress) {
			if p.Status != registry.StatusDownloading {
				fmt.Printf("%s: %s\n", p.ID, p.Status)
			}
		},
	})
	if err != nil {
		fmt.Println("Error response from daemon:", err)
		return
	}
	fmt.Println("Digest:", img.Digest)
	fmt.Println("Status: Downloaded newer image for", ref.FamiliarString())
}
