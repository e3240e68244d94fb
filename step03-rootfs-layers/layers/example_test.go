package layers_test

import (
	"fmt"

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

func ExampleCleanName() {
	for _, name := range []string{"./usr/bin/", "/etc/passwd", "a/../../x"} {
		clean, err := layers.CleanName(name)
		fmt.Printf("%q -> %q %v\n", name, clean, err)
	}
	// Output:
	// "./usr/bin/" -> "usr/bin" <nil>
	// "/etc/passwd" -> "" entry "/etc/passwd": absolute name: path escapes layer directory
	// "a/../../x" -> "" entry "a/../../x": path escapes layer directory
}
