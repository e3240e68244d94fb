package layers

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"minidocker/step02-namespaces/namespaces"
)

// MountOverlay mounts an overlay on target: lowers (read-only, topmost
// first) under upper (writable), with work as overlayfs' scratch space on
// the same filesystem as upper.
//
// The options travel in mount(2)'s data argument, which the kernel copies
// as one page: with 100 layers of absolute paths it overflows. When it
// would, and all lowers share one parent directory (the Store's l/ links
// do), the mount is made from that directory with relative lowerdir paths,
// as Docker's overlay2 does.
func MountOverlay(target string, lowers []string, upper, work string) error {
	return mountOverlay(target, lowers, upper, work, mountFrom)
}

// mountOverlay is MountOverlay with the mount from a directory done by
// from: mountFrom, or, on a thread that has its own working directory
// already, a chdir and the mount right there.
func mountOverlay(target string, lowers []string, upper, work string, from func(dir, source, target, fstype string, flags uintptr, data string) error) error {
	if len(lowers) == 0 {
		return fmt.Errorf("overlay on %s: no lower layers", target)
	}
	// Absolute paths: the fallback below changes the working directory.
	cwd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("overlay on %s: %w", target, err)
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(cwd, p)
	}
	target, upper, work = abs(target), abs(upper), abs(work)
	lowers = slices.Clone(lowers)
	for i := range lowers {
		lowers[i] = abs(lowers[i])
	}
	data := overlayData(lowers, upper, work)
	if len(data) < os.Getpagesize()-1 {
		return namespaces.Mount("overlay", target, "overlay", 0, data)
	}
	base := filepath.Dir(lowers[0])
	rel := make([]string, len(lowers))
	for i, l := range lowers {
		if filepath.Dir(l) != base {
			return fmt.Errorf("overlay on %s: %d lower layers do not fit in one page and do not share a directory", target, len(lowers))
		}
		rel[i] = filepath.Join(filepath.Base(base), filepath.Base(l))
	}
	data = overlayData(rel, upper, work)
	if len(data) >= os.Getpagesize()-1 {
		return fmt.Errorf("overlay on %s: %d lower layers: mount data is %d bytes, more than a page", target, len(lowers), len(data))
	}
	return from(filepath.Dir(base), "overlay", target, "overlay", 0, data)
}

// overlayData is the mount's data string, in overlayfs' own words
// (Documentation/filesystems/overlayfs.rst): lowerdir lists the
// read-only layers topmost first, separated by ':'. A ':' or ',' inside a
// path is escaped with a backslash, as overlayfs expects.
func overlayData(lowers []string, upper, work string) string {
	esc := strings.NewReplacer(`\`, `\\`, `:`, `\:`, `,`, `\,`)
	escaped := make([]string, len(lowers))
	for i, l := range lowers {
		escaped[i] = esc.Replace(l)
	}
	return "lowerdir=" + strings.Join(escaped, ":") + ",upperdir=" + esc.Replace(upper) + ",workdir=" + esc.Replace(work)
}

// mountFrom calls mount(2) with dir as the current directory. The working
// directory belongs to the whole process, so the chdir happens on an OS
// thread that first unshares its filesystem attributes (CLONE_FS) and is
// never handed back to the Go scheduler: when the goroutine ends, the
// thread ends with it.
func mountFrom(dir, source, target, fstype string, flags uintptr, data string) error {
	return onThrowawayThread(func() error {
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return fmt.Errorf("unshare(CLONE_FS): %w", err)
		}
		if err := unix.Chdir(dir); err != nil {
			return &os.PathError{Op: "chdir", Path: dir, Err: err}
		}
		return namespaces.Mount(source, target, fstype, flags, data)
	})
}
