package privileges

import (
	"errors"
	"fmt"
	"slices"

	seccompbpf "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Compile turns a seccomp profile in Docker's JSON format (nil: Docker's
// default profile, from github.com/moby/profiles/seccomp) into a filter for
// a process that keeps caps, for this machine's architecture.
//
// The profile is first resolved the way Docker resolves it (rules that
// depend on capabilities, architectures and the kernel's version are kept
// or left out), then each rule becomes a group of go-seccomp-bpf, which
// assembles the BPF program. Names this architecture does not have are
// skipped, as runc does.
func Compile(profile []byte, caps []string) ([]byte, error) {
	spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{
		Bounding: caps, Effective: caps, Permitted: caps,
	}}}
	var resolved *specs.LinuxSeccomp
	var err error
	if profile == nil {
		resolved, err = seccomp.GetDefaultProfile(spec)
	} else {
		resolved, err = seccomp.LoadProfile(string(profile), spec)
	}
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w", err)
	}
	if resolved == nil {
		return nil, errors.New("seccomp profile: it has no default action and no rules (use seccomp=unconfined for none)")
	}
	return assemble(resolved)
}

// CompileSpec assembles a profile that is already resolved, in the OCI
// runtime spec's form (an OCI bundle's linux.seccomp, which the engine above
// the runtime resolved from Docker's profile), for this architecture.
func CompileSpec(p *specs.LinuxSeccomp) ([]byte, error) { return assemble(p) }

func assemble(p *specs.LinuxSeccomp) ([]byte, error) {
	info, err := arch.GetInfo("")
	if err != nil {
		return nil, fmt.Errorf("seccomp: %w", err)
	}
	def, err := action(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: defaultAction: %w", err)
	}
	// One group per action, in the order the actions first appear; a name
	// allowed without conditions needs none of its conditional rules.
	var groups []seccompbpf.SyscallGroup
	unconditional := map[seccompbpf.Action]map[string]bool{}
	group := func(a seccompbpf.Action) *seccompbpf.SyscallGroup {
		for i := range groups {
			if groups[i].Action == a {
				return &groups[i]
			}
		}
		groups = append(groups, seccompbpf.SyscallGroup{Action: a})
		unconditional[a] = map[string]bool{}
		return &groups[len(groups)-1]
	}
	seen := map[string]seccompbpf.Action{} // the first action given to a name wins
	for _, rule := range p.Syscalls {
		a, err := action(rule.Action, rule.ErrnoRet)
		if err != nil {
			return nil, fmt.Errorf("seccomp profile: rule for %v: %w", rule.Names, err)
		}
		if a == def {
			continue // the default does it
		}
		conds, err := conditions(rule.Args)
		if err != nil {
			return nil, fmt.Errorf("seccomp profile: rule for %v: %w", rule.Names, err)
		}
		g := group(a)
		for _, name := range rule.Names {
			if _, ok := info.SyscallNames[name]; !ok {
				continue
			}
			if prev, ok := seen[name]; ok && prev != a {
				continue
			}
			seen[name] = a
			if len(conds) == 0 {
				if !unconditional[a][name] {
					unconditional[a][name] = true
					g.Names = append(g.Names, name)
				}
				continue
			}
			g.NamesWithCondtions = append(g.NamesWithCondtions, seccompbpf.NameWithConditions{Name: name, Conditions: conds})
		}
	}
	// Names allowed (or refused) without conditions go into a binary search
	// (tree); each call with argument checks (clone, personality, socket)
	// gets a block of its own, assembled by go-seccomp-bpf, that the search
	// jumps to. One block per call, not one for all: go-seccomp-bpf does not
	// load the call's number again after a failed argument check, so in a
	// shared block the next call's "jeq #nr" would compare an argument (a
	// socket(56<<32|AF_VSOCK) then passed as a clone).
	actionOf := map[int]seccompbpf.Action{} // syscall number -> action, unconditional
	blocks := map[int][]bpf.Instruction{}   // syscall number -> its block
	for i := range groups {
		a := groups[i].Action
		for _, name := range groups[i].Names {
			actionOf[info.SyscallNames[name]] = a
		}
		byName := map[string][]seccompbpf.NameWithConditions{}
		for _, n := range groups[i].NamesWithCondtions {
			if !unconditional[a][n.Name] {
				byName[n.Name] = append(byName[n.Name], n)
			}
		}
		for name, rules := range byName {
			block, err := conditionalBlock(a, def, rules)
			if err != nil {
				return nil, fmt.Errorf("seccomp: %s: %w", name, err)
			}
			blocks[info.SyscallNames[name]] = block
		}
	}
	insts := tree(info, actionOf, blocks, def)
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return nil, fmt.Errorf("seccomp: assemble: %w", err)
	}
	out := make([]byte, 0, 8*len(raw))
	for _, r := range raw {
		out = encodeInstruction(out, r)
	}
	return out, nil
}

