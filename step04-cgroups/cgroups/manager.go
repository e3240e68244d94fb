package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// destroyTimeout bounds how long Destroy keeps killing: processes in
// uninterruptible sleep (D state, e.g. NFS) may take a while to die.
const destroyTimeout = 10 * time.Second

// manager is the one Manager: each hierarchy is written with the v1 or
// the v2 file names, by what the host mounted.
type manager struct {
	id string
	hs []*hierarchy
	by map[string]*hierarchy // controller -> its tree
	fd *os.File              // the v2 directory, for CLONE_INTO_CGROUP
	// exact: the cgroup is Config.Path, the engine's choice; nothing above
	// it is ours to remove.
	exact bool
}

var _ Manager = (*manager)(nil)

func defaults(cfg *Config) error {
	if cfg.ID == "" || strings.ContainsAny(cfg.ID, "/") || cfg.ID == "." || cfg.ID == ".." {
		return fmt.Errorf("cgroups: invalid container id %q", cfg.ID)
	}
	if slices.Contains(strings.Split(cfg.Parent, "/"), "..") {
		return fmt.Errorf("cgroups: invalid --cgroup-parent %q: \"..\" is not allowed", cfg.Parent)
	}
	if cfg.Path != "" {
		if slices.Contains(strings.Split(cfg.Path, "/"), "..") || filepath.Clean("/"+cfg.Path) == "/" {
			return fmt.Errorf("cgroups: invalid cgroups path %q", cfg.Path)
		}
	}
	if cfg.FSRoot == "" {
		cfg.FSRoot = DefaultFSRoot
	}
	if cfg.ProcSelfCgroup == "" {
		cfg.ProcSelfCgroup = "/proc/self/cgroup"
	}
	if cfg.ProcSelfMountinfo == "" {
		cfg.ProcSelfMountinfo = "/proc/self/mountinfo"
	}
	return nil
}

// New creates the container's cgroups, beneath our own cgroup (or
// cfg.Parent) as minidocker/<ID> in each tree, and writes cfg.Resources.
// Call Destroy to remove them, also when a later step fails.
func New(cfg Config) (_ Manager, err error) {
	m, err := load(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = m.Destroy()
		}
	}()
	for _, h := range m.hs {
		if h.v2 {
			if err := enableControllers(h); err != nil {
				return nil, fmt.Errorf("cgroups: %w", err)
			}
		}
		if err := mkdirShared(h.dir); err != nil {
			return nil, fmt.Errorf("cgroups: create %s: %w", h.dir, err)
		}
		if err := fillCpuset(h); err != nil { // v1: or no process may join
			return nil, fmt.Errorf("cgroups: create %s: %w", h.dir, err)
		}
	}
	if err := m.Set(cfg.Resources); err != nil {
		return nil, err
	}
	return m, nil
}

// Load attaches to the cgroups of an existing container without creating
// anything, for example to Destroy them for rm -f after its processes were
// killed. Pass the Paths the creating Manager reported in cfg.Paths.
func Load(cfg Config) (Manager, error) { return load(cfg) }

func load(cfg Config) (*manager, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	if err := defaults(&cfg); err != nil {
		return nil, err
	}
	hs, err := hierarchies(cfg)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	m := &manager{id: cfg.ID, hs: hs, by: map[string]*hierarchy{}, exact: cfg.Path != ""}
	for _, h := range hs {
		// Destroy removes h.dir: make sure it is one of ours, whatever
		// a stored Paths says.
		if m.exact {
			if !strings.HasPrefix(h.dir, h.mount+"/") || !strings.HasSuffix(h.dir, filepath.Clean("/"+cfg.Path)) {
				return nil, fmt.Errorf("cgroups: %s is not the cgroup %s in %s", h.dir, cfg.Path, h.mount)
			}
		} else if !strings.HasPrefix(h.dir, h.mount+"/") || filepath.Base(h.dir) != cfg.ID ||
			filepath.Base(filepath.Dir(h.dir)) != "minidocker" {
			return nil, fmt.Errorf("cgroups: %s is not a minidocker/%s cgroup in %s", h.dir, cfg.ID, h.mount)
		}
		for _, c := range h.controllers {
			m.by[c] = h
		}
	}
	return m, nil
}

