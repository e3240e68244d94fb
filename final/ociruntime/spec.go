package ociruntime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minidocker/step02-namespaces/namespaces"
	"minidocker/step02-namespaces/privileges"
	"minidocker/step03-rootfs-layers/rootfs"
	"minidocker/step04-cgroups/cgroups"
)

// startFD is the start FIFO's descriptor in the init: namespaces.Start
// gives it the config pipe (3), the error pipe (4), then Options.ExtraFiles.
const startFD = 5

// consoleFD is the console socket's descriptor in the init, after the
// start FIFO, when the bundle asks for a terminal.
const consoleFD = startFD + 1

// LoadSpec reads bundle/config.json.
func LoadSpec(bundle string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read the bundle's config: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(bundle, "config.json"), err)
	}
	if !strings.HasPrefix(spec.Version, "1.") {
		return nil, fmt.Errorf("ociVersion %q: this runtime reads version 1 of the OCI runtime spec", spec.Version)
	}
	return &spec, nil
}

// validID is runc's rule for container IDs: they name a directory in the
// state root, so no "/" and no "..".
var validID = regexp.MustCompile(`^[A-Za-z0-9_+.-]+$`)

// CheckID refuses an ID that could not be a state directory's name.
func CheckID(id string) error {
	if !validID.MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("invalid container id %q: use letters, digits and _+.- only", id)
	}
	return nil
}

// Plan is a bundle turned into what steps 2 to 4 take: the init's
// configuration (with step 3's filesystem in it) and the cgroups.
type Plan struct {
	Init    namespaces.Config
	Rootfs  rootfs.Config
	Cgroups cgroups.Config
	// Namespaces are all the container's namespaces, created or joined:
	// what an exec joins.
	Namespaces []namespaces.Namespace

	bundle string
}

// unsupported is the error for a field that this runtime does not do.
func unsupported(field, why string) error {
	return fmt.Errorf("%s: %s is not supported by minidocker's runtime", field, why)
}

// Convert turns spec (of the bundle at bundle, for container id) into a
// Plan, refusing by name every field it cannot honour.
func Convert(spec *specs.Spec, bundle, id string) (*Plan, error) {
	if spec.Process == nil {
		return nil, errors.New("process: the config has no process to run")
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return nil, errors.New("root.path: the config names no root filesystem")
	}
	if spec.Linux == nil {
		return nil, errors.New("linux: the config has no linux section")
	}
	if spec.Windows != nil || spec.Solaris != nil || spec.VM != nil || spec.ZOS != nil || spec.FreeBSD != nil {
		return nil, unsupported("windows/solaris/vm/zos/freebsd", "a section for another platform")
	}
	p := &Plan{bundle: bundle}
	root := spec.Root.Path
	if !filepath.IsAbs(root) {
		root = filepath.Join(bundle, root)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("root.path: %s is not a directory", root)
	}
	p.Rootfs = rootfs.Config{Root: root, ReadOnly: spec.Root.Readonly,
		MaskedPaths: orEmpty(spec.Linux.MaskedPaths), ReadonlyPaths: orEmpty(spec.Linux.ReadonlyPaths)}
	if err := convertProcess(spec.Process, &p.Init); err != nil {
		return nil, err
	}
	if err := convertLinux(spec, p); err != nil {
		return nil, err
	}
	if err := convertMounts(spec, p); err != nil {
		return nil, err
	}
	if spec.Hostname != "" {
		// As runc: a UTS namespace of the container's own, created or
		// joined (then the name is set in the joined one).
		if !p.Init.Has(namespaces.UTS) {
			return nil, errors.New("hostname: setting the hostname needs a UTS namespace of the container's own")
		}
		p.Init.Hostname = spec.Hostname
	}
	if spec.Domainname != "" {
		return nil, unsupported("domainname", "setting the NIS domain name")
	}
	if h := spec.Hooks; h != nil {
		if len(h.CreateContainer) > 0 || len(h.StartContainer) > 0 {
			return nil, unsupported("hooks.createContainer/startContainer", "running hooks inside the container's namespaces")
		}
	}
	p.Cgroups.ID = id
	raw, err := json.Marshal(p.Rootfs)
	if err != nil {
		return nil, err
	}
	p.Init.Stages = map[string]json.RawMessage{rootfs.StageName: raw}
	return p, nil
}

