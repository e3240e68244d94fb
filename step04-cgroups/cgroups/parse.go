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
// optional k, m, g, t or p suffix (any case, units of 1024). A size that
// does not fit in an int64 is refused: converted blindly, 9999999999p
// would wrap to a negative number, which every later check reads as "no
// limit".
func ParseMemory(s string) (int64, error) {
	invalid := &ValueError{Value: s, Err: fmt.Errorf("invalid size: '%s'", s)}
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, invalid
	}
	shift := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30, "t": 40, "p": 50}[strings.ToLower(m[2])]
	// A whole number is exact in integers: checked before the shift.
	if n, err := strconv.ParseUint(m[1], 10, 64); err == nil {
		if n > math.MaxInt64>>shift {
			return 0, invalid
		}
		return int64(n << shift), nil
	}
	// A fraction ("1.5g") goes through a float64, exact enough for sizes:
	// 2^63 is the first float64 an int64 cannot hold.
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, invalid
	}
	size := f * float64(uint64(1)<<shift)
	if size >= math.MaxInt64 { // float64(MaxInt64) is 2^63
		return 0, invalid
	}
	return int64(size), nil
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

// The range of v1 cpu.shares (the kernel's MIN_SHARES and MAX_SHARES).
const (
	MinCPUShares = 2
	MaxCPUShares = 262144
)

// SharesToWeight converts v1 cpu.shares (2..262144, default 1024) to v2
// cpu.weight (1..10000, default 100), as runc does. Shares out of range
// are clamped first, as Docker clamps them and the v1 kernel does: the
// formula's unsigned arithmetic would otherwise wrap (1-2 is 2^64-1) and
// give a weight the kernel refuses.
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	shares = min(max(shares, MinCPUShares), MaxCPUShares)
	return 1 + ((shares-2)*9999)/262142
}
