// Package imagebuild builds small images from generated layers and from
// Debian's static busybox: the test images of every step, and the images of
// the lesson and the demo (go run ./internal/imagebuild/mkimage).
package imagebuild

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Entry is one tar entry of a layer, in the style of containerd's tartest:
// a header and its content.
type Entry struct {
	Header  *tar.Header
	Content string
}

// Epoch is the mtime of every generated entry, so layers are reproducible.
var Epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// File is a regular file.
func File(name, content string, mode int64) Entry {
	return Entry{&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(content)), ModTime: Epoch}, content}
}

// Dir is a directory.
func Dir(name string, mode int64) Entry {
	return Entry{Header: &tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, ModTime: Epoch}}
}

// Symlink is a symbolic link name -> target.
func Symlink(name, target string) Entry {
	return Entry{Header: &tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: Epoch}}
}

// Hardlink is a hard link name -> target (a path in the same layer).
func Hardlink(name, target string) Entry {
	return Entry{Header: &tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, ModTime: Epoch}}
}

// Whiteout deletes name of the lower layers: the entry .wh.<base>.
func Whiteout(name string) Entry {
	dir, base := path.Split(name)
	return File(dir+".wh."+base, "", 0o644)
}

// Opaque hides the lower layers' dir: the entry dir/.wh..wh..opq.
func Opaque(dir string) Entry { return File(path.Join(dir, ".wh..wh..opq"), "", 0o644) }

// Header is a raw entry, for hostile cases.
func Header(h *tar.Header, content string) Entry {
	if h.ModTime.IsZero() {
		h.ModTime = Epoch
	}
	if h.Typeflag == tar.TypeReg && h.Size == 0 {
		h.Size = int64(len(content))
	}
	return Entry{h, content}
}

// LayerTar writes entries as an uncompressed tar archive.
func LayerTar(entries ...Entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(e.Header); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", e.Header.Name, err)
		}
		if _, err := io.WriteString(tw, e.Content); err != nil {
			return nil, fmt.Errorf("tar content %s: %w", e.Header.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Layer makes an image layer (gzip-compressed when stored) of an
// uncompressed tar; mediaType "" is Docker's, types.OCILayer OCI's.
func Layer(tarData []byte, mediaType types.MediaType) (v1.Layer, error) {
	var opts []tarball.LayerOption
	if mediaType != "" {
		opts = append(opts, tarball.WithMediaType(mediaType))
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarData)), nil
	}, opts...)
}

// Image makes an image of layers with the given config, for this host's
// platform. oci selects the OCI media types instead of Docker's schema 2.
func Image(cfg v1.Config, oci bool, layers ...v1.Layer) (v1.Image, error) {
	base := empty.Image
	if oci {
		base = mutate.MediaType(base, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	}
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config = cfg
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Created = v1.Time{Time: Epoch}
	return mutate.ConfigFile(img, cf)
}

// BusyboxTar is an uncompressed layer holding Debian's static busybox
// (/bin/busybox, installed by scripts/setup.sh) with a symlink per applet,
// /etc/passwd and /etc/group with root and nobody, /tmp, /root and /home.
func BusyboxTar() ([]byte, error) {
	data, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return nil, fmt.Errorf("busybox layer: %w (install busybox-static: scripts/setup.sh)", err)
	}
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox --list: %w", err)
	}
	entries := []Entry{
		Dir("bin", 0o755), File("bin/busybox", string(data), 0o755),
		Dir("etc", 0o755),
		File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n", 0o644),
		File("etc/group", "root:x:0:\nnogroup:x:65534:\n", 0o644),
		Dir("root", 0o700), Dir("tmp", 0o1777), Dir("home", 0o755),
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" {
			entries = append(entries, Symlink("bin/"+applet, "busybox"))
		}
	}
	return LayerTar(entries...)
}

// BusyboxConfig is the config of a busybox image, like Docker Hub's.
func BusyboxConfig() v1.Config {
	return v1.Config{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, Cmd: []string{"sh"}}
}

// HTTPDConfig is the config of the demo's httpd image: busybox httpd
// serving /usr/local/apache2/htdocs on port 80, in the foreground, logging
// each request to stderr (as the official httpd image does to its log).
func HTTPDConfig() v1.Config {
	cfg := BusyboxConfig()
	cfg.Cmd = []string{"httpd-foreground"}
	cfg.ExposedPorts = map[string]struct{}{"80/tcp": {}}
	cfg.StopSignal = "SIGTERM"
	return cfg
}

// httpdForeground is the httpd image's command, named like the official
// image's: busybox httpd in the foreground, logging each request, and a
// clean exit on docker stop's SIGTERM (as PID 1, a program without a
// handler would ignore it and be SIGKILLed after the grace period).
const httpdForeground = `#!/bin/sh
trap 'kill $pid; wait $pid; exit 0' TERM INT
httpd -f -v -p 80 -h /usr/local/apache2/htdocs "$@" &
pid=$!
wait $pid
`

// HTTPDLayer is the layer the httpd image adds over busybox: a default
// page and the httpd-foreground command.
func HTTPDLayer() ([]byte, error) {
	return LayerTar(
		Dir("usr", 0o755), Dir("usr/local", 0o755), Dir("usr/local/bin", 0o755),
		File("usr/local/bin/httpd-foreground", httpdForeground, 0o755),
		Dir("usr/local/apache2", 0o755),
		Dir("usr/local/apache2/htdocs", 0o755),
		File("usr/local/apache2/htdocs/index.html", "<html><body><h1>It works!</h1></body></html>\n", 0o644),
	)
}

// WriteOCILayout writes img as an OCI image layout in dir, tagged ref in
// its index (org.opencontainers.image.ref.name).
func WriteOCILayout(dir, ref string, img v1.Image) error {
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref}))
}

// WriteDockerArchive writes img to file as docker save would, tagged tag.
func WriteDockerArchive(file, tag string, img v1.Image) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(file, ref, img)
}