// orEmpty keeps "none" apart from "the defaults": rootfs reads a nil list
// as Docker's defaults, but a bundle's list is exact.
func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// convertProcess is config.json's process: the command, its user, its
// privileges (the seccomp filter comes with linux), its limits.
func convertProcess(proc *specs.Process, cfg *namespaces.Config) error {
	if len(proc.Args) == 0 {
		return errors.New("process.args: no command given")
	}
	if proc.CommandLine != "" {
		return unsupported("process.commandLine", "a Windows command line")
	}
	if proc.Cwd == "" || !filepath.IsAbs(proc.Cwd) {
		return fmt.Errorf("process.cwd: %q is not an absolute path", proc.Cwd)
	}
	switch {
	case proc.ApparmorProfile != "":
		return unsupported("process.apparmorProfile", "AppArmor (this host does not have it enabled)")
	case proc.SelinuxLabel != "":
		return unsupported("process.selinuxLabel", "SELinux")
	case proc.IOPriority != nil:
		return unsupported("process.ioPriority", "an I/O priority")
	case proc.Scheduler != nil:
		return unsupported("process.scheduler", "a scheduling policy")
	case proc.ExecCPUAffinity != nil:
		return unsupported("process.execCPUAffinity", "a CPU affinity")
	}
	cfg.Args, cfg.Env, cfg.Dir = proc.Args, proc.Env, proc.Cwd
	cfg.IDs = &namespaces.IDs{UID: proc.User.UID, GID: proc.User.GID,
		AdditionalGIDs: proc.User.AdditionalGids, Umask: proc.User.Umask}
	for _, r := range proc.Rlimits {
		if _, ok := namespaces.RlimitNumber(r.Type); !ok {
			return fmt.Errorf("process.rlimits: unknown type %q", r.Type)
		}
		cfg.Rlimits = append(cfg.Rlimits, namespaces.Rlimit{Type: r.Type, Hard: r.Hard, Soft: r.Soft})
	}
	cfg.OOMScoreAdj = proc.OOMScoreAdj
	priv := &privileges.Config{NoNewPrivileges: proc.NoNewPrivileges, Sets: &privileges.CapabilitySets{}}
	if c := proc.Capabilities; c != nil {
		for _, list := range [][]string{c.Bounding, c.Effective, c.Permitted, c.Inheritable, c.Ambient} {
			if _, err := privileges.NormalizeCapabilities(list); err != nil {
				return fmt.Errorf("process.capabilities: %w", err)
			}
		}
		*priv.Sets = privileges.CapabilitySets{Bounding: c.Bounding, Effective: c.Effective,
			Permitted: c.Permitted, Inheritable: c.Inheritable, Ambient: c.Ambient}
	}
	cfg.Privileges = priv
	return nil
}

