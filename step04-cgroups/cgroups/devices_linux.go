package cgroups

import (
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// attachDevices puts the device program for rules on the v2 cgroup dir. A
// variable so that format tests, whose "cgroup" is a plain directory, can
// see what would be attached.
var attachDevices = attachDeviceProgram

// LoadDeviceProgram asks the kernel to load (and so verify) the program for
// rules, as bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE). The kernel
// loads it also on a host whose devices controller is v1; attaching it is
// what needs a v2 cgroup. Close the program when done.
func LoadDeviceProgram(rules []DeviceRule) (*ebpf.Program, error) {
	insns, err := DeviceProgram(rules)
	if err != nil {
		return nil, err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "mdk_devices",
		Type:         ebpf.CGroupDevice,
		Instructions: insns,
		License:      "MIT",
	})
	if err != nil {
		return nil, fmt.Errorf("load the device program: %w", err)
	}
	return prog, nil
}

// attachDeviceProgram loads the program and attaches it to the cgroup
// directory dir with bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE,
// BPF_F_ALLOW_MULTI): with ALLOW_MULTI the programs of the parent cgroups
// run too, and an access passes only if every one of them allows it, so a
// container can never get more than its parent. The attachment holds the
// program; our fd of it can go.
func attachDeviceProgram(dir string, rules []DeviceRule) error {
	prog, err := LoadDeviceProgram(rules)
	if err != nil {
		return err
	}
	defer prog.Close()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	if err := link.RawAttachProgram(link.RawAttachProgramOptions{
		Target:  fd,
		Program: prog,
		Attach:  ebpf.AttachCGroupDevice,
		Flags:   unix.BPF_F_ALLOW_MULTI,
	}); err != nil {
		return fmt.Errorf("attach the device program to %s: %w", dir, err)
	}
	return nil
}
