package cgroups

import (
	"errors"
	"fmt"
	"strconv"
)

// setMemoryExtra writes the memory settings beyond the hard limit
// (setMemory):
//
//   - MemoryReservation, the soft limit: v1 memory.soft_limit_in_bytes,
//     v2 memory.low. Under memory pressure the kernel reclaims first from
//     the cgroups above theirs.
//   - MemorySwappiness: v1 memory.swappiness, 0-100, how eagerly the
//     kernel swaps this cgroup's anonymous memory rather than drop page
//     cache.
//   - OOMKillDisable: v1 memory.oom_control 1: a process that hits the
//     limit waits for memory instead of being killed.
//
// cgroup v2 has no swappiness and no per-cgroup OOM killer switch (only
// the host-wide vm.swappiness, and memory.oom.group, which is something
// else). runc skips them there with a warning and Docker drops them; a
// library cannot warn, and a limit asked for and silently not applied is
// worse than a refusal, so on v2 we fail with an error naming the setting
// (errors.ErrUnsupported).
func (m *manager) setMemoryExtra(r Resources) error {
	if r.MemoryReservation == 0 && r.MemorySwappiness == nil && !r.OOMKillDisable {
		return nil
	}
	h, err := m.need("memory")
	if err != nil {
		return err
	}
	// Refuse before writing anything.
	switch sw := r.MemorySwappiness; {
	case sw != nil && h.v2:
		return fmt.Errorf("memory swappiness %d: cgroup v2 has no memory.swappiness: %w", *sw, errors.ErrUnsupported)
	case sw != nil && *sw > 100:
		return fmt.Errorf("invalid memory swappiness %d: it must be between 0 and 100", *sw)
	case r.OOMKillDisable && h.v2:
		return fmt.Errorf("oom kill disable: cgroup v2 has no memory.oom_control: %w", errors.ErrUnsupported)
	}
	if r.MemoryReservation != 0 {
		file := "memory.soft_limit_in_bytes"
		if h.v2 {
			file = "memory.low"
		}
		if err := writeFile(h.dir, file, strconv.FormatInt(r.MemoryReservation, 10)); err != nil {
			return err
		}
	}
	if r.MemorySwappiness != nil {
		if err := writeFile(h.dir, "memory.swappiness", strconv.FormatUint(*r.MemorySwappiness, 10)); err != nil {
			return err
		}
	}
	if r.OOMKillDisable {
		return writeFile(h.dir, "memory.oom_control", "1")
	}
	return nil
}
