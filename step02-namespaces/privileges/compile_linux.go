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
	for i := range groups {
		u := unconditional[groups[i].Action]
		groups[i].NamesWithCondtions = slices.DeleteFunc(groups[i].NamesWithCondtions,
			func(n seccompbpf.NameWithConditions) bool { return u[n.Name] })
	}
	groups = slices.DeleteFunc(groups, func(g seccompbpf.SyscallGroup) bool {
		return len(g.Names)+len(g.NamesWithCondtions) == 0
	})
	if len(groups) == 0 { // go-seccomp-bpf wants at least one group
		groups = append(groups, seccompbpf.SyscallGroup{Action: def, Names: []string{"exit"}})
	}
	// go-seccomp-bpf's default action must be one of its named actions:
	// assemble with ERRNO (EPERM) and put the real one into the last
	// instruction, which is the default's return (the architecture check
	// jumps there too).
	policy := seccompbpf.Policy{DefaultAction: seccompbpf.ActionErrno, Syscalls: groups}
	insts, err := policy.Assemble()
	if err != nil {
		return nil, fmt.Errorf("seccomp: assemble: %w", err)
	}
	if _, ok := insts[len(insts)-1].(bpf.RetConstant); !ok {
		return nil, errors.New("seccomp: assemble: the program does not end in its default action")
	}
	insts[len(insts)-1] = bpf.RetConstant{Val: uint32(def)}
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
