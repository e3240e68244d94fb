package testkit

import (
	"io"
	"os"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"minidocker/internal/imagebuild"
)

// The tar-entry builders of internal/imagebuild, for tests.
type Entry = imagebuild.Entry

var (
	File     = imagebuild.File
	Dir      = imagebuild.Dir
	Symlink  = imagebuild.Symlink
	Hardlink = imagebuild.Hardlink
	Whiteout = imagebuild.Whiteout
	Opaque   = imagebuild.Opaque
	Header   = imagebuild.Header
)

func fatalIf(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// LayerTar writes entries as an uncompressed tar archive.
func LayerTar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	data, err := imagebuild.LayerTar(entries...)
	fatalIf(t, err)
	return data
}

// Layer is a Docker (gzip) layer made of entries.
func Layer(t testing.TB, entries ...Entry) v1.Layer {
	t.Helper()
	l, err := imagebuild.Layer(LayerTar(t, entries...), "")
	fatalIf(t, err)
	return l
}

// Image makes an image (Docker schema 2 media types) of layers.
func Image(t testing.TB, cfg v1.Config, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := imagebuild.Image(cfg, false, layers...)
	fatalIf(t, err)
	return img
}

// OCIImage converts img to the OCI media types (manifest, config and
// layers), keeping its config.
func OCIImage(t testing.TB, img v1.Image) v1.Image {
	t.Helper()
	layers, err := img.Layers()
	fatalIf(t, err)
	var oci []v1.Layer
	for _, l := range layers {
		r, err := l.Uncompressed()
		fatalIf(t, err)
		data, err := io.ReadAll(r)
		fatalIf(t, err)
		ol, err := imagebuild.Layer(data, types.OCILayer)
		fatalIf(t, err)
		oci = append(oci, ol)
	}
	cf, err := img.ConfigFile()
	fatalIf(t, err)
	out, err := imagebuild.Image(cf.Config, true, oci...)
	fatalIf(t, err)
	return out
}

var busybox struct {
	once sync.Once
	tar  []byte
	err  error
}

// BusyboxTar is imagebuild.BusyboxTar, made once per test binary.
func BusyboxTar(t testing.TB) []byte {
	t.Helper()
	_, err := os.Stat("/bin/busybox")
	RequireFeature(t, err == nil, "/bin/busybox (Debian's busybox-static; run scripts/setup.sh)")
	busybox.once.Do(func() { busybox.tar, busybox.err = imagebuild.BusyboxTar() })
	fatalIf(t, busybox.err)
	return busybox.tar
}

// BusyboxLayer is BusyboxTar as a Docker layer.
func BusyboxLayer(t testing.TB) v1.Layer {
	l, err := imagebuild.Layer(BusyboxTar(t), "")
	fatalIf(t, err)
	return l
}

// BusyboxImage is a one-layer busybox image.
func BusyboxImage(t testing.TB) v1.Image {
	return Image(t, imagebuild.BusyboxConfig(), BusyboxLayer(t))
}

// WriteOCILayout writes img as an OCI image layout in dir, tagged ref.
func WriteOCILayout(t testing.TB, dir, ref string, img v1.Image) {
	t.Helper()
	fatalIf(t, imagebuild.WriteOCILayout(dir, ref, img))
}

// WriteDockerArchive writes img as docker save would, tagged tag.
func WriteDockerArchive(t testing.TB, file, tag string, img v1.Image) {
	t.Helper()
	fatalIf(t, imagebuild.WriteDockerArchive(file, tag, img))
}
