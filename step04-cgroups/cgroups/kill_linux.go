package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func supported() error { return nil }

// killAll kills every process of the container and waits until its
// cgroups are empty.
//
// v2 has cgroup.kill (kernel 5.14+): one write, and the kernel kills every
// process in the subtree, including ones forked meanwhile. v1 has no such
// file, and a fork bomb forks faster than we can read cgroup.procs and
// kill: so freeze the cgroup first (freezer.state FROZEN), read the PIDs,
// SIGKILL each, and thaw so that the kills are delivered. Repeat until
// cgroup.procs is empty.
func (m *manager) killAll(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	pause := time.Millisecond // doubles up to 32 ms: dying takes a moment
	for ; ; pause = min(2*pause, 32*time.Millisecond) {
		pids, err := m.procs()
		if err != nil {
			return fmt.Errorf("cgroups: list processes: %w", err)
		}
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups: %d processes left in container %s after %v: %w", len(pids), m.id, timeout, ErrNotEmpty)
		}
		if m.v2Kill() {
			time.Sleep(pause)
			continue
		}
		thaw := m.freeze()
		if thaw != nil { // frozen: nothing forks while we read and kill
			if pids, err = m.procs(); err != nil {
				thaw()
				return fmt.Errorf("cgroups: list processes: %w", err)
			}
		}
		for _, pid := range pids {
			_ = unix.Kill(pid, unix.SIGKILL) // ESRCH: it is gone already
		}
		if thaw != nil {
			thaw()
		}
		time.Sleep(pause)
	}
}

// v2Kill writes "1" to cgroup.kill when the container's tree is v2 and the
// kernel has the file.
func (m *manager) v2Kill() bool {
	h, ok := m.by["freezer"]
	if !ok || !h.v2 {
		return false
	}
	if _, err := os.Stat(filepath.Join(h.dir, "cgroup.kill")); err != nil {
		return false
	}
	return writeFile(h.dir, "cgroup.kill", "1") == nil
}

// freeze freezes the container (v1 freezer.state, or v2 cgroup.freeze on
// kernels older than cgroup.kill) and returns how to thaw it; nil when it
// could not.
func (m *manager) freeze() (thaw func()) {
	h, ok := m.by["freezer"]
	if !ok {
		return nil
	}
	if h.v2 {
		if writeFile(h.dir, "cgroup.freeze", "1") != nil {
			return nil
		}
		return func() { _ = writeFile(h.dir, "cgroup.freeze", "0") }
	}
	if writeFile(h.dir, "freezer.state", "FROZEN") != nil {
		return nil
	}
	// The state goes FREEZING -> FROZEN once every task has stopped.
	for range 100 {
		if s, _ := readFile(h.dir, "freezer.state"); s == "FROZEN" {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return func() { _ = writeFile(h.dir, "freezer.state", "THAWED") }
}

// removeDir removes one cgroup directory with rmdir(2): on cgroupfs the
// files in it are not real and go with it. A directory not on a cgroup
// filesystem is a test's fake tree, whose files must go first.
func removeDir(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return &os.PathError{Op: "statfs", Path: dir, Err: err}
	}
	if st.Type != unix.CGROUP_SUPER_MAGIC && st.Type != unix.CGROUP2_SUPER_MAGIC {
		if filepath.Base(filepath.Dir(dir)) != "minidocker" {
			return fmt.Errorf("refusing to remove %s: not a cgroup", dir)
		}
		return os.RemoveAll(dir)
	}
	var err error
	for i := range 200 { // EBUSY until the last exiting task has left
		if err = unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) {
			break
		}
		time.Sleep(time.Duration(min(i+1, 10)) * time.Millisecond)
	}
	return &os.PathError{Op: "rmdir", Path: dir, Err: err}
}

// removeParent removes the shared minidocker/ directory when it is empty.
func removeParent(dir string) error {
	err := unix.Rmdir(dir)
	if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return err
}

// Freeze is docker pause. The kernel stops the tasks one by one: v1 says
// FREEZING until the last one stopped, then FROZEN; v2 says frozen 1 in
// cgroup.events.
func (m *manager) Freeze() error {
	h, ok := m.by["freezer"]
	if !ok {
		return fmt.Errorf("cgroups: pause: no freezer for container %s: %w", m.id, errors.ErrUnsupported)
	}
	file, value, done := "freezer.state", "FROZEN", func() bool {
		s, _ := readFile(h.dir, "freezer.state")
		return s == "FROZEN"
	}
	if h.v2 {
		file, value, done = "cgroup.freeze", "1", func() bool {
			s, _ := readFile(h.dir, "cgroup.events")
			return strings.Contains(s, "frozen 1")
		}
	}
	if err := writeFile(h.dir, file, value); err != nil {
		return fmt.Errorf("cgroups: pause: %w", err)
	}
	for range 1000 {
		if done() {
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	m.Thaw()
	return fmt.Errorf("cgroups: pause: container %s did not freeze within 1 s", m.id)
}

// Thaw is docker unpause.
func (m *manager) Thaw() error {
	h, ok := m.by["freezer"]
	if !ok {
		return fmt.Errorf("cgroups: unpause: no freezer for container %s: %w", m.id, errors.ErrUnsupported)
	}
	file, value := "freezer.state", "THAWED"
	if h.v2 {
		file, value = "cgroup.freeze", "0"
	}
	if err := writeFile(h.dir, file, value); err != nil {
		return fmt.Errorf("cgroups: unpause: %w", err)
	}
	return nil
}
