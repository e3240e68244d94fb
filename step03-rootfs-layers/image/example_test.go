package image_test

import (
	"fmt"
	"io"

	"minidocker/step03-rootfs-layers/image"
)

// Load reads either format; each layer is read in place and verified
// against its digest as it is read. (Needs an image file, so it is
// compiled but not run: go run ./internal/imagebuild/mkimage -o busybox.tar
// writes one.)
func ExampleLoad() {
	img, err := image.Load("busybox.tar")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.RepoTags, img.ConfigDigest, img.Config.Config.Cmd)
	for _, l := range img.Layers {
		r, err := l.Open()
		if err != nil {
			fmt.Println(err)
			return
		}
		n, err := io.Copy(io.Discard, r) // or layers.Store.Unpack(l.DiffID, r)
		r.Close()
		fmt.Println(l.DiffID, l.MediaType, n, err)
	}
}
