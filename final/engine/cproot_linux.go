package engine

import (
	"fmt"
	"os"
	"runtime"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"minidocker/step03-rootfs-layers/layers"
)

// bind is a volume to mount in a stopped container's root for cp: a host
// directory or file at a path in the container.
type bind struct {
	source, destination string
	readOnly            bool
}

// mountPrivate mounts a stopped container's root for docker cp where
// nobody but us ever sees it: its overlay (the image's layers, lowers,
// under its own layer, upper) on target, and its volumes on it. A
// goroutine locks itself to its thread, which leaves the host's mount
// namespace (unshare(CLONE_NEWNS), then "/" made private so that nothing
// propagates back), mounts, and opens the root. Lookups through that open
// directory cross the volumes' mounts from any thread. The thread then
// waits for release (call it once the files are closed), unmounts, and is
// never given back to Go: it ends when the goroutine returns, and its
// namespace with it. Nothing stays mounted, whatever happens to the copy
// (even if we die: the namespace dies with us).
func mountPrivate(target string, lowers []string, upper, work string, volumes []bind) (*os.File, func(), error) {
	type result struct {
		f   *os.File
		err error
	}
	done, release, released := make(chan result, 1), make(chan struct{}), make(chan struct{})
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
			for _, v := range volumes {
				// Where the container sees it, resolved inside its root;
				// a volume whose mount point the image lacks is left out
				// (the init makes it at the start).
				dst, err := securejoin.SecureJoin(target, v.destination)
				if err != nil {
					return nil, err
				}
				if _, err := os.Lstat(dst); err != nil {
					continue
				}
				if err := unix.Mount(v.source, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
					return nil, fmt.Errorf("volume %s on %s: %w", v.source, v.destination, err)
				}
				if v.readOnly {
					if err := unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_REC, ""); err != nil {
						return nil, fmt.Errorf("volume %s read-only: %w", v.destination, err)
					}
				}
			}
			return os.Open(target)
		}()
		done <- result{f, err}
		if err == nil {
			<-release
			// Unmounted here, before the caller lets the container start:
			// with its files closed, the overlay is gone at once.
			unix.Unmount(target, unix.MNT_DETACH)
			close(released)
		}
	}()
	r := <-done
	if r.err != nil {
		return nil, nil, r.err
	}
	return r.f, func() { close(release); <-released }, nil
}
