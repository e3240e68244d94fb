// Package limits runs a container inside cgroups with Docker's resource
// flags: what step 4's demo does, as a library so that step 5, step 6 and
// final run their containers the same way instead of copying it.
//
// The lesson is in package cgroups; this package only puts it in order:
// parse the flags, create the cgroups, start the init placed in them
// before it runs anything, wait, read the stats, destroy.
package limits

import (
	"flag"
	"fmt"
	"io"

	"minidocker/step01-process/process"
	"minidocker/step04-cgroups/cgroups"
)

// Flags are docker run's resource flags.
type Flags struct {
	Memory, CPUs string
	CPUShares    uint64
	PidsLimit    int64
	Parent       string
}

// Register adds -m/--memory, --cpus, --cpu-shares, --pids-limit and
// --cgroup-parent to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Memory, "m", "", "memory limit (`SIZE`: 64m, 1g, bytes)")
	fs.StringVar(&f.Memory, "memory", "", "memory limit (same as -m)")
	fs.StringVar(&f.CPUs, "cpus", "", "number of CPUs (`N`, e.g. 0.5)")
	fs.Uint64Var(&f.CPUShares, "cpu-shares", 0, "CPU shares, a relative `weight` (default 1024)")
	fs.Int64Var(&f.PidsLimit, "pids-limit", 0, "the most processes the container may have (`N`)")
	fs.StringVar(&f.Parent, "cgroup-parent", "", "create the container's cgroup beneath this `path` (\"a/b\": beneath our own cgroup, \"/a/b\": from the root)")
}

// Resources parses the flags with Docker's rules and messages:
//
//	invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'
func (f *Flags) Resources() (cgroups.Resources, error) {
	var r cgroups.Resources
	if f.Memory != "" {
		n, err := cgroups.ParseMemory(f.Memory)
		if err != nil {
			return r, fmt.Errorf(`invalid argument %q for "-m, --memory" flag: %w`, f.Memory, err)
		}
		if err := cgroups.CheckMemory(n); err != nil {
			return r, err
		}
		r.Memory = n
	}
	if f.CPUs != "" {
		q, err := cgroups.ParseCPUs(f.CPUs)
		if err != nil {
			return r, fmt.Errorf(`invalid argument %q for "--cpus" flag: %w`, f.CPUs, err)
		}
		r.CPUQuota = q
	}
	r.CPUShares, r.PidsLimit = f.CPUShares, f.PidsLimit
	return r, nil
}

// Result is how a limited container ended.
type Result struct {
	Status    process.ExitStatus
	Stats     *cgroups.Stats // nil if they could not be read
	OOMKilled bool
	Memory    int64 // the limit, for the OOM message
	Version   int   // the cgroup version used (1, 2, 12)
}

// Report prints on w what step 4's demo prints after the container: the
// OOM kill if there was one, and with stats the usage.
func (r Result) Report(w io.Writer, prog string, stats bool) {
	if r.OOMKilled {
		fmt.Fprintf(w, "%s: OOMKilled: the kernel killed the container for using more than %d bytes of memory\n", prog, r.Memory)
	}
	if stats && r.Stats != nil {
		fmt.Fprintf(w, "memory peak %.1f MiB, CPU %v, OOM kills %d (cgroup v%d)\n",
			float64(r.Stats.MemoryPeak)/(1<<20), r.Stats.CPUUsage.Round(1e6), r.Stats.OOMKills, r.Version)
	}
}