// conditionalBlock assembles one call's argument rules (ORed; each one's
// conditions ANDed) with go-seccomp-bpf: it checks the architecture and the
// number again, then the arguments, and returns a on a match, def
// otherwise. go-seccomp-bpf's default action must be one of its named
// actions: it is assembled with ERRNO (EPERM) and the real one put into the
// last instruction, the default's return. A block longer than 255
// instructions would make go-seccomp-bpf copy that return into earlier
// places for long jumps, where it would stay EPERM: refused.
func conditionalBlock(a, def seccompbpf.Action, rules []seccompbpf.NameWithConditions) ([]bpf.Instruction, error) {
	policy := seccompbpf.Policy{DefaultAction: seccompbpf.ActionErrno,
		Syscalls: []seccompbpf.SyscallGroup{{Action: a, NamesWithCondtions: rules}}}
	block, err := policy.Assemble()
	if err != nil {
		return nil, fmt.Errorf("assemble: %w", err)
	}
	if len(block) > 255 {
		return nil, fmt.Errorf("%d instructions of argument rules: too many for one call", len(block))
	}
	if _, ok := block[len(block)-1].(bpf.RetConstant); !ok {
		return nil, errors.New("assemble: the block does not end in its default action")
	}
	block[len(block)-1] = bpf.RetConstant{Val: uint32(def)}
	return block, nil
}

// tree lays out the program: the architecture check, the call's number,
// then a binary search over runs of numbers with the same answer, whose
// leaves return it (allow, an errno, the default), or jump to cond (the
// rules with argument checks, as go-seccomp-bpf assembled them; its last
// instruction is the default's return).
//
// Why not one long list of "jeq nr" as go-seccomp-bpf makes? Since Linux
// 5.11 the kernel runs every new filter once per system call number and
// architecture when it is installed (seccomp_cache_prepare), to learn which
// calls it may allow without running it again. With ~300 comparisons in a
// row that took 0.7 ms per container; a search over the ~80 runs
// (0-60 are all allowed, for one) takes ~10 comparisons a call.
func tree(info *arch.Info, actionOf map[int]seccompbpf.Action, blocks map[int][]bpf.Instruction, def seccompbpf.Action) []bpf.Instruction {
	// A leaf is a return, or a jump to a call's block (block >= 0: its
	// number), resolved once the search's length is known.
	type ins struct {
		bpf.Instruction
		block int
	}
	answer := func(nr int) (seccompbpf.Action, int) {
		if _, ok := blocks[nr]; ok {
			return 0, nr
		}
		if a, ok := actionOf[nr]; ok {
			return a, -1
		}
		return def, -1
	}
	type run struct {
		from   int // the first number of the run
		action seccompbpf.Action
		block  int
	}
	top := 0
	for nr := range actionOf {
		top = max(top, nr)
	}
	for nr := range blocks {
		top = max(top, nr)
	}
	var runs []run
	for nr := 0; nr <= top+1; nr++ {
		a, b := answer(nr)
		if len(runs) == 0 || runs[len(runs)-1].action != a || runs[len(runs)-1].block != b {
			runs = append(runs, run{from: nr, action: a, block: b})
		}
	}
	// search returns the search over runs[lo:hi]: "jge" on the first number
	// of the middle run, the lower half right after it, the upper half
	// after that.
	var search func(lo, hi int) []ins
	search = func(lo, hi int) []ins {
		if hi-lo == 1 {
			if runs[lo].block >= 0 {
				return []ins{{Instruction: bpf.Jump{}, block: runs[lo].block}}
			}
			return []ins{{Instruction: bpf.RetConstant{Val: uint32(runs[lo].action)}, block: -1}}
		}
		mid := (lo + hi) / 2
		left, right := search(lo, mid), search(mid, hi)
		var out []ins
		if len(left) <= 255 {
			out = append(out, ins{Instruction: bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(runs[mid].from), SkipTrue: uint8(len(left))}, block: -1})
		} else { // jt is 8 bits: a "ja" for longer jumps
			out = append(out, ins{Instruction: bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(runs[mid].from), SkipFalse: 1}, block: -1},
				ins{Instruction: bpf.Jump{Skip: uint32(len(left))}, block: -1})
		}
		return append(append(out, left...), right...)
	}

	// The architecture (struct seccomp_data.arch, offset 4): another one
	// gets the default; then the call's number (offset 0).
	prog := []ins{
		{Instruction: bpf.LoadAbsolute{Off: 4, Size: 4}, block: -1},
		{Instruction: bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(info.ID), SkipTrue: 1}, block: -1},
		{Instruction: bpf.RetConstant{Val: uint32(def)}, block: -1},
		{Instruction: bpf.LoadAbsolute{Off: 0, Size: 4}, block: -1},
	}
	if info.ID == arch.X86_64.ID {
		// The x32 ABI shares x86_64's architecture value; its numbers have
		// bit 30 set. Refuse them all, with ENOSYS.
		prog = append(prog,
			ins{Instruction: bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(arch.X32.SeccompMask), SkipFalse: 1}, block: -1},
			ins{Instruction: bpf.RetConstant{Val: uint32(seccompbpf.ActionErrno) | uint32(unix.ENOSYS)}, block: -1})
	}
	prog = append(prog, search(0, len(runs))...)
	// The blocks, in the order of their numbers, after the search.
	var nrs []int
	for nr := range blocks {
		nrs = append(nrs, nr)
	}
	slices.Sort(nrs)
	at := map[int]int{}
	n := len(prog)
	for _, nr := range nrs {
		at[nr] = n
		n += len(blocks[nr])
	}
	out := make([]bpf.Instruction, 0, n)
	for i, p := range prog {
		if p.block >= 0 {
			out = append(out, bpf.Jump{Skip: uint32(at[p.block] - i - 1)})
		} else {
			out = append(out, p.Instruction)
		}
	}
	for _, nr := range nrs {
		out = append(out, blocks[nr]...)
	}
	return out
}

