package testkit

import (
	"archive/tar"
	"io"
	"os"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"minidocker/internal/imagebuild"
)

// Entry is one tar entry of a layer, in the style of containerd's tartest:
// a header and its content.
type Entry = imagebuild.Entry

// File is a regular file.
func File(name, content string, mode int64) Entry { return imagebuild.File(name, content, mode) }

// Dir is a directory.
func Dir(name string, mode int64) Entry { return imagebuild.Dir(name, mode) }

// Symlink is a symbolic link name -> target.
func Symlink(name, target string) Entry { return imagebuild.Symlink(name, target) }

// Hardlink is a hard link name -> target, a path of the same layer.
func Hardlink(name, target string) Entry { return imagebuild.Hardlink(name, target) }

// Whiteout deletes name of the lower layers: the entry DIR/.wh.BASE.
func Whiteout(name string) Entry { return imagebuild.Whiteout(name) }

// Opaque hides the lower layers' dir: the entry dir/.wh..wh..opq.
func Opaque(dir string) Entry { return imagebuild.Opaque(dir) }

// Header is a raw entry, written as it is: for hostile layers ("../x",
// links out of the layer) and for fields the other builders do not set
// (owner, device numbers, PAX xattrs).
func Header(h *tar.Header, content string) Entry { return imagebuild.Header(h, content) }

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
	t.Helper()
	l, err := imagebuild.Layer(BusyboxTar(t), "")
	fatalIf(t, err)
	return l
}

// BusyboxImage is a one-layer busybox image, with the config of Docker
// Hub's (Cmd sh).
func BusyboxImage(t testing.TB) v1.Image {
	t.Helper()
	return Image(t, imagebuild.BusyboxConfig(), BusyboxLayer(t))
}

// HTTPDImage is the demo's httpd image: busybox, then a layer with
// /usr/local/apache2/htdocs/index.html, run as busybox httpd on port 80
// (imagebuild.HTTPDConfig).
func HTTPDImage(t testing.TB) v1.Image {
	t.Helper()
	data, err := imagebuild.HTTPDLayer()
	fatalIf(t, err)
	l, err := imagebuild.Layer(data, "")
	fatalIf(t, err)
	return Image(t, imagebuild.HTTPDConfig(), BusyboxLayer(t), l)
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
