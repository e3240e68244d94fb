package privileges

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The init calls BeforeUser, switches to the container's user, then calls
// AfterUser, and executes the command; all on one locked OS thread, since
// capabilities, no_new_privs and the bounding set belong to a thread, and
// the command inherits the thread that calls execve. runc's order:
//
//	prctl(PR_SET_NO_NEW_PRIVS)            if asked
//	seccomp(SET_MODE_FILTER)              here when no_new_privs is off: loading a
//	                                      filter then needs CAP_SYS_ADMIN, which we still have
//	prctl(PR_CAPBSET_DROP, cap)           for every capability not kept
//	prctl(PR_SET_KEEPCAPS, 1)             setuid to a non-root user would clear them
//	setgroups, setgid, setuid             (the caller: the user switch)
//	prctl(PR_SET_KEEPCAPS, 0)
//	capset(effective = permitted = kept, inheritable = 0; or each set as Sets gives it)
//	prctl(PR_CAP_AMBIENT_CLEAR_ALL)       then PR_CAP_AMBIENT_RAISE for Sets' ambient ones
//	seccomp(SET_MODE_FILTER)              here when no_new_privs is on: as late as
//	                                      possible, so the filter need not allow our own set-up
//	execve
//
// The filter is installed with SECCOMP_FILTER_FLAG_TSYNC, for every thread
// of the process: a Go process has several.

// BeforeUser is the part of Apply that comes before the user switch.
func (c *Config) BeforeUser() error {
	if c.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("prctl PR_SET_NO_NEW_PRIVS: %w", err)
		}
	} else if c.Seccomp != nil {
		if err := LoadSeccomp(c.Seccomp); err != nil {
			return err
		}
	}
	keep, err := c.numbers(c.sets().Bounding)
	if err != nil {
		return err
	}
	for n := 0; n <= LastCap(); n++ {
		if slices.Contains(keep, n) {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(n), 0, 0, 0); err != nil {
			return fmt.Errorf("prctl PR_CAPBSET_DROP %s: %w", capName(n), err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_KEEPCAPS: %w", err)
	}
	return nil
}

// AfterUser is the part of Apply that comes after the user switch.
func (c *Config) AfterUser() (err error) {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_KEEPCAPS: %w", err)
	}
	sets := c.sets()
	var nums [5][]int // bounding is done; effective, permitted, inheritable, ambient
	for i, names := range [][]string{nil, sets.Effective, sets.Permitted, sets.Inheritable, sets.Ambient} {
		if nums[i], err = c.numbers(names); err != nil {
			return err
		}
	}
	if err := setCapabilities(nums[1], nums[2], nums[3]); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("prctl PR_CAP_AMBIENT_CLEAR_ALL: %w", err)
	}
	// An ambient capability must be permitted and inheritable already; one
	// that is not cannot be raised, and is left out, as runc leaves it
	// (runc spec lists ambient capabilities without inheritable ones).
	for _, n := range nums[4] {
		if !slices.Contains(nums[2], n) || !slices.Contains(nums[3], n) {
			continue
		}
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(n), 0, 0); err != nil {
			return fmt.Errorf("prctl PR_CAP_AMBIENT_RAISE %s: %w", capName(n), err)
		}
	}
	if c.NoNewPrivileges && c.Seccomp != nil {
		return LoadSeccomp(c.Seccomp)
	}
	return nil
}

// Apply is BeforeUser and AfterUser with no user switch between them.
func (c *Config) Apply() error {
	if err := c.BeforeUser(); err != nil {
		return err
	}
	return c.AfterUser()
}

// sets are c's capability sets: Sets, or Capabilities in bounding,
// effective and permitted.
func (c *Config) sets() CapabilitySets {
	if c.Sets != nil {
		return *c.Sets
	}
	return CapabilitySets{Bounding: c.Capabilities, Effective: c.Capabilities, Permitted: c.Capabilities}
}

// numbers are the capabilities of names, by number: those that this thread
// has at all. One it lacks cannot be given (a host's root may itself run
// without some, as in a container), and runc skips those too.
func (c *Config) numbers(names []string) ([]int, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var have [2]unix.CapUserData
	if err := unix.Capget(&hdr, &have[0]); err != nil {
		return nil, fmt.Errorf("capget: %w", err)
	}
	var out []int
	for _, name := range names {
		n, ok := CapNumber(name)
		if !ok {
			return nil, fmt.Errorf("unknown capability: %q", name)
		}
		if n <= LastCap() && have[n/32].Permitted&(1<<(n%32)) != 0 {
			out = append(out, n)
		}
	}
	return out, nil
}

// setCapabilities makes the calling thread's effective, permitted and
// inheritable sets exactly these (by number): capset(2) with the version 3
// header, whose data is two 32-bit words per set.
func setCapabilities(effective, permitted, inheritable []int) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for _, n := range effective {
		data[n/32].Effective |= 1 << (n % 32)
	}
	for _, n := range permitted {
		data[n/32].Permitted |= 1 << (n % 32)
	}
	for _, n := range inheritable {
		data[n/32].Inheritable |= 1 << (n % 32)
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// LoadSeccomp installs a compiled filter on every thread of the process.
func LoadSeccomp(prog []byte) error {
	if len(prog) == 0 || len(prog)%8 != 0 {
		return fmt.Errorf("seccomp: a filter of %d bytes is not a BPF program", len(prog))
	}
	filter := make([]unix.SockFilter, len(prog)/8)
	for i := range filter {
		r := decodeInstruction(prog[i*8:])
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return fmt.Errorf("seccomp SET_MODE_FILTER (%d instructions): %w", len(filter), errno)
	}
	return nil
}

var lastCap = -1

// LastCap is the highest capability number this kernel knows
// (/proc/sys/kernel/cap_last_cap). It may be higher than any name this
// package knows: a newer kernel's capability must still be dropped.
func LastCap() int {
	if lastCap >= 0 {
		return lastCap
	}
	lastCap = len(capNames) - 1
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 && n < 64 {
			lastCap = n
		}
	}
	return lastCap
}

func capName(n int) string {
	if n < len(capNames) {
		return capNames[n]
	}
	return "cap " + strconv.Itoa(n)
}

// kernelRelease is uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}