// convertLinux is config.json's linux section but the mounts.
func convertLinux(spec *specs.Spec, p *Plan) error {
	l := spec.Linux
	switch {
	case l.IntelRdt != nil:
		return unsupported("linux.intelRdt", "Intel RDT")
	case l.Personality != nil:
		return unsupported("linux.personality", "an execution domain")
	case l.MountLabel != "":
		return unsupported("linux.mountLabel", "SELinux")
	case len(l.TimeOffsets) > 0:
		return unsupported("linux.timeOffsets", "a time namespace")
	case l.MemoryPolicy != nil:
		return unsupported("linux.memoryPolicy", "a NUMA memory policy")
	case len(l.NetDevices) > 0:
		return unsupported("linux.netDevices", "moving network devices")
	}
	switch l.RootfsPropagation {
	case "", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable":
		p.Rootfs.RootPropagation = l.RootfsPropagation
	default:
		return fmt.Errorf("linux.rootfsPropagation: %q is not a propagation mode", l.RootfsPropagation)
	}
	if err := convertNamespaces(l.Namespaces, p); err != nil {
		return err
	}
	if !p.Init.Has(namespaces.Mnt) {
		return unsupported("linux.namespaces", "a container without a mount namespace of its own")
	}
	if err := convertIDMappings(l, p); err != nil {
		return err
	}
	if l.Seccomp != nil {
		if l.Seccomp.ListenerPath != "" {
			return unsupported("linux.seccomp.listenerPath", "a seccomp notify listener")
		}
		for _, f := range l.Seccomp.Flags {
			if f != specs.LinuxSeccompFlagSpecAllow && f != specs.LinuxSeccompFlagLog {
				return unsupported("linux.seccomp.flags", fmt.Sprintf("flag %s", f))
			}
		}
		prog, err := privileges.CompileSpec(l.Seccomp)
		if err != nil {
			return fmt.Errorf("linux.seccomp: %w", err)
		}
		p.Init.Privileges.Seccomp = prog
	}
	if err := convertResources(l.Resources, &p.Cgroups.Resources); err != nil {
		return err
	}
	path := l.CgroupsPath
	if strings.Contains(path, ":") {
		return unsupported("linux.cgroupsPath", fmt.Sprintf("the systemd form %q (slice:prefix:name)", path))
	}
	p.Cgroups.Path = path
	return nil
}

// nsTypes are the spec's namespace names and ours.
var nsTypes = map[specs.LinuxNamespaceType]namespaces.Namespace{
	specs.PIDNamespace: namespaces.PID, specs.NetworkNamespace: namespaces.Net, specs.MountNamespace: namespaces.Mnt,
	specs.IPCNamespace: namespaces.IPC, specs.UTSNamespace: namespaces.UTS, specs.CgroupNamespace: namespaces.Cgroup,
	specs.UserNamespace: namespaces.UserNS,
}

func convertNamespaces(list []specs.LinuxNamespace, p *Plan) error {
	for _, n := range list {
		ns, ok := nsTypes[n.Type]
		if !ok {
			return unsupported("linux.namespaces", fmt.Sprintf("a %s namespace", n.Type))
		}
		if p.Init.Has(ns) {
			return fmt.Errorf("linux.namespaces: %s is listed twice", n.Type)
		}
		p.Init.Namespaces = append(p.Init.Namespaces, ns)
		p.Namespaces = append(p.Namespaces, ns)
		if n.Path == "" {
			continue
		}
		switch ns {
		case namespaces.Net:
			p.Init.NetNS = n.Path
		case namespaces.UTS, namespaces.IPC, namespaces.PID:
			if p.Init.JoinPaths == nil {
				p.Init.JoinPaths = map[namespaces.Namespace]string{}
			}
			p.Init.JoinPaths[ns] = n.Path
		default:
			return unsupported("linux.namespaces", fmt.Sprintf("joining a %s namespace by path", n.Type))
		}
	}
	return nil
}

