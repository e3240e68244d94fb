//go:build !linux

package cgroups

import "syscall"

// Place is Manager.Apply outside Linux (where New already failed).
func Place(m Manager, base *syscall.SysProcAttr) (attr *syscall.SysProcAttr, apply func(pid int) error) {
	return base, m.Apply
}
