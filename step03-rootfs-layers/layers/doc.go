// Package layers turns an image's layer tarballs into directories that
// overlayfs can stack: each layer unpacked once, into a directory of its
// own, keyed by its diffID.
//
// # The idea
//
// An image is a list of layers; each layer is a tar archive of the files
// it adds or changes. A layer deletes a file of an earlier layer with a
// "whiteout": an empty entry named .wh.NAME; and it hides a whole
// directory of earlier layers with an "opaque" marker .wh..wh..opq inside
// it. Docker's overlay2 keeps every layer as a separate read-only directory
// and lets the kernel merge them, so the whiteouts are converted to the
// form overlayfs understands instead of being applied:
//
//	tar entry            in the layer directory
//	.wh.NAME          -> NAME, a character device 0/0 ("whiteout")
//	DIR/.wh..wh..opq  -> DIR with xattr trusted.overlay.opaque=y
//
// # The syscalls, in order
//
//  1. sniff the compression (gzip 1f 8b, zstd 28 b5 2f fd, or plain tar)
//  2. for each entry, inside the layer directory opened with os.Root
//     (openat2-style resolution that never leaves it): mkdirat, openat +
//     write, symlinkat, linkat, mknodat; then fchownat, fchmodat,
//     fsetxattr, utimensat (directories last, after their contents)
//  3. sha256 of the uncompressed stream must equal the diffID, else the
//     temporary directory is removed; rename(2) makes the layer visible
//  4. mount("overlay", target, "overlay", 0, "lowerdir=l/A:l/B,upperdir=…,workdir=…"),
//     from the store's directory with short l/ links, because the mount's
//     data string may not exceed one page (4096 bytes)
//
// # What goes wrong
//
// A hostile layer names "../../etc/passwd", an absolute path, a hard link
// to a file outside, or a symlink "x -> /etc" followed by "x/passwd": each
// is refused with an error naming the entry, and os.Root guarantees that
// nothing was written outside even before the error. A layer whose bytes
// do not hash to its diffID never becomes visible.
//
// # See also
//
// The OCI image-spec layer.md (whiteouts); Documentation/filesystems/overlayfs.rst;
// moby daemon/graphdriver/overlay2; containerd archive/tar.go.
package layers
