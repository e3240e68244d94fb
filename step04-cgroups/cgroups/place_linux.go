package cgroups

import "syscall"

// Place says how to start a process inside m's cgroups, before it runs
// anything of its own. On a pure cgroup v2 host it returns base (which may
// be nil) with clone3's CLONE_INTO_CGROUP added: the child is born in the
// cgroup. Otherwise (v1, hybrid) attr is base and apply must be called with
// the child's PID while it still waits (namespaces.Options.Created does
// that).
func Place(m Manager, base *syscall.SysProcAttr) (attr *syscall.SysProcAttr, apply func(pid int) error) {
	if fd, ok := m.CgroupFD(); ok {
		a := &syscall.SysProcAttr{}
		if base != nil {
			*a = *base
		}
		a.UseCgroupFD, a.CgroupFD = true, fd
		return a, nil
	}
	return base, m.Apply
}