// enableControllers writes "+memory +cpu +pids" (and +io, +cpuset, when
// the host has them) into cgroup.subtree_control of each directory from
// where we may create cgroups (our own cgroup, or the root for an absolute
// --cgroup-parent) down to minidocker/, the parent of the leaf: in v2 a
// cgroup can only use the controllers its parent enabled for it.
func enableControllers(h *hierarchy) error {
	var want []string
	for _, c := range []string{"memory", "cpu", "pids", "io", "cpuset"} {
		if slices.Contains(h.controllers, c) {
			want = append(want, "+"+c)
		}
	}
	dirs := []string{filepath.Join(h.mount, h.from)}
	if rel, err := filepath.Rel(h.from, h.base); err == nil && rel != "." {
		p := dirs[0]
		for part := range strings.SplitSeq(rel, "/") {
			p = filepath.Join(p, part)
			dirs = append(dirs, p)
		}
	}
	dirs = append(dirs, filepath.Dir(h.dir))
	for _, dir := range slices.Compact(dirs) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		if err := writeFile(dir, "cgroup.subtree_control", strings.Join(want, " ")); err != nil {
			// The kernel says EBUSY; a fake tree may say anything.
			if dir != h.mount && hasProcs(dir) {
				return fmt.Errorf("enable %s in %s: %w; start minidocker in a cgroup of its own or pass --cgroup-parent (%w)",
					strings.Join(want, " "), dir, ErrInternalProcesses, err)
			}
			return err
		}
	}
	return nil
}

func hasProcs(dir string) bool {
	data, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	return strings.TrimSpace(string(data)) != ""
}

func writeFile(dir, file, value string) error {
	p := filepath.Join(dir, file)
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, p, err)
	}
	return nil
}

func readFile(dir, file string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, file))
	return strings.TrimSpace(string(data)), err
}

func readUint(dir, file string) (uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return 0, err
	}
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", filepath.Join(dir, file), err)
	}
	return n, nil
}

