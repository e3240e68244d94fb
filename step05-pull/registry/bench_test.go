package registry_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step05-pull/registry"
)

// BenchmarkPull pulls a 5-layer image of about 100 MB (random, hence
// incompressible, data) from the in-process registry into io.Discard.
func BenchmarkPull(b *testing.B) {
	reg := testkit.NewRegistry(b, testkit.RegistryOptions{Auth: true})
	img := dockerImage(b, 20<<20, 5)
	reg.Push(b, "big:latest", img)
	m, err := img.Manifest()
	require.NoError(b, err)
	var size int64
	for _, l := range m.Layers {
		size += l.Size
	}
	b.SetBytes(size)
	ref := mustParse(b, reg.Host()+"/big:latest")
	sink := registry.Sink{Layer: func(_ context.Context, _ registry.Layer, r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	}}
	for _, conc := range []int{1, registry.DefaultConcurrency} {
		b.Run(fmt.Sprint("concurrency=", conc), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				c := newClient(b, registry.WithConcurrency(conc)) // a fresh client: ping and token each time
				if _, err := c.Pull(context.Background(), ref, sink); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
