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
	// (tree); only the few with argument checks (clone, personality,
	// socket) stay in go-seccomp-bpf's linear program (cond).
	actionOf := map[int]seccompbpf.Action{} // syscall number -> action, unconditional
	conditional := map[int]bool{}
	for i := range groups {
		a := groups[i].Action
		for _, name := range groups[i].Names {
			actionOf[info.SyscallNames[name]] = a
		}
		groups[i].Names = nil
		groups[i].NamesWithCondtions = slices.DeleteFunc(groups[i].NamesWithCondtions,
			func(n seccompbpf.NameWithConditions) bool { return unconditional[a][n.Name] })
		for _, n := range groups[i].NamesWithCondtions {
			conditional[info.SyscallNames[n.Name]] = true
		}
	}
	groups = slices.DeleteFunc(groups, func(g seccompbpf.SyscallGroup) bool {
		return len(g.NamesWithCondtions) == 0
	})
	if len(groups) == 0 { // go-seccomp-bpf wants at least one group
		groups = append(groups, seccompbpf.SyscallGroup{Action: def, Names: []string{"exit"}})
	}
	// go-seccomp-bpf's default action must be one of its named actions:
	// assemble with ERRNO (EPERM) and put the real one into the last
	// instruction, which is the default's return (the architecture check
	// jumps there too).
	policy := seccompbpf.Policy{DefaultAction: seccompbpf.ActionErrno, Syscalls: groups}
	cond, err := policy.Assemble()
	if err != nil {
		return nil, fmt.Errorf("seccomp: assemble: %w", err)
	}
	if _, ok := cond[len(cond)-1].(bpf.RetConstant); !ok {
		return nil, errors.New("seccomp: assemble: the program does not end in its default action")
	}
	cond[len(cond)-1] = bpf.RetConstant{Val: uint32(def)}
	insts := tree(info, actionOf, conditional, def, cond)
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
func tree(info *arch.Info, actionOf map[int]seccompbpf.Action, conditional map[int]bool, def seccompbpf.Action, cond []bpf.Instruction) []bpf.Instruction {
	// A leaf is a return, or a jump to the conditional rules ("cond"),
	// resolved once the search's length is known.
	type ins struct {
		bpf.Instruction
		toCond bool
	}
	answer := func(nr int) (seccompbpf.Action, bool) {
		if conditional[nr] {
			return 0, true
		}
		if a, ok := actionOf[nr]; ok {
			return a, false
		}
		return def, false
	}
	type run struct {
		from   int // the first number of the run
		action seccompbpf.Action
		toCond bool
	}
	top := 0
	for nr := range actionOf {
		top = max(top, nr)
	}
	for nr := range conditional {
		top = max(top, nr)
	}
	var runs []run
	for nr := 0; nr <= top+1; nr++ {
		a, c := answer(nr)
		if len(runs) == 0 || runs[len(runs)-1].action != a || runs[len(runs)-1].toCond != c {
			runs = append(runs, run{from: nr, action: a, toCond: c})
		}
	}
	// search returns the search over runs[lo:hi]: "jge" on the first number
	// of the middle run, the lower half right after it, the upper half
	// after that.
	var search func(lo, hi int) []ins
	search = func(lo, hi int) []ins {
		if hi-lo == 1 {
			if runs[lo].toCond {
				return []ins{{Instruction: bpf.Jump{}, toCond: true}}
			}
			return []ins{{Instruction: bpf.RetConstant{Val: uint32(runs[lo].action)}}}
		}
		mid := (lo + hi) / 2
		left, right := search(lo, mid), search(mid, hi)
		var out []ins
		if len(left) <= 255 {
			out = append(out, ins{Instruction: bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(runs[mid].from), SkipTrue: uint8(len(left))}})
		} else { // jt is 8 bits: a "ja" for longer jumps
			out = append(out, ins{Instruction: bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(runs[mid].from), SkipFalse: 1}},
				ins{Instruction: bpf.Jump{Skip: uint32(len(left))}})
		}
		return append(append(out, left...), right...)
	}

	// The architecture (struct seccomp_data.arch, offset 4): another one
	// gets the default; then the call's number (offset 0).
	prog := []ins{
		{Instruction: bpf.LoadAbsolute{Off: 4, Size: 4}},
		{Instruction: bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(info.ID), SkipTrue: 1}},
		{Instruction: bpf.RetConstant{Val: uint32(def)}},
		{Instruction: bpf.LoadAbsolute{Off: 0, Size: 4}},
	}
	if info.ID == arch.X86_64.ID {
		// The x32 ABI shares x86_64's architecture value; its numbers have
		// bit 30 set. Refuse them all, with ENOSYS.
		prog = append(prog,
			ins{Instruction: bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: uint32(arch.X32.SeccompMask), SkipFalse: 1}},
			ins{Instruction: bpf.RetConstant{Val: uint32(seccompbpf.ActionErrno) | uint32(unix.ENOSYS)}})
	}
	prog = append(prog, search(0, len(runs))...)
	condAt := len(prog)
	out := make([]bpf.Instruction, 0, len(prog)+len(cond))
	for i, p := range prog {
		if p.toCond {
			out = append(out, bpf.Jump{Skip: uint32(condAt - i - 1)})
		} else {
			out = append(out, p.Instruction)
		}
	}
	return append(out, cond...)
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
