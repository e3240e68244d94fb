package cgroups

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// MinMemory is Docker's smallest memory limit.
const MinMemory = 6 << 20

// sizeRE is the size grammar of Docker's go-units RAMInBytes: "64m",
// "1.5g", "512 MiB", "100".
var sizeRE = regexp.MustCompile(`^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$`)

// ParseMemory reads a size as docker run -m does: a number with an
// optional k, m, g, t or p suffix (any case, units of 1024).
func ParseMemory(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, &ValueError{Value: s, Err: fmt.Errorf("invalid size: '%s'", s)}
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, &ValueError{Value: s, Err: fmt.Errorf("invalid size: '%s'", s)}
	}
	shift := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50}[strings.ToLower(m[2])]
	return int64(f * float64(uint64(1)<<shift)), nil
}

// CheckMemory applies Docker's minimum (MinMemory). The message is
// Docker's, capital letter included: the daemon returns it as is.
func CheckMemory(n int64) error {
	if n > 0 && n < MinMemory {
		return &ValueError{Value: strconv.FormatInt(n, 10), Err: errors.New("Minimum memory limit allowed is 6MB")}
	}
	return nil
}

// DefaultCPUPeriod is the CFS period Docker uses for --cpus: 100 ms.
const DefaultCPUPeriod = 100000

// ParseCPUs reads docker run --cpus ("0.5", "1.5") into a CFS quota per
// DefaultCPUPeriod: 0.5 is 50000 µs of CPU time every 100000 µs.
func ParseCPUs(s string) (quota int64, err error) {
	f, perr := strconv.ParseFloat(s, 64)
	if perr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, &ValueError{Value: s, Err: fmt.Errorf("failed to parse %s as a rational number", s)}
	}
	n := runtime.NumCPU()
	if f < 0.01 || f > float64(n) {
		return 0, &ValueError{Value: s, Err: fmt.Errorf("range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", n, n)}
	}
	return int64(math.Round(f * DefaultCPUPeriod)), nil
}

// SharesToWeight converts v1 cpu.shares (2..262144, default 1024) to v2
// cpu.weight (1..10000, default 100), as runc does.
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	return 1 + ((shares-2)*9999)/262142
}
