// Command mkimage writes the course's images from Debian's static busybox,
// offline: a busybox image, or (with -httpd) the demo's httpd image, as a
// docker save archive or an OCI image layout.
//
//	go run ./internal/imagebuild/mkimage -o busybox.tar
//	go run ./internal/imagebuild/mkimage -format oci -o busybox-oci
//	go run ./internal/imagebuild/mkimage -httpd -o httpd.tar
//	go run ./internal/imagebuild/mkimage -push 127.0.0.1:5000/library/busybox:latest
package main

import (
	"crypto/rand"
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"minidocker/internal/imagebuild"
)

func main() {
	format := flag.String("format", "docker", "docker (a docker save archive) or oci (an OCI image layout directory)")
	out := flag.String("o", "", "output `path` (this or -push is required)")
	push := flag.String("push", "", "push the image to a registry as `host:port/repo:tag` (plain HTTP: for a registry on this machine)")
	httpd := flag.Bool("httpd", false, "the demo's httpd image: busybox httpd serving /usr/local/apache2/htdocs on port 80")
	tag := flag.String("tag", "", "image name (default busybox:latest or httpd:latest)")
	random := flag.Int("random-layers", 0, "add `N` layers of random data (for benchmarks)")
	layerMB := flag.Int("layer-mb", 20, "the size of each random layer, in `MB`")
	flag.Parse()
	randomLayers, randomMB = *random, *layerMB
	if err := run(*format, *out, *tag, *push, *httpd); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

// randomLayers of randomMB each are added on top (-random-layers).
var randomLayers, randomMB int

func run(format, out, tag, push string, httpd bool) error {
	if out == "" && push == "" {
		return fmt.Errorf("-o or -push is required")
	}
	oci := format == "oci"
	if !oci && format != "docker" {
		return fmt.Errorf("unknown -format %q (docker or oci)", format)
	}
	var mt types.MediaType
	if oci {
		mt = types.OCILayer
	}
	bbTar, err := imagebuild.BusyboxTar()
	if err != nil {
		return err
	}
	bb, err := imagebuild.Layer(bbTar, mt)
	if err != nil {
		return err
	}
	layers, cfg, tagName := []v1.Layer{bb}, imagebuild.BusyboxConfig(), "busybox:latest"
	if httpd {
		htTar, err := imagebuild.HTTPDLayer()
		if err != nil {
			return err
		}
		ht, err := imagebuild.Layer(htTar, mt)
		if err != nil {
			return err
		}
		layers, cfg, tagName = append(layers, ht), imagebuild.HTTPDConfig(), "httpd:latest"
	}
	for i := range randomLayers {
		data := make([]byte, randomMB<<20)
		rand.Read(data)
		t, err := imagebuild.LayerTar(imagebuild.File(fmt.Sprintf("random%d", i), string(data), 0o644))
		if err != nil {
			return err
		}
		l, err := imagebuild.Layer(t, mt)
		if err != nil {
			return err
		}
		layers = append(layers, l)
	}
	if tag != "" {
		tagName = tag
	}
	img, err := imagebuild.Image(cfg, oci, layers...)
	if err != nil {
		return err
	}
	if push != "" {
		ref, err := name.ParseReference(push, name.Insecure)
		if err != nil {
			return err
		}
		if err := remote.Write(ref, img); err != nil {
			return fmt.Errorf("push %s: %w", push, err)
		}
		if out == "" {
			return nil
		}
	}
	if oci {
		return imagebuild.WriteOCILayout(out, tagName, img)
	}
	return imagebuild.WriteDockerArchive(out, tagName, img)
}
