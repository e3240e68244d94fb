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
// A whiteout deletes only from the lower layers (image-spec layer.md), so
// an entry of the same layer keeps its place: ".wh.x" after this layer's
// own file x changes nothing, and a directory next to its own whiteout
// becomes opaque.
//
// # The syscalls, in order
//
//  1. sniff the compression (gzip 1f 8b, zstd 28 b5 2f fd, or plain tar)
//  2. for each entry, inside the layer directory opened with os.Root
//     (each path component opened with O_NOFOLLOW, so resolution never
//     leaves it): mkdirat, openat(O_CREAT|O_EXCL|O_NOFOLLOW) + write,
//     symlinkat, linkat, mknodat; then fchown, fchmod (after the chown,
//     which clears setuid), fsetxattr, utimensat; directories' times last,
//     after their contents
//  3. sha256 of the uncompressed stream must equal the diffID, else the
//     temporary directory is removed; rename(2) makes the layer visible
//  4. mount("overlay", target, "overlay", 0, "lowerdir=l/A:l/B,upperdir=…,workdir=…"),
//     from the store's directory with short l/ links, because the mount's
//     data string may not exceed one page (4096 bytes)
//
// # The way back: Diff
//
// A container's changes land in its overlay upper directory, already in
// overlayfs' form: a deleted file is a 0/0 character device, a replaced
// directory carries trusted.overlay.opaque. Diff turns that directory back
// into a layer tar in the image-spec's form (".wh.NAME",
// "DIR/.wh..wh..opq"), which is how a build's RUN becomes a layer. Its
// output depends only on the files (lexical order, whole-second times, no
// user names), so the same changes give the same diffID, and unpacking it
// on the same lowers shows what the container saw.
//
// # What goes wrong
//
// A hostile layer names "../../etc/passwd", a hard link to a file outside,
// or a symlink "x -> /etc" followed by "x/passwd": each is refused with an
// error naming the entry (ErrEscape), and os.Root guarantees that nothing
// was written outside even before the error. An absolute name such as
// "/etc/passwd" is taken relative to the layer, as Docker does. An entry
// over a symlink replaces the symlink; it never writes through it.
//
// Without CAP_MKNOD (in a user namespace) mknod of a device fails with
// EPERM: ApplyWarn reports the entry and goes on, as Docker does. The
// whiteout device 0/0 needs no capability since Linux 5.8.
//
// A layer whose bytes do not hash to its diffID never becomes visible.
// Overlayfs wants upper and work on one filesystem, and trusted.* xattrs
// (root) for the opaque marker; a mount error carries the whole data string.
//
// # See also
//
// The OCI image-spec layer.md (whiteouts); Documentation/filesystems/overlayfs.rst;
// moby daemon/graphdriver/overlay2; containerd archive/tar.go.
package layers
