package namespaces

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// MountError is a failed mount(2) with all its arguments, flags by name, so
// that the message shows the call you could make by hand.
type MountError struct {
	Source, Target, FSType string
	Flags                  uintptr
	Data                   string
	Err                    error
}

func (e *MountError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mount %q on %q", e.Source, e.Target)
	if e.FSType != "" {
		fmt.Fprintf(&b, " type %s", e.FSType)
	}
	if e.Flags != 0 {
		fmt.Fprintf(&b, " flags %s", MountFlags(e.Flags))
	}
	if e.Data != "" {
		data := e.Data
		if len(data) > 200 {
			data = data[:200] + "…"
		}
		fmt.Fprintf(&b, " data %q", data)
	}
	return b.String() + ": " + e.Err.Error()
}

func (e *MountError) Unwrap() error { return e.Err }

// Mount is mount(2), returning a *MountError on failure.
func Mount(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return &MountError{Source: source, Target: target, FSType: fstype, Flags: flags, Data: data, Err: err}
	}
	return nil
}

// MountFlags names the MS_* bits of flags, e.g. "MS_BIND|MS_REC".
func MountFlags(flags uintptr) string {
	names := []struct {
		bit  uintptr
		name string
	}{
		{unix.MS_RDONLY, "MS_RDONLY"}, {unix.MS_NOSUID, "MS_NOSUID"}, {unix.MS_NODEV, "MS_NODEV"},
		{unix.MS_NOEXEC, "MS_NOEXEC"}, {unix.MS_SYNCHRONOUS, "MS_SYNCHRONOUS"}, {unix.MS_REMOUNT, "MS_REMOUNT"},
		{unix.MS_MANDLOCK, "MS_MANDLOCK"}, {unix.MS_DIRSYNC, "MS_DIRSYNC"}, {unix.MS_NOATIME, "MS_NOATIME"},
		{unix.MS_NODIRATIME, "MS_NODIRATIME"}, {unix.MS_BIND, "MS_BIND"}, {unix.MS_MOVE, "MS_MOVE"},
		{unix.MS_REC, "MS_REC"}, {unix.MS_SILENT, "MS_SILENT"}, {unix.MS_UNBINDABLE, "MS_UNBINDABLE"},
		{unix.MS_PRIVATE, "MS_PRIVATE"}, {unix.MS_SLAVE, "MS_SLAVE"}, {unix.MS_SHARED, "MS_SHARED"},
		{unix.MS_RELATIME, "MS_RELATIME"}, {unix.MS_STRICTATIME, "MS_STRICTATIME"},
	}
	var out []string
	for _, n := range names {
		if flags&n.bit != 0 {
			out = append(out, n.name)
			flags &^= n.bit
		}
	}
	if flags != 0 {
		out = append(out, fmt.Sprintf("%#x", flags))
	}
	if len(out) == 0 {
		return "0"
	}
	return strings.Join(out, "|")
}
