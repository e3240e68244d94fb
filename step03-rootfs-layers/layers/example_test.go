package layers_test

import (
	"fmt"
	"os"

	"github.com/opencontainers/go-digest"

	"minidocker/step03-rootfs-layers/layers"
)

// Each tar entry name either adds a file, deletes one of a lower layer
// (whiteout), or hides a lower layer's directory (opaque).
func Example_whiteouts() {
	for _, name := range []string{"etc/passwd", "etc/.wh.shadow", "var/cache/.wh..wh..opq"} {
		kind, target := layers.Classify(name)
		fmt.Printf("%-24s %-8s %s\n", name, kind, target)
	}
	// Output:
	// etc/passwd               regular  etc/passwd
	// etc/.wh.shadow           whiteout etc/shadow
	// var/cache/.wh..wh..opq   opaque   var/cache
}

// Names are taken relative to the layer's root; only a relative name that
// climbs out of it is refused.
func ExampleCleanName() {
	for _, name := range []string{"./usr/bin/", "/etc/passwd", "/../etc/shadow", "a/../../x"} {
		clean, err := layers.CleanName(name)
		fmt.Printf("%q -> %q %v\n", name, clean, err)
	}
	// Output:
	// "./usr/bin/" -> "usr/bin" <nil>
	// "/etc/passwd" -> "etc/passwd" <nil>
	// "/../etc/shadow" -> "etc/shadow" <nil>
	// "a/../../x" -> "" entry "a/../../x": path escapes layer directory
}

// The complete sequence for one container's root filesystem: unpack each
// layer once into the store, then mount the overlay. Needs root, so it is
// compiled but not run.
func ExampleStore_Mount() {
	store, err := layers.NewStore("/var/lib/minidocker/layers")
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := os.Open("layer.tar.gz") // a layer blob, as a registry serves it
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	diffID := digest.Digest("sha256:…") // from the image config's rootfs.diff_ids
	if _, err := store.Unpack(diffID, f); err != nil {
		fmt.Println(err)
		return
	}
	// The container's directories: upper and work on one filesystem.
	c := "/var/lib/minidocker/containers/c1"
	err = store.Mount(c+"/merged", []digest.Digest{diffID}, c+"/upper", c+"/work")
	fmt.Println(err)
	// Undo with unix.Unmount(c+"/merged", 0).
}
