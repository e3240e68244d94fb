// Package limitflags declares step 4's resource flags (-m, --cpus,
// --cpu-shares, --pids-limit, --cgroup-parent) into a demo's
// flag.FlagSet, for step 4's demo and the later ones.
package limitflags

import (
	"flag"

	"minidocker/step04-cgroups/limits"
)

// Declare declares step 4's resource flags into f: -m/--memory,
// --cpus, --cpu-shares, --pids-limit and --cgroup-parent.
func Declare(fs *flag.FlagSet, f *limits.Flags) {
	fs.StringVar(&f.Memory, "m", "", "memory limit (`SIZE`: 64m, 1g, bytes)")
	fs.StringVar(&f.Memory, "memory", "", "memory limit (same as -m)")
	fs.StringVar(&f.CPUs, "cpus", "", "number of CPUs (`N`, e.g. 0.5)")
	fs.Uint64Var(&f.CPUShares, "cpu-shares", 0, "CPU shares, a relative `weight` (default 1024)")
	fs.Int64Var(&f.PidsLimit, "pids-limit", 0, "the most processes the container may have (`N`)")
	fs.StringVar(&f.Parent, "cgroup-parent", "", "create the container's cgroup beneath this `path` (\"a/b\": beneath our own cgroup, \"/a/b\": from the root)")
}
