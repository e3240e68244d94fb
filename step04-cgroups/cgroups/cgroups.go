package cgroups

import "time"

// DefaultFSRoot is where cgroup trees are mounted on a normal host.
const DefaultFSRoot = "/sys/fs/cgroup"

// Resources are the limits of one container; zero means "no limit".
type Resources struct {
	Memory int64 // bytes (docker run -m)
	// MemorySwap is memory + swap in bytes (--memory-swap); -1 is
	// unlimited swap; 0 with Memory set means 2 x Memory, as Docker does
	// (v1 memory.memsw.limit_in_bytes = 2 x Memory, v2 memory.swap.max =
	// Memory).
	MemorySwap int64
	CPUQuota   int64  // µs of CPU per CPUPeriod (--cpus 0.5 = 50000)
	CPUPeriod  int64  // µs; 0 means DefaultCPUPeriod (100000)
	CPUShares  uint64 // relative weight (--cpu-shares; the kernel's default is 1024)
	PidsLimit  int64  // processes (--pids-limit); 0 means no limit, -1 too
	// MemoryReservation is the soft limit in bytes
	// (--memory-reservation): v1 memory.soft_limit_in_bytes, v2
	// memory.low. Unlike Memory it is no wall: under memory pressure the
	// kernel reclaims from the cgroups above their soft limit first.
	MemoryReservation int64
	// MemorySwappiness (--memory-swappiness, 0-100) is v1
	// memory.swappiness; nil is not set (0 is a value: swap as little as
	// possible). cgroup v2 has no such file: set, it is an error there.
	MemorySwappiness *uint64
	// OOMKillDisable (--oom-kill-disable) is v1 memory.oom_control 1: at
	// the limit, processes wait for memory instead of being killed. cgroup
	// v2 has no such switch: set, it is an error there.
	OOMKillDisable bool
	// CpusetCpus and CpusetMems (--cpuset-cpus, --cpuset-mems) pin the
	// container to CPUs and memory nodes, as lists like "0-2,4":
	// cpuset.cpus and cpuset.mems, on v1 and v2 (see cpuset.go).
	CpusetCpus, CpusetMems string
	// Devices is the one field whose zero value is not "no limit": it is
	// Docker's device allow-list (DefaultDeviceRules). Devices.AllowAll is
	// --privileged.
	Devices Devices
}

// Stats are what a container used.
type Stats struct {
	MemoryUsage uint64        // bytes now
	MemoryPeak  uint64        // the most bytes at any time
	OOMKills    uint64        // processes the kernel killed for memory
	CPUUsage    time.Duration // CPU time of all its processes
	Pids        uint64        // processes now
	// IORead and IOWrite are the bytes its processes read from and wrote
	// to block devices, all devices (docker stats' BLOCK I/O).
	IORead, IOWrite uint64
}

// Manager is one container's cgroups, on v1, v2 or a mix of both.
type Manager interface {
	// Apply moves pid into the container's cgroups. Call it before the
	// process runs the user's program: what it allocated before stays
	// charged to the cgroup it came from.
	Apply(pid int) error
	// Set writes the limits.
	Set(Resources) error
	// Stats reads the usage.
	Stats() (*Stats, error)
	// OOMKilled reports whether the kernel killed a process of the
	// container for memory.
	OOMKilled() (bool, error)
	// Destroy kills every process still in the cgroups, waits until they
	// are gone and removes the directories it made (and the shared
	// minidocker/ parent when it is empty). It is safe to call twice.
	Destroy() error
	// Procs are the PIDs of every process in the container's cgroups
	// (cgroup.procs), as the host numbers them: docker top's list.
	Procs() ([]int, error)
	// Freeze stops every process of the container where it is, until Thaw
	// (docker pause): v1 freezer.state FROZEN, v2 cgroup.freeze 1. It
	// returns once the kernel says all of them stopped.
	Freeze() error
	// Thaw lets them run again (docker unpause).
	Thaw() error
	// Paths are the container's cgroup directories, by controller. Store
	// them with the container's state and pass them to Load later.
	Paths() map[string]string
	// CgroupFD is an open fd of the container's cgroup directory for
	// clone3(CLONE_INTO_CGROUP) (SysProcAttr.UseCgroupFD), when every
	// controller is on cgroup v2; ok is false on v1 and hybrid hosts.
	// Destroy closes it.
	CgroupFD() (fd int, ok bool)
	// Version is 1, 2, or 12 for a hybrid host where both trees are used.
	Version() int
}

// Config says which container and where its cgroups go.
type Config struct {
	ID string // the container ID: the leaf is minidocker/<ID>
	// Parent is --cgroup-parent, under which to create minidocker/<ID>: as
	// in Docker, "/mdk-parent" is a path from the root of each tree and
	// "mdk-parent" one beneath the cgroup minidocker itself runs in. ""
	// means that cgroup itself, per controller. ".." is refused.
	Parent string
	// Path, when set, is the container's cgroup itself instead of
	// minidocker/<ID>: an OCI runtime's linux.cgroupsPath, which the engine
	// above us chose ("/docker/<id>", "/default/<id>"). As runc reads it,
	// "/a/b" is a path from the root of each tree, and "a/b" one beneath
	// the cgroup we run in. Parent is then ignored. Destroy removes only
	// this last directory, never the ones above it: they are the engine's.
	Path      string
	Resources Resources
	// Paths, for Load, are the directories a Manager reported with Paths
	// when the container was created. Without them Load recomputes the
	// directories from our own cgroup, which only works when the caller
	// runs in the same cgroup as the one that created them.
	Paths map[string]string
	// FSRoot is where the cgroup trees are mounted: DefaultFSRoot when
	// empty. Mount points in mountinfo under DefaultFSRoot are moved
	// under FSRoot, so tests can lay out a fake host in a temp dir.
	FSRoot string
	// ProcSelfCgroup and ProcSelfMountinfo default to /proc/self/cgroup
	// and /proc/self/mountinfo; tests point them at fake files.
	ProcSelfCgroup    string
	ProcSelfMountinfo string
}

// wanted reports whether this package uses controller c.
func wanted(c string) bool {
	switch c {
	case "memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "devices", "blkio", "io":
		return true
	}
	return false
}
