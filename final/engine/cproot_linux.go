package engine

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"

	"minidocker/step03-rootfs-layers/layers"
)

// mountPrivate mounts a stopped container's overlay (its image's layers,
// lowers, under its own layer, upper) for docker cp, so that nobody but us
// ever sees it: on a thread of its own that first leaves the host's mount
// namespace (unshare(CLONE_NEWNS), then "/" made private so that nothing
// propagates back), it mounts the overlay on target, opens it, and detaches
// the mount again (umount2(MNT_DETACH)). The open directory is then the
// only way to the overlay; closing it is its unmount. The thread is never
// given back to Go: it ends with its mount namespace when the goroutine
// returns. Nothing stays mounted, whatever happens to the copy.
func mountPrivate(target string, lowers []string, upper, work string) (*os.File, error) {
	type result struct {
		f   *os.File
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // and never unlocked: see above
		f, err := func() (*os.File, error) {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return nil, fmt.Errorf("unshare(CLONE_NEWNS): %w", err)
			}
			if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
				return nil, fmt.Errorf("make / private: %w", err)
			}
			if err := layers.MountOverlay(target, lowers, upper, work); err != nil {
				return nil, err
			}
			f, err := os.Open(target)
			if uerr := unix.Unmount(target, unix.MNT_DETACH); uerr != nil && err == nil {
				f.Close()
				err = fmt.Errorf("umount2(%s, MNT_DETACH): %w", target, uerr)
			}
			return f, err
		}()
		done <- result{f, err}
	}()
	r := <-done
	return r.f, r.err
}