// convertIDMappings is linux.uidMappings and gidMappings: the new user
// namespace's IDs on the host. Both go with a "user" namespace, and a
// user namespace without them would have nobody in it (every ID unmapped:
// not even root could run the command), so each needs the other, as in
// runc. runc also takes mappings for a user namespace joined by path, to
// check them against it; minidocker does not join one (convertNamespaces).
func convertIDMappings(l *specs.Linux, p *Plan) error {
	hasMaps := len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0
	switch {
	case hasMaps && !p.Init.Has(namespaces.UserNS):
		return errors.New("linux.uidMappings/gidMappings: mappings need a user namespace: add {\"type\": \"user\"} to linux.namespaces")
	case !hasMaps && p.Init.Has(namespaces.UserNS):
		return errors.New("linux.namespaces: a new user namespace needs linux.uidMappings and linux.gidMappings")
	case !hasMaps:
		return nil
	}
	for _, n := range l.Namespaces {
		if n.Path != "" {
			// The init joins those from inside the new user namespace,
			// where root has no right over namespaces the host owns
			// (setns: EPERM); runc joins them before it creates the user
			// namespace, which minidocker's clone cannot do.
			return unsupported("linux.namespaces", fmt.Sprintf("joining a %s namespace by path with a new user namespace", n.Type))
		}
	}
	for _, m := range []struct {
		field string
		list  []specs.LinuxIDMapping
		out   *[]namespaces.IDMap
	}{{"linux.uidMappings", l.UIDMappings, &p.Init.UIDMappings}, {"linux.gidMappings", l.GIDMappings, &p.Init.GIDMappings}} {
		if len(m.list) == 0 {
			return fmt.Errorf("%s: a new user namespace needs it, and it is empty", m.field)
		}
		for i, e := range m.list {
			if e.Size == 0 {
				return fmt.Errorf("%s[%d]: size 0 maps nothing", m.field, i)
			}
			*m.out = append(*m.out, namespaces.IDMap{ContainerID: e.ContainerID, HostID: e.HostID, Size: e.Size})
		}
		if _, ok := hostID(*m.out, 0); !ok {
			return fmt.Errorf("%s: container ID 0 is not mapped: the init runs as root of the user namespace", m.field)
		}
	}
	return nil
}

// hostID is the host's ID for the user namespace's id under maps.
func hostID(maps []namespaces.IDMap, id uint32) (uint32, bool) {
	for _, m := range maps {
		if id >= m.ContainerID && id-m.ContainerID < m.Size {
			return m.HostID + (id - m.ContainerID), true
		}
	}
	return 0, false
}

// RootIDs are the host's user and group IDs of the container's root: 0:0,
// or with a user namespace what its mappings make of 0:0. What the init
// must open after it has entered the namespace (the start FIFO) belongs to
// them, as runc chowns its exec.fifo.
func (p *Plan) RootIDs() (uid, gid int) {
	if !p.Init.Has(namespaces.UserNS) {
		return 0, 0
	}
	u, _ := hostID(p.Init.UIDMappings, 0)
	g, _ := hostID(p.Init.GIDMappings, 0)
	return int(u), int(g)
}

