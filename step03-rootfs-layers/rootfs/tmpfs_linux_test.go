package rootfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestSplitTmpfsOptions: the flag words become mount(2) flags, in order (a
// later exec undoes an earlier noexec), the rest is tmpfs's data.
func TestSplitTmpfsOptions(t *testing.T) {
	for _, tc := range []struct {
		options []string
		flags   uintptr
		data    string
	}{
		{[]string{"noexec", "nosuid", "nodev", "size=65536", "mode=1777"}, unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV, "size=65536,mode=1777"},
		{[]string{"noexec", "nosuid", "exec", "ro", "size=2m"}, unix.MS_NOSUID | unix.MS_RDONLY, "size=2m"},
		{[]string{"ro", "rw"}, 0, ""},
		{nil, 0, ""},
	} {
		flags, data := splitTmpfsOptions(tc.options)
		if flags != tc.flags || data != tc.data {
			t.Errorf("splitTmpfsOptions(%q) = %#x, %q; want %#x, %q", tc.options, flags, data, tc.flags, tc.data)
		}
	}
}
