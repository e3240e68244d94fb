package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// devLinks makes /dev's symbolic links: ptmx to the devpts's own (replacing
// a node an image may have there), and fd, stdin, stdout, stderr and core
// into /proc. A link that exists already is left alone.
func devLinks(root *os.Root) error {
	if err := root.Remove("dev/ptmx"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	links := [][2]string{
		{"pts/ptmx", "dev/ptmx"}, {"/proc/self/fd", "dev/fd"}, {"/proc/self/fd/0", "dev/stdin"},
		{"/proc/self/fd/1", "dev/stdout"}, {"/proc/self/fd/2", "dev/stderr"},
	}
	// As runc: /dev/core only where the kernel has a /proc/kcore
	// (CONFIG_PROC_KCORE), never a link to nothing.
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links = append(links, [2]string{"/proc/kcore", "dev/core"})
	}
	for _, l := range links {
		if err := root.Symlink(l[0], l[1]); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	return nil
}

// makeDevices makes each device node with mknod(2), its parent directories
// as needed, resolved inside root. A node that exists already (an image's
// own /dev) is kept, as runc keeps it. In a user namespace, where mknod of
// a device fails, each is the host's node bound instead (bindDevice).
func makeDevices(root *os.Root, devices []Device) error {
	mk := makeDevice
	if inUserNamespace() {
		mk = bindDevice
	}
	for _, d := range devices {
		if err := mk(root, d); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	return nil
}

func makeDevice(root *os.Root, d Device) error {
	var kind uint32
	switch d.Type {
	case "c", "u":
		kind = unix.S_IFCHR
	case "b":
		kind = unix.S_IFBLK
	case "p":
		kind = unix.S_IFIFO
	default:
		return fmt.Errorf("type %q is not c, u, b or p", d.Type)
	}
	if !filepath.IsAbs(d.Path) {
		return errors.New("path must be absolute")
	}
	parent, err := resolveIn(root.Name(), filepath.Dir(d.Path))
	if err != nil {
		return err
	}
	if err := root.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	dir, err := root.OpenFile(parent, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer dir.Close()
	name, perm := filepath.Base(d.Path), uint32(d.FileMode.Perm())
	if d.FileMode == 0 {
		perm = 0o666
	}
	err = unix.Mknodat(int(dir.Fd()), name, kind|perm, int(unix.Mkdev(uint32(d.Major), uint32(d.Minor))))
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	if err != nil {
		return &os.PathError{Op: fmt.Sprintf("mknod %s %d %d", d.Type, d.Major, d.Minor), Path: d.Path, Err: err}
	}
	// mknod's mode is masked by the umask: set it again.
	if err := unix.Fchmodat(int(dir.Fd()), name, perm, 0); err != nil {
		return &os.PathError{Op: fmt.Sprintf("chmod %#o", perm), Path: d.Path, Err: err}
	}
	if d.UID != 0 || d.GID != 0 {
		if err := unix.Fchownat(int(dir.Fd()), name, int(d.UID), int(d.GID), unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &os.PathError{Op: fmt.Sprintf("chown %d:%d", d.UID, d.GID), Path: d.Path, Err: err}
		}
	}
	return nil
}
