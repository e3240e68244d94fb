package cgroups

import "syscall"

// Place says how to start a process inside m's cgroups, before it runs
// anything of its own. On a pure cgroup v2 host it returns a SysProcAttr
// for clone3(CLONE_INTO_CGROUP): the child is born in the cgroup. Otherwise
// (v1, hybrid) attr is nil and apply must be called with the child's PID
// while it still waits (namespaces.Options.Created does that).
func Place(m Manager) (attr *syscall.SysProcAttr, apply func(pid int) error) {
	if fd, ok := m.CgroupFD(); ok {
		return &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}, nil
	}
	return nil, m.Apply
}