// action is the kernel's return value for a profile's action.
func action(a specs.LinuxSeccompAction, errnoRet *uint) (seccompbpf.Action, error) {
	errno := func(def uint) seccompbpf.Action {
		if errnoRet != nil {
			def = *errnoRet
		}
		return seccompbpf.Action(uint32(def) & unix.SECCOMP_RET_DATA)
	}
	switch a {
	case specs.ActAllow:
		return seccompbpf.ActionAllow, nil
	case specs.ActErrno:
		return seccompbpf.ActionErrno | errno(uint(unix.EPERM)), nil
	case specs.ActTrace:
		return seccompbpf.ActionTrace | errno(uint(unix.EPERM)), nil
	case specs.ActKill, specs.ActKillThread:
		return seccompbpf.ActionKillThread, nil
	case specs.ActKillProcess:
		return seccompbpf.ActionKillProcess, nil
	case specs.ActTrap:
		return seccompbpf.ActionTrap, nil
	case specs.ActLog:
		return seccompbpf.ActionLog, nil
	}
	return 0, fmt.Errorf("unsupported action %q", a)
}

// conditions converts one rule's argument checks (all must hold).
func conditions(args []specs.LinuxSeccompArg) (seccompbpf.ArgumentConditions, error) {
	var out seccompbpf.ArgumentConditions
	for _, a := range args {
		c := seccompbpf.Condition{Argument: uint32(a.Index), Value: a.Value}
		switch a.Op {
		case specs.OpEqualTo:
			c.Operation = seccompbpf.Equal
		case specs.OpNotEqual:
			c.Operation = seccompbpf.NotEqual
		case specs.OpLessThan:
			c.Operation = seccompbpf.LessThan
		case specs.OpLessEqual:
			c.Operation = seccompbpf.LessOrEqual
		case specs.OpGreaterThan:
			c.Operation = seccompbpf.GreaterThan
		case specs.OpGreaterEqual:
			c.Operation = seccompbpf.GreaterOrEqual
		case specs.OpMaskedEqual:
			// (arg & mask) == 0: none of the mask's bits is set.
			if a.ValueTwo != 0 {
				return nil, fmt.Errorf("SCMP_CMP_MASKED_EQ with a non-zero value (%#x) is not supported", a.ValueTwo)
			}
			c.Operation = seccompbpf.BitsNotSet
		default:
			return nil, fmt.Errorf("unsupported operator %q", a.Op)
		}
		out = append(out, c)
	}
	return out, nil
}
