package registry_test

import (
	"context"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step05-pull/registry"
)

// timeoutFixture pushes a one-layer image and returns the registry, the
// reference and the layer's blob digest.
func timeoutFixture(t *testing.T, size int64) (*testkit.Registry, string, v1.Hash, int64) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	img := dockerImage(t, size, 1)
	reg.Push(t, "app:1", img)
	layers, err := img.Layers()
	require.NoError(t, err)
	blob, err := layers[0].Digest()
	require.NoError(t, err)
	n, err := layers[0].Size()
	require.NoError(t, err)
	return reg, reg.Host() + "/app:1", blob, n
}

// TestIdleTimeout: a registry that drips one byte every 2 s fails the pull
// with the idle-read timeout (once per attempt), instead of hanging.
func TestIdleTimeout(t *testing.T) {
	reg, ref, blob, _ := timeoutFixture(t, 4096)
	reg.DripBlob(blob, 1, 2*time.Second)
	c := newClient(t, registry.WithTimeouts(time.Second, time.Second, 300*time.Millisecond), registry.WithRetry(2, 10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // only so that a bug fails, not hangs
	defer cancel()
	start := time.Now()
	_, err := c.Pull(ctx, mustParse(t, ref), (&received{}).sink())
	elapsed := time.Since(start)
	require.ErrorIs(t, err, registry.ErrTimeout)
	require.NoError(t, ctx.Err(), "the test's own deadline ended the pull")
	want := "pull " + ref + ": fetch blob " + blob.String() + ": after 2 attempts, at byte 0 of "
	require.True(t, strings.HasPrefix(err.Error(), want), "error %q, want it to start with %q", err, want)
	require.True(t, strings.HasSuffix(err.Error(), "registry "+reg.Host()+" sent no byte for 300ms (idle-read timeout)"), "%q", err)
	require.Less(t, elapsed, 1500*time.Millisecond, "two idle timeouts of 300ms, not the 2s drip")
}

// TestSteadyBlobNotCut: a blob that takes many idle periods to arrive, but
// keeps flowing, is not cut: there is no total deadline.
func TestSteadyBlobNotCut(t *testing.T) {
	reg, ref, blob, size := timeoutFixture(t, 16<<10)
	const every = 50 * time.Millisecond
	chunks := int64(20)
	reg.DripBlob(blob, int((size+chunks-1)/chunks), every)
	idle := 300 * time.Millisecond
	c := newClient(t, registry.WithTimeouts(time.Second, time.Second, idle), registry.WithRetry(1, 0))
	start := time.Now()
	var got received
	_, err := c.Pull(context.Background(), mustParse(t, ref), got.sink())
	require.NoError(t, err)
	require.Greater(t, time.Since(start), 3*idle, "the blob took several idle periods")
	require.Len(t, got.blobs[blob.String()], int(size))
}

// TestHeaderTimeout: a registry that accepts the request and never answers
// fails with the response-header timeout.
func TestHeaderTimeout(t *testing.T) {
	reg, ref, _, _ := timeoutFixture(t, 1024)
	reg.Stall("/manifests/", time.Minute)
	c := newClient(t, registry.WithTimeouts(time.Second, 300*time.Millisecond, time.Second), registry.WithRetry(1, 0))
	start := time.Now()
	_, err := c.Pull(context.Background(), mustParse(t, ref), (&received{}).sink())
	require.ErrorIs(t, err, registry.ErrTimeout)
	require.ErrorContains(t, err, "registry "+reg.Host()+" sent no response headers for 300ms (response-header timeout)")
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestTimeoutsOption(t *testing.T) {
	_, err := registry.New(registry.WithTimeouts(-1, 0, 0))
	require.ErrorContains(t, err, "must not be negative")
}
