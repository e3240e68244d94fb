package rootfs

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestParseMountOptions: the flag words become mount(2) flags, in order (a
// later exec undoes an earlier noexec), the rest is tmpfs's data.
func TestParseMountOptions(t *testing.T) {
	for _, tc := range []struct {
		options []string
		flags   uintptr
		data    string
	}{
		{[]string{"noexec", "nosuid", "nodev", "size=65536", "mode=1777"}, unix.MS_NOEXEC | unix.MS_NOSUID | unix.MS_NODEV, "size=65536,mode=1777"},
		{[]string{"noexec", "nosuid", "exec", "ro", "size=2m"}, unix.MS_NOSUID | unix.MS_RDONLY, "size=2m"},
		{[]string{"ro", "rw"}, 0, ""},
		{[]string{"rbind", "rro", "rprivate", "tmpcopyup", "nosymfollow", "size=1m"}, unix.MS_BIND | unix.MS_REC | unix.MS_NOSYMFOLLOW, "size=1m"},
		{nil, 0, ""},
	} {
		o := parseMountOptions(tc.options)
		flags, data := o.flags, o.data
		if flags != tc.flags || data != tc.data {
			t.Errorf("parseMountOptions(%q) = %#x, %q; want %#x, %q", tc.options, flags, data, tc.flags, tc.data)
		}
	}
}
