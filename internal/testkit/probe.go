package testkit

import (
	"os"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"minidocker/internal/imagebuild"
)

var probeOnce struct {
	sync.Once
	data []byte
	err  error
}

// ProbeImage is busybox with /probe, a static binary that tries one escape
// (internal/testkit/probe) and prints how the kernel answered.
func ProbeImage(t testing.TB) v1.Image {
	t.Helper()
	probeOnce.Do(func() {
		bin := Build(t, "minidocker/internal/testkit/probe")
		probeOnce.data, probeOnce.err = os.ReadFile(bin)
	})
	fatalIf(t, probeOnce.err)
	if probeOnce.data == nil {
		t.Fatal("the probe was not built (see the first test that tried)")
	}
	layer, err := imagebuild.Layer(LayerTar(t, File("probe", string(probeOnce.data), 0o755)), "")
	fatalIf(t, err)
	return Image(t, imagebuild.BusyboxConfig(), BusyboxLayer(t), layer)
}
