package namespaces

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMountFlags(t *testing.T) {
	tests := []struct {
		flags uintptr
		want  string
	}{
		{0, "0"},
		{unix.MS_BIND | unix.MS_REC, "MS_BIND|MS_REC"},
		{unix.MS_PRIVATE | unix.MS_REC, "MS_REC|MS_PRIVATE"},
		{unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY, "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC"},
		{1 << 30, "0x40000000"},
	}
	for _, tc := range tests {
		if got := MountFlags(tc.flags); got != tc.want {
			t.Errorf("MountFlags(%#x) = %q, want %q", tc.flags, got, tc.want)
		}
	}
}

func TestMountError(t *testing.T) {
	err := Mount("none", "/nonexistent/mdk-target", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m")
	me, ok := errors.AsType[*MountError](err)
	if !ok {
		t.Fatalf("Mount on a missing target: error %v, want a *MountError", err)
	}
	const want = `mount "none" on "/nonexistent/mdk-target" type tmpfs flags MS_NOSUID|MS_NODEV data "size=1m": no such file or directory`
	if me.Error() != want {
		t.Errorf("Error() = %q, want %q", me.Error(), want)
	}
	if !errors.Is(err, unix.ENOENT) {
		t.Errorf("errors.Is(%v, ENOENT) = false", err)
	}
}
