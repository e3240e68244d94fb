// Package limits runs a container inside cgroups with Docker's resource
// flags: what step 4's demo does, as a library so that step 5, step 6 and
// final run their containers the same way instead of copying it.
//
// The lesson is in package cgroups; this package only puts it in order:
// parse the flags, create the cgroups, start the init placed in them
// before it runs anything, wait, read the stats, destroy.
package limits

import (
	"fmt"
	"io"

	"minidocker/step01-process/process"
	"minidocker/step04-cgroups/cgroups"
)

// Flags are the values of docker run's resource flags (-m/--memory,
// --cpus, --cpu-shares, --pids-limit, --cgroup-parent), as typed: the
// caller declares the flags and fills them; Resources checks them.
type Flags struct {
	Memory, CPUs string
	CPUShares    uint64
	PidsLimit    int64
	Parent       string
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
