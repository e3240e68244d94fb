package cgroups

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// The cpuset controller pins a container to CPUs and memory nodes (docker
// run --cpuset-cpus 0-1 --cpuset-mems 0): cpuset.cpus and cpuset.mems,
// lists like "0-3,6", which must be a subset of the parent's.
//
// On cgroup v1 a new cpuset cgroup starts with both files EMPTY, and the
// kernel refuses to put a process in a cgroup without CPUs or memory
// nodes (ENOSPC on cgroup.procs). So every cpuset directory we create, the
// shared minidocker/ and each directory of a Config.Path or
// --cgroup-parent alike, first gets a copy of its parent's lists, from the
// top down, even when the container asks for no cpuset at all. runc does
// the same (libcontainer/cgroups/fs/cpuset.go, cpusetEnsureParent).
//
// On cgroup v2 an empty cpuset.cpus means "the parent's" (the kernel shows
// the result in cpuset.cpus.effective): nothing to copy; the controller
// just has to be enabled in the parent's cgroup.subtree_control like the
// others (enableControllers).

// cpusetFiles are copied down, cpus first: the kernel checks each against
// the parent's.
var cpusetFiles = []string{"cpuset.cpus", "cpuset.mems"}

// fillCpuset gives each v1 cpuset directory between the tree's root and
// h.dir, h.dir included, its parent's CPUs and memory nodes when it has
// none yet. The directories exist already (mkdirShared made them).
func fillCpuset(h *hierarchy) error {
	if h.v2 || !slices.Contains(h.controllers, "cpuset") {
		return nil
	}
	rel, err := filepath.Rel(h.mount, h.dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("cpuset: %s is not inside %s", h.dir, h.mount)
	}
	parent := h.mount
	for part := range strings.SplitSeq(rel, "/") {
		dir := filepath.Join(parent, part)
		for _, f := range cpusetFiles {
			cur, err := readFile(dir, f)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("cpuset: %w", err)
			}
			if cur != "" {
				continue // set already: by us, another container, or the admin
			}
			v, err := readFile(parent, f)
			if err != nil {
				return fmt.Errorf("cpuset: read the parent's %s: %w", f, err)
			}
			if err := writeFile(dir, f, v); err != nil {
				return fmt.Errorf("cpuset: copy the parent's %s: %w", f, err)
			}
		}
		parent = dir
	}
	return nil
}

// setCpuset writes --cpuset-cpus and --cpuset-mems into the container's
// own cgroup, the same file names on v1 and v2.
func (m *manager) setCpuset(r Resources) error {
	if r.CpusetCpus == "" && r.CpusetMems == "" {
		return nil
	}
	h, err := m.need("cpuset")
	if err != nil {
		return err
	}
	if r.CpusetCpus != "" {
		if err := writeFile(h.dir, "cpuset.cpus", r.CpusetCpus); err != nil {
			return err
		}
	}
	if r.CpusetMems != "" {
		return writeFile(h.dir, "cpuset.mems", r.CpusetMems)
	}
	return nil
}
