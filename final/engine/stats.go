package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"minidocker/final/errdefs"
	"minidocker/step04-cgroups/cgroups"
	"minidocker/step06-networking/network"
)

// StatsSample is one reading of a container's counters, docker stats'
// raw material: CPU % is the container's share of the machine's CPU time
// between two samples.
type StatsSample struct {
	Read        time.Time
	CPUUsage    time.Duration // the cgroup's CPU time (cpuacct.usage, cpu.stat usage_usec)
	SystemUsage time.Duration // the machine's, all CPUs (/proc/stat)
	OnlineCPUs  int
	MemUsage    uint64 // memory.usage_in_bytes, memory.current
	MemLimit    uint64 // -m, or the machine's memory
	NetRx       uint64 // bytes the container received (its veth's host end sent them)
	NetTx       uint64
	Pids        uint64
	PidsLimit   uint64
	BlockRead   uint64 // bytes read from block devices (blkio, io.stat)
	BlockWrite  uint64
}

// CPUPercent is docker stats' CPU %: the container's CPU time over the
// machine's between prev and s, times the number of CPUs.
func (s StatsSample) CPUPercent(prev StatsSample) float64 {
	cpu, sys := s.CPUUsage-prev.CPUUsage, s.SystemUsage-prev.SystemUsage
	if cpu <= 0 || sys <= 0 {
		return 0
	}
	return float64(cpu) / float64(sys) * float64(s.OnlineCPUs) * 100
}

// Stats reads the running container ref's counters: its cgroups for CPU,
// memory, processes and block I/O, its veth for the network.
func (e *Engine) Stats(ref string) (StatsSample, error) {
	c, err := e.Container(ref)
	if err != nil {
		return StatsSample{}, err
	}
	if !alive(c) {
		return StatsSample{}, errdefs.Conflict(fmt.Errorf("container %s is not running", c.ID))
	}
	cg, err := cgroups.Load(cgroups.Config{ID: c.ID, Paths: c.State.CgroupPaths})
	if err != nil {
		return StatsSample{}, err
	}
	st, err := cg.Stats()
	if err != nil {
		return StatsSample{}, fmt.Errorf("stats %s: %w", c.ShortID(), err)
	}
	s := StatsSample{Read: time.Now().UTC(), CPUUsage: st.CPUUsage, SystemUsage: systemCPU(),
		OnlineCPUs: runtime.NumCPU(), MemUsage: st.MemoryUsage, MemLimit: uint64(c.Config.Memory),
		Pids: st.Pids, PidsLimit: uint64(max(c.Config.PidsLimit, 0)), BlockRead: st.IORead, BlockWrite: st.IOWrite}
	if s.MemLimit == 0 {
		s.MemLimit = memTotal()
	}
	if c.Config.Network == "" || c.Config.Network == "bridge" {
		// The host end's counters, turned round: what it sent, the
		// container received.
		dir := filepath.Join("/sys/class/net", network.VethName(c.ID), "statistics")
		s.NetRx, _ = readCounter(filepath.Join(dir, "tx_bytes"))
		s.NetTx, _ = readCounter(filepath.Join(dir, "rx_bytes"))
	}
	return s, nil
}

func readCounter(file string) (uint64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
}

// systemCPU is the machine's CPU time, all CPUs, all states: the first
// line of /proc/stat, in clock ticks.
func systemCPU() time.Duration {
	data, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(data), "\n")
	var ticks uint64
	for _, f := range strings.Fields(line)[1:] {
		n, _ := strconv.ParseUint(f, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// memTotal is the machine's memory (/proc/meminfo MemTotal).
func memTotal() uint64 {
	data, _ := os.ReadFile("/proc/meminfo")
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