// readKey reads one "key value" line (memory.events, cpu.stat,
// memory.oom_control); a missing key is 0.
func readKey(dir, file, key string) (uint64, error) {
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == key {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, sc.Err()
}

func (m *manager) Version() int {
	v1, v2 := false, false
	for _, h := range m.hs {
		v1, v2 = v1 || !h.v2, v2 || h.v2
	}
	switch {
	case v1 && v2:
		return 12
	case v2:
		return 2
	}
	return 1
}

func (m *manager) Paths() map[string]string {
	out := map[string]string{}
	for c, h := range m.by {
		out[c] = h.dir
	}
	return out
}

// Apply writes pid into cgroup.procs of each tree: the kernel moves the
// whole process (all its threads), and its future children follow.
func (m *manager) Apply(pid int) error {
	for _, h := range m.hs {
		if err := writeFile(h.dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("cgroups: place process %d: %w", pid, err)
		}
	}
	return nil
}

func (m *manager) CgroupFD() (int, bool) {
	if len(m.hs) != 1 || !m.hs[0].v2 {
		return -1, false
	}
	if m.fd == nil {
		f, err := os.Open(m.hs[0].dir)
		if err != nil {
			return -1, false
		}
		m.fd = f
	}
	return int(m.fd.Fd()), true
}

func (m *manager) need(controller string) (*hierarchy, error) {
	h, ok := m.by[controller]
	if !ok {
		return nil, fmt.Errorf("cgroups: %s: %w", controller, ErrNoController)
	}
	return h, nil
}

func (m *manager) Set(r Resources) error {
	if err := m.setMemory(r); err != nil {
		return fmt.Errorf("cgroups: memory limit: %w", err)
	}
	if err := m.setMemoryExtra(r); err != nil {
		return fmt.Errorf("cgroups: memory: %w", err)
	}
	if err := m.setCpuset(r); err != nil {
		return fmt.Errorf("cgroups: cpuset: %w", err)
	}
	if err := m.setCPU(r); err != nil {
		return fmt.Errorf("cgroups: cpu limit: %w", err)
	}
	if err := m.setDevices(r.Devices); err != nil {
		return fmt.Errorf("cgroups: devices: %w", err)
	}
	if r.PidsLimit > 0 {
		// exercise:begin 04-pids Find the pids controller's directory (m.need) and write the limit to its pids.max (the same file on v1 and v2)
		h, err := m.need("pids")
		if err != nil {
			return err
		}
		if err := writeFile(h.dir, "pids.max", strconv.FormatInt(r.PidsLimit, 10)); err != nil {
			return fmt.Errorf("cgroups: pids limit: %w", err)
		}
		// exercise:end
	}
	return nil
}

// setDevices applies the device rules. v1 has files: each rule is one
// write, "a *:* rwm" to devices.deny first (only a cgroup without children
// accepts it), then the exceptions to devices.allow. v2 has no file: the
// rules become a BPF program attached to the cgroup.
func (m *manager) setDevices(d Devices) error {
	if d.Keep {
		return nil
	}
	h, ok := m.by["devices"]
	if !ok {
		if d.AllowAll {
			return nil
		}
		// Fail closed: without the controller every device would be open.
		return fmt.Errorf("no devices cgroup to confine the container's devices in: %w", ErrNoController)
	}
	rules := d.rules()
	if h.v2 {
		if rules == nil {
			return nil // --privileged: no program at all
		}
		return attachDevices(h.dir, rules)
	}
	if rules == nil {
		return writeFile(h.dir, "devices.allow", "a")
	}
	if err := checkDeviceRules(rules); err != nil {
		return err
	}
	// The kernel reads one rule per write(2): open each file once and
	// write the rules in order, each to its file.
	var files [2]*os.File
	for i, name := range []string{"devices.deny", "devices.allow"} {
		f, err := os.OpenFile(filepath.Join(h.dir, name), os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		files[i] = f
	}
	for _, r := range rules {
		f := files[0]
		if r.Allow {
			f = files[1]
		}
		if _, err := f.WriteString(r.String()); err != nil {
			return fmt.Errorf("write %q to %s: %w", r.String(), f.Name(), err)
		}
	}
	return nil
}

// memorySwap is Docker's rule: no --memory-swap means as much swap as
// memory, so memory + swap = 2 x memory.
func memorySwap(r Resources) int64 {
	if r.MemorySwap == 0 {
		return 2 * r.Memory
	}
	return r.MemorySwap
}

func (m *manager) setMemory(r Resources) error {
	if r.Memory <= 0 {
		return nil
	}
	h, err := m.need("memory")
	if err != nil {
		return err
	}
	// exercise:begin 04-memory keep=h Write the limit in h.dir: v2 memory.max (and memory.swap.max = swap - memory, or max, when the file exists); v1 memory.limit_in_bytes and memory.memsw.limit_in_bytes (memory + swap, see memorySwap), in an order the kernel accepts
	mem, swap := strconv.FormatInt(r.Memory, 10), memorySwap(r)
	if h.v2 {
		// v2 limits swap alone: memory.swap.max = (memory + swap) - memory.
		if err := writeFile(h.dir, "memory.max", mem); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(h.dir, "memory.swap.max")); err != nil {
			return nil // no swap accounting (CONFIG_MEMCG_SWAP off)
		}
		v := "max"
		if swap > 0 {
			v = strconv.FormatInt(swap-r.Memory, 10)
		}
		return writeFile(h.dir, "memory.swap.max", v)
	}
	// v1 limits memory + swap in memsw, which may never be below
	// limit_in_bytes (EINVAL): when raising the limit past the old memsw,
	// memsw has to go first, as runc's setMemoryAndSwap does.
	memsw := filepath.Join(h.dir, "memory.memsw.limit_in_bytes")
	if _, err := os.Stat(memsw); err != nil {
		return writeFile(h.dir, "memory.limit_in_bytes", mem) // swapaccount=0
	}
	sw := strconv.FormatInt(swap, 10)
	if err := writeFile(h.dir, "memory.limit_in_bytes", mem); err != nil {
		if !errors.Is(err, syscall.EINVAL) {
			return err
		}
		if err := writeFile(h.dir, "memory.memsw.limit_in_bytes", sw); err != nil {
			return err
		}
		return writeFile(h.dir, "memory.limit_in_bytes", mem)
	}
	return writeFile(h.dir, "memory.memsw.limit_in_bytes", sw)
	// exercise:end
}

func (m *manager) setCPU(r Resources) error {
	if r.CPUQuota <= 0 && r.CPUShares == 0 {
		return nil
	}
	h, err := m.need("cpu")
	if err != nil {
		return err
	}
	// exercise:begin 04-cpu keep=h Write the CPU limits in h.dir: v2 cpu.max "QUOTA PERIOD" and cpu.weight (SharesToWeight); v1 cpu.cfs_period_us, cpu.cfs_quota_us and cpu.shares. No period means DefaultCPUPeriod
	period := r.CPUPeriod
	if period == 0 {
		period = DefaultCPUPeriod
	}
	if h.v2 {
		if r.CPUQuota > 0 {
			if err := writeFile(h.dir, "cpu.max", fmt.Sprintf("%d %d", r.CPUQuota, period)); err != nil {
				return err
			}
		}
		if r.CPUShares > 0 {
			return writeFile(h.dir, "cpu.weight", strconv.FormatUint(SharesToWeight(r.CPUShares), 10))
		}
		return nil
	}
	if r.CPUQuota > 0 {
		if err := writeFile(h.dir, "cpu.cfs_period_us", strconv.FormatInt(period, 10)); err != nil {
			return err
		}
		if err := writeFile(h.dir, "cpu.cfs_quota_us", strconv.FormatInt(r.CPUQuota, 10)); err != nil {
			return err
		}
	}
	if r.CPUShares > 0 {
		return writeFile(h.dir, "cpu.shares", strconv.FormatUint(r.CPUShares, 10))
	}
	return nil
	// exercise:end
}

func (m *manager) Stats() (*Stats, error) {
	var s Stats
	if h, ok := m.by["memory"]; ok {
		var err error
		if h.v2 {
			s.MemoryUsage, err = readUint(h.dir, "memory.current")
			s.MemoryPeak, _ = readUint(h.dir, "memory.peak") // kernel 5.19+
			if err == nil {
				s.OOMKills, err = readKey(h.dir, "memory.events", "oom_kill")
			}
		} else {
			s.MemoryUsage, err = readUint(h.dir, "memory.usage_in_bytes")
			s.MemoryPeak, _ = readUint(h.dir, "memory.max_usage_in_bytes")
			if err == nil {
				s.OOMKills, err = readKey(h.dir, "memory.oom_control", "oom_kill") // kernel 4.13+
			}
		}
		if err != nil {
			return nil, fmt.Errorf("cgroups: memory stats: %w", err)
		}
	}
	if h, ok := m.by["cpuacct"]; ok {
		if h.v2 {
			us, err := readKey(h.dir, "cpu.stat", "usage_usec")
			if err != nil {
				return nil, fmt.Errorf("cgroups: cpu stats: %w", err)
			}
			s.CPUUsage = time.Duration(us) * time.Microsecond
		} else {
			ns, err := readUint(h.dir, "cpuacct.usage")
			if err != nil {
				return nil, fmt.Errorf("cgroups: cpu stats: %w", err)
			}
			s.CPUUsage = time.Duration(ns)
		}
	}
	// Block I/O: v1's blkio counts what passed its throttle
	// (io_service_bytes, _recursive with the children), v2's io.stat all.
	// Best effort, as in Docker: a kernel without the file reads zero.
	if h, ok := m.by["blkio"]; ok {
		data, err := readFile(h.dir, "blkio.throttle.io_service_bytes_recursive")
		if err != nil {
			data, _ = readFile(h.dir, "blkio.throttle.io_service_bytes")
		}
		s.IORead, s.IOWrite = ParseBlkio(data)
	}
	if h, ok := m.by["io"]; ok {
		data, _ := readFile(h.dir, "io.stat")
		s.IORead, s.IOWrite = ParseIOStat(data)
	}
	if h, ok := m.by["pids"]; ok {
		n, err := readUint(h.dir, "pids.current")
		if err != nil {
			return nil, fmt.Errorf("cgroups: pids stats: %w", err)
		}
		s.Pids = n
	}
	return &s, nil
}

func (m *manager) OOMKilled() (bool, error) {
	s, err := m.Stats()
	if err != nil {
		return false, err
	}
	return s.OOMKills > 0, nil
}

// procs lists the PIDs in every tree's cgroup.procs.
// Procs lists the container's processes (see Manager).
func (m *manager) Procs() ([]int, error) { return m.procs() }

func (m *manager) procs() ([]int, error) {
	var out []int
	for _, h := range m.hs {
		data, err := os.ReadFile(filepath.Join(h.dir, "cgroup.procs"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for f := range strings.FieldsSeq(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil && !slices.Contains(out, pid) {
				out = append(out, pid)
			}
		}
	}
	return out, nil
}

func (m *manager) Destroy() error {
	if m.fd != nil {
		m.fd.Close()
		m.fd = nil
	}
	if err := m.killAll(destroyTimeout); err != nil {
		return err
	}
	var errs []error
	for _, h := range m.hs {
		if err := removeDir(h.dir); err != nil {
			errs = append(errs, fmt.Errorf("cgroups: remove: %w", err))
		}
		// The shared minidocker/ parent goes when it is empty; another
		// container may still be in it (EBUSY or ENOTEMPTY: that is fine).
		if !m.exact {
			_ = removeParent(filepath.Dir(h.dir))
		}
	}
	return errors.Join(errs...)
}

// mkdirShared makes a container's cgroup directory and its shared
// minidocker/ parent. The parent goes when its last container is destroyed
// (removeParent), and comes again with the next New: when it goes between
// our mkdir of the parent and of the container's directory, the second
// fails with ENOENT; when another New makes it and a Destroy removes it
// again around our mkdir of it, MkdirAll reports EEXIST for a directory
// that is gone. Either way another try makes both. (Each lost race needs
// another container created or destroyed at that very moment: a few tries
// are plenty.)
func mkdirShared(dir string) error {
	var err error
	for range 10 {
		err = os.MkdirAll(dir, 0o755)
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return err
}
