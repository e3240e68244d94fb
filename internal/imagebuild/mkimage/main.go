// Command mkimage writes the course's images from Debian's static busybox,
// offline: a busybox image, or (with -httpd) the demo's httpd image, as a
// docker save archive or an OCI image layout.
//
//	go run ./internal/imagebuild/mkimage -o busybox.tar
//	go run ./internal/imagebuild/mkimage -format oci -o busybox-oci
//	go run ./internal/imagebuild/mkimage -httpd -o httpd.tar
package main

import (
	"flag"
	"fmt"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"minidocker/internal/imagebuild"
)

func main() {
	format := flag.String("format", "docker", "docker (a docker save archive) or oci (an OCI image layout directory)")
	out := flag.String("o", "", "output `path` (required)")
	httpd := flag.Bool("httpd", false, "the demo's httpd image: busybox httpd serving /usr/local/apache2/htdocs on port 80")
	tag := flag.String("tag", "", "image name (default busybox:latest or httpd:latest)")
	flag.Parse()
	if err := run(*format, *out, *tag, *httpd); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(format, out, tag string, httpd bool) error {
	if out == "" {
		return fmt.Errorf("-o is required")
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
	layers, cfg, name := []v1.Layer{bb}, imagebuild.BusyboxConfig(), "busybox:latest"
	if httpd {
		htTar, err := imagebuild.HTTPDLayer()
		if err != nil {
			return err
		}
		ht, err := imagebuild.Layer(htTar, mt)
		if err != nil {
			return err
		}
		layers, cfg, name = append(layers, ht), imagebuild.HTTPDConfig(), "httpd:latest"
	}
	if tag != "" {
		name = tag
	}
	img, err := imagebuild.Image(cfg, oci, layers...)
	if err != nil {
		return err
	}
	if oci {
		return imagebuild.WriteOCILayout(out, name, img)
	}
	return imagebuild.WriteDockerArchive(out, name, img)
}
