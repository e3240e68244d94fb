// Package cgroups limits and accounts what a container may use: memory,
// CPU time and the number of processes, on cgroup v1 and on cgroup v2.
//
// # The idea
//
// Namespaces decide what a container sees; control groups decide how much
// it may use. A cgroup is a directory in a special filesystem: make the
// directory, write limits into its files, write a PID into cgroup.procs,
// and the kernel holds that process and all its future children to the
// limits, and counts what they use.
//
// There are two versions. v1 has one tree per controller
// (/sys/fs/cgroup/memory, /sys/fs/cgroup/cpu, …); v2 has one tree for all
// (/sys/fs/cgroup). Hosts may mix them ("hybrid": the course VM keeps
// memory, cpu and pids on v1 and mounts a v2 tree at
// /sys/fs/cgroup/unified that holds only hugetlb), so New decides per
// controller, from /proc/self/mountinfo, which tree and which file names
// to use. Docker's flags, side by side:
//
//	limit            docker flag       v1 file (in that controller's tree)     v2 file (the one tree)
//	memory           -m 64m            memory.limit_in_bytes                   memory.max
//	memory + swap    --memory-swap     memory.memsw.limit_in_bytes (2 x -m)    memory.swap.max (swap alone: = -m)
//	CPU bandwidth    --cpus 0.5        cpu.cfs_quota_us 50000, cfs_period_us   cpu.max "50000 100000"
//	CPU weight       --cpu-shares 512  cpu.shares 512                          cpu.weight 1+((512-2)*9999)/262142
//	processes        --pids-limit 20   pids.max                                pids.max
//	memory now/peak  (stats)           memory.usage_in_bytes, max_usage_…      memory.current, memory.peak
//	OOM kills        (OOMKilled)       memory.oom_control "oom_kill N"         memory.events "oom_kill N"
//	CPU time         (stats)           cpuacct.usage (ns)                      cpu.stat "usage_usec N"
//	processes now    (stats)           pids.current                            pids.current
//	kill everything  (rm -f)           freezer.state FROZEN, SIGKILL, THAWED   cgroup.kill
//	devices          (always; none     devices.deny "a *:* rwm", then          a BPF_PROG_TYPE_CGROUP_DEVICE
//	                 with --privileged) devices.allow per rule                  program (DeviceProgram)
//
// A container's cgroup is created beneath the cgroup minidocker itself
// runs in (read from /proc/self/cgroup, per controller on v1), as
// minidocker/<id>, or beneath --cgroup-parent. minidocker never moves a
// process out of the cgroup its caller put it in: that cgroup may carry
// the limits of the whole login session or CI job.
//
// # The syscalls, in order
//
//  1. v2 only: write "+memory +cpu +pids" into cgroup.subtree_control of
//     each directory from our own cgroup down to minidocker/, the parent of
//     the leaf: a v2 cgroup can use only what its parent enabled for it.
//  2. mkdir(<tree>/<our cgroup>/minidocker/<id>) in each tree.
//  3. Write the limits. On v1 memory.limit_in_bytes may never be above
//     memory.memsw.limit_in_bytes, so raising -m writes memsw first.
//  4. Place the container's init before it runs the user's program: on v2
//     with clone3(CLONE_INTO_CGROUP) and the directory's fd (CgroupFD); on
//     v1 by writing its PID into cgroup.procs of each tree (Apply) while it
//     waits for its config.
//  5. At exit read the stats; Destroy kills whatever is left (v2: write 1
//     to cgroup.kill; v1: freeze, SIGKILL each PID of cgroup.procs, thaw,
//     until cgroup.procs is empty), then rmdir(2) each leaf and the shared
//     minidocker/ when it is empty. Files in a cgroup directory are not
//     real: rmdir removes them with it.
//
// # What goes wrong
//
// Out of memory: when the cgroup cannot reclaim below memory.max (v1:
// memory.limit_in_bytes, and memsw once swap is counted too), the kernel's
// OOM killer picks a process inside the cgroup and sends it SIGKILL; the
// container dies with status 137, oom_kill counts it, and Docker reports
// OOMKilled. Nothing is printed by the process: it never gets to.
//
// Throttling: --cpus is not a share but a budget. Each period (100 ms) the
// cgroup may run quota µs of CPU, summed over all its threads and CPUs;
// then it is stopped until the next period (cpu.stat nr_throttled). A busy
// loop under --cpus 0.5 gets 1 s of CPU in 2 s; a multi-threaded program
// may spend its 50 ms in the first 25 ms of a period on two CPUs and wait
// 75 ms, which shows as latency, not as slowness. --cpu-shares only matter
// when CPUs are contended.
//
// Placed too late: memory allocated before Apply stays charged to the old
// cgroup, and children forked before it stay outside. Hence the go-ahead
// pipe: the init waits for its config until it has been placed.
//
// No internal processes (v2): a cgroup other than the root that holds
// processes cannot enable controllers for its children; subtree_control
// says EBUSY. When minidocker's own cgroup is such a leaf (a login
// session's scope usually is), New fails with ErrInternalProcesses: start
// it in a cgroup of its own (systemd-run --scope, or a fresh cgroup) or
// pass --cgroup-parent.
//
// Removing: rmdir fails with EBUSY while a process is still in the cgroup.
// On v1 a fork bomb forks faster than cgroup.procs can be read and killed,
// which is why Destroy freezes first. Forks above pids.max fail with
// EAGAIN (pids.events "max" counts them); the host is unaffected.
//
// Load: a container's cgroups live beneath the cgroup of the process that
// created it, which may not be the cgroup of the one running rm -f later.
// Store Paths with the container's state and give them back in
// Config.Paths.
//
// # See also
//
// cgroups(7), Documentation/admin-guide/cgroup-v1/{memory,freezer-subsystem,pids}.rst
// and cgroup-v2.rst in the kernel tree; opencontainers/cgroups fs (v1) and
// fs2 (v2) drivers; Docker's run reference for -m, --memory-swap, --cpus,
// --cpu-shares, --pids-limit, --cgroup-parent.
package cgroups