// convertResources is linux.resources: memory, cpu, pids and devices, as
// step 4 sets them. A zero is "not set", as engines write them.
func convertResources(r *specs.LinuxResources, out *cgroups.Resources) error {
	if r == nil {
		r = &specs.LinuxResources{}
	}
	switch {
	case len(r.HugepageLimits) > 0:
		return unsupported("linux.resources.hugepageLimits", "a hugetlb limit")
	case r.Network != nil && (r.Network.ClassID != nil || len(r.Network.Priorities) > 0):
		return unsupported("linux.resources.network", "net_cls/net_prio")
	case len(r.Rdma) > 0:
		return unsupported("linux.resources.rdma", "an RDMA limit")
	case len(r.Unified) > 0:
		return unsupported("linux.resources.unified", "raw cgroup v2 files")
	}
	if b := r.BlockIO; b != nil && (b.Weight != nil && *b.Weight != 0 || b.LeafWeight != nil && *b.LeafWeight != 0 ||
		len(b.WeightDevice) > 0 || len(b.ThrottleReadBpsDevice) > 0 || len(b.ThrottleWriteBpsDevice) > 0 ||
		len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0) {
		return unsupported("linux.resources.blockIO", "a block I/O limit")
	}
	if m := r.Memory; m != nil {
		if m.Reservation != nil && *m.Reservation > 0 {
			out.MemoryReservation = *m.Reservation
		}
		out.MemorySwappiness = m.Swappiness
		out.OOMKillDisable = m.DisableOOMKiller != nil && *m.DisableOOMKiller
		if nonZero(m.Kernel) || nonZero(m.KernelTCP) { //nolint:staticcheck // deprecated, still sent
			// Deprecated in the spec, gone from cgroup v2 and from kernel
			// 6.x's v1: runc 1.1 ignores them too, and says so.
			Warn(errors.New("linux.resources.memory.kernel/kernelTCP: kernel memory limits are deprecated and not supported; ignored"))
		}
		if m.Limit != nil && *m.Limit > 0 {
			out.Memory = *m.Limit
			if err := cgroups.CheckMemory(out.Memory); err != nil {
				return fmt.Errorf("linux.resources.memory.limit: %w", err)
			}
		}
		if m.Swap != nil {
			out.MemorySwap = *m.Swap
		}
	}
	if c := r.CPU; c != nil {
		switch {
		case nonZero(c.RealtimeRuntime) || c.RealtimePeriod != nil && *c.RealtimePeriod != 0:
			return unsupported("linux.resources.cpu.realtimeRuntime", "a real-time CPU budget")
		case c.Burst != nil && *c.Burst != 0:
			return unsupported("linux.resources.cpu.burst", "a CPU burst")
		case c.Idle != nil && *c.Idle != 0:
			return unsupported("linux.resources.cpu.idle", "SCHED_IDLE cgroups")
		}
		if c.Shares != nil {
			out.CPUShares = *c.Shares
		}
		out.CpusetCpus, out.CpusetMems = c.Cpus, c.Mems
		if c.Quota != nil && *c.Quota > 0 {
			out.CPUQuota = *c.Quota
		}
		if c.Period != nil {
			out.CPUPeriod = int64(*c.Period)
		}
	}
	if r.Pids != nil && r.Pids.Limit != nil && *r.Pids.Limit > 0 {
		out.PidsLimit = *r.Pids.Limit
	}
	rules, err := deviceRules(r.Devices)
	if err != nil {
		return err
	}
	out.Devices = cgroups.Devices{Rules: rules}
	return nil
}

func nonZero(p *int64) bool { return p != nil && *p != 0 }

// deviceRules are the bundle's device rules, then the ones runc adds to
// every container (its AllowedDevices, not in the spec: the engines count
// on them): the harmless character devices, the terminals, and mknod of
// any device. They are step 4's default allow-list without its deny-all.
func deviceRules(list []specs.LinuxDeviceCgroup) ([]cgroups.DeviceRule, error) {
	var rules []cgroups.DeviceRule
	for i, d := range list {
		r := cgroups.DeviceRule{Allow: d.Allow, Type: 'a', Major: cgroups.Any, Minor: cgroups.Any, Access: d.Access}
		switch d.Type {
		case "", "a":
		case "c", "b":
			r.Type = d.Type[0]
		default:
			return nil, fmt.Errorf("linux.resources.devices[%d]: type %q is not a, b or c", i, d.Type)
		}
		if d.Major != nil {
			r.Major = *d.Major
		}
		if d.Minor != nil {
			r.Minor = *d.Minor
		}
		if r.Access == "" {
			r.Access = "rwm"
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 || rules[0].Type != 'a' || rules[0].Major != cgroups.Any || rules[0].Minor != cgroups.Any {
		// Without a deny-all first, the list is a deny-list over "allow
		// everything": as runc, start from denying everything.
		rules = append([]cgroups.DeviceRule{{Type: 'a', Major: cgroups.Any, Minor: cgroups.Any, Access: "rwm"}}, rules...)
	}
	for _, r := range cgroups.DefaultDeviceRules {
		if r.Allow {
			rules = append(rules, r)
		}
	}
	return rules, nil
}
