package cgroups

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/asm"
)

// The values of struct bpf_cgroup_dev_ctx's access_type, from the kernel's
// uapi <linux/bpf.h> (written out here so that the package builds anywhere).
const (
	devcgAccMknod = 1 << 0 // BPF_DEVCG_ACC_MKNOD
	devcgAccRead  = 1 << 1 // BPF_DEVCG_ACC_READ
	devcgAccWrite = 1 << 2 // BPF_DEVCG_ACC_WRITE
	devcgDevBlock = 1 << 0 // BPF_DEVCG_DEV_BLOCK
	devcgDevChar  = 1 << 1 // BPF_DEVCG_DEV_CHAR
)

// Any is the "*" of a device rule's major or minor number.
const Any int64 = -1

// DeviceRule is one rule of the devices controller, in the form cgroup v1
// reads from devices.allow and devices.deny: "c 1:3 rwm" is the character
// device 1:3 (/dev/null), for reading, writing and mknod.
type DeviceRule struct {
	Allow bool
	// Type is 'a' (all devices, only valid with Any:Any), 'c' (character)
	// or 'b' (block).
	Type         byte
	Major, Minor int64  // Any is "*"
	Access       string // some of "rwm": read, write, mknod
}

// String is the rule as written to devices.allow or devices.deny.
func (r DeviceRule) String() string {
	num := func(n int64) string {
		if n == Any {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, num(r.Major), num(r.Minor), r.Access)
}

// Devices says which devices the container may use.
type Devices struct {
	// AllowAll puts no rule at all (docker run --privileged): every
	// device of the host may be created and opened.
	AllowAll bool
	// Keep leaves the device rules as they are: a change of the other
	// limits of a running container (an OCI runtime's update), which must
	// not open or close a device meanwhile.
	Keep bool
	// Rules replace DefaultDeviceRules when not nil. The first must be
	// "a *:* rwm" (deny: an allow-list follows; allow: a deny-list
	// follows); later rules win over earlier ones.
	Rules []DeviceRule
}

// rules is what to apply: nil for AllowAll.
func (d Devices) rules() []DeviceRule {
	switch {
	case d.AllowAll:
		return nil
	case d.Rules != nil:
		return d.Rules
	}
	return DefaultDeviceRules
}

// DefaultDeviceRules is Docker's device allow-list (moby's
// oci.DefaultLinuxSpec, plus the rules runc adds to every container): deny
// every device, then allow the harmless ones a program expects in /dev, the
// pseudo-terminals, and mknod (but not open) of any device, so that images
// whose install scripts create device nodes still work. /dev/kmsg (c 1:11)
// is not in the list: a container may create the node and cannot open it.
//
// The fuse deny is Docker's; it comes right after the deny-all, where it
// changes nothing on either cgroup version (fuse is not in the allow-list),
// so that v1's exact-match removal and the v2 program's "later rules win"
// agree on it: "m" on c *:* still lets mknod create a fuse node, as on v1.
var DefaultDeviceRules = []DeviceRule{
	{Allow: false, Type: 'a', Major: Any, Minor: Any, Access: "rwm"}, // deny everything, then...
	{Allow: false, Type: 'c', Major: 10, Minor: 229, Access: "rwm"},  // /dev/fuse (Docker denies it)
	{Allow: true, Type: 'c', Major: Any, Minor: Any, Access: "m"},    // mknod of any char device
	{Allow: true, Type: 'b', Major: Any, Minor: Any, Access: "m"},    // mknod of any block device
	{Allow: true, Type: 'c', Major: 1, Minor: 3, Access: "rwm"},      // /dev/null
	{Allow: true, Type: 'c', Major: 1, Minor: 5, Access: "rwm"},      // /dev/zero
	{Allow: true, Type: 'c', Major: 1, Minor: 7, Access: "rwm"},      // /dev/full
	{Allow: true, Type: 'c', Major: 1, Minor: 8, Access: "rwm"},      // /dev/random
	{Allow: true, Type: 'c', Major: 1, Minor: 9, Access: "rwm"},      // /dev/urandom
	{Allow: true, Type: 'c', Major: 5, Minor: 0, Access: "rwm"},      // /dev/tty
	{Allow: true, Type: 'c', Major: 5, Minor: 1, Access: "rwm"},      // /dev/console
	{Allow: true, Type: 'c', Major: 5, Minor: 2, Access: "rwm"},      // /dev/ptmx
	{Allow: true, Type: 'c', Major: 136, Minor: Any, Access: "rwm"},  // /dev/pts/*
	{Allow: true, Type: 'c', Major: 10, Minor: 200, Access: "rwm"},   // /dev/net/tun (runc adds it)
}

// checkDeviceRules refuses a list the kernel or the program below would
// read differently from what it says.
func checkDeviceRules(rules []DeviceRule) error {
	for i, r := range rules {
		switch r.Type {
		case 'a':
			if i != 0 || r.Major != Any || r.Minor != Any || r.Access != "rwm" {
				return fmt.Errorf("device rule %d %q: \"a\" is only valid first, as \"a *:* rwm\"", i, r)
			}
		case 'c', 'b':
			if i == 0 {
				return fmt.Errorf("device rule 0 %q: the first rule must be \"a *:* rwm\"", r)
			}
		default:
			return fmt.Errorf("device rule %d: invalid type %q", i, r.Type)
		}
		if r.Access == "" || strings.Trim(r.Access, "rwm") != "" {
			return fmt.Errorf("device rule %d %q: invalid access %q (want some of rwm)", i, r, r.Access)
		}
		if r.Major < Any || r.Minor < Any || r.Major > 1<<31-1 || r.Minor > 1<<31-1 {
			return fmt.Errorf("device rule %d %q: invalid device number", i, r)
		}
	}
	if len(rules) == 0 {
		return fmt.Errorf("no device rules: the first must be \"a *:* rwm\"")
	}
	return nil
}

// DeviceProgram compiles rules into the eBPF program that cgroup v2 runs
// on every device access of the cgroup's processes (there is no
// devices.allow file on v2). The kernel calls it with a struct
// bpf_cgroup_dev_ctx in R1:
//
//	u32 access_type  // (access << 16) | type: BPF_DEVCG_ACC_{MKNOD,READ,WRITE}, BPF_DEVCG_DEV_{BLOCK,CHAR}
//	u32 major
//	u32 minor
//
// and the program returns 1 to allow, 0 to refuse (EPERM). It is a list of
// blocks, one per rule, each of which jumps to the next unless the access
// matches, in which case it returns the rule's verdict. The last rule that
// matches decides (as on v1, where a later line overrides an earlier one),
// so the blocks go in reverse order, and the first rule, "a *:* rwm", is
// the default at the end. The same layout as runc's, which it took from
// crun.
func DeviceProgram(rules []DeviceRule) (asm.Instructions, error) {
	if err := checkDeviceRules(rules); err != nil {
		return nil, err
	}
	insns := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // R2 = type (low 16 bits of access_type)
		asm.And.Imm32(asm.R2, 0xffff),
		asm.LoadMem(asm.R3, asm.R1, 0, asm.Word), // R3 = access (high 16 bits)
		asm.RSh.Imm32(asm.R3, 16),
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word), // R4 = major
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word), // R5 = minor
	}
	block := 0
	for i := len(rules) - 1; i >= 1; i-- {
		r := rules[i]
		next := "rule-" + strconv.Itoa(block+1)
		typ := int32(devcgDevChar)
		if r.Type == 'b' {
			typ = devcgDevBlock
		}
		b := asm.Instructions{asm.JNE.Imm(asm.R2, typ, next)}
		if access := accessBits(r.Access); access != devcgAccMknod|devcgAccRead|devcgAccWrite {
			// The access asked for must be a subset of the rule's:
			// (R3 & access) == R3, computed in R1 (the context is read).
			b = append(b,
				asm.Mov.Reg32(asm.R1, asm.R3),
				asm.And.Imm32(asm.R1, access),
				asm.JNE.Reg(asm.R1, asm.R3, next))
		}
		if r.Major != Any {
			b = append(b, asm.JNE.Imm(asm.R4, int32(r.Major), next))
		}
		if r.Minor != Any {
			b = append(b, asm.JNE.Imm(asm.R5, int32(r.Minor), next))
		}
		b = append(b, asm.Mov.Imm32(asm.R0, verdict(r.Allow)), asm.Return())
		b[0] = b[0].WithSymbol("rule-" + strconv.Itoa(block))
		insns = append(insns, b...)
		block++
	}
	return append(insns,
		asm.Mov.Imm32(asm.R0, verdict(rules[0].Allow)).WithSymbol("rule-"+strconv.Itoa(block)),
		asm.Return()), nil
}

func accessBits(access string) int32 {
	var bits int32
	for _, c := range access {
		switch c {
		case 'r':
			bits |= devcgAccRead
		case 'w':
			bits |= devcgAccWrite
		case 'm':
			bits |= devcgAccMknod
		}
	}
	return bits
}

func verdict(allow bool) int32 {
	if allow {
		return 1
	}
	return 0
}
