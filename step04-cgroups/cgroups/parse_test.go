package cgroups

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
)

func TestParseMemory(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr string
	}{
		{"m suffix", "64m", 64 << 20, ""},
		{"upper case", "64M", 64 << 20, ""},
		{"g suffix", "1g", 1 << 30, ""},
		{"fraction", "1.5g", 3 << 29, ""},
		{"k suffix", "512k", 512 << 10, ""},
		{"t suffix", "1t", 1 << 40, ""},
		{"bytes", "100", 100, ""},
		{"b suffix", "100b", 100, ""},
		{"mb", "32mb", 32 << 20, ""},
		{"MiB", "32MiB", 32 << 20, ""},
		{"unknown suffix", "12x", 0, "invalid size: '12x'"},
		{"empty", "", 0, "invalid size: ''"},
		{"negative", "-1m", 0, "invalid size: '-1m'"},
		{"no number", "m", 0, "invalid size: 'm'"},
		// The largest size an int64 holds, and past it: a wrap to a
		// negative number would mean no limit at all.
		{"largest whole pebibytes", "8191p", 8191 << 50, ""},
		{"largest bytes", "9223372036854775807", math.MaxInt64, ""},
		{"fraction near the top", "8191.5p", 8191<<50 + 1<<49, ""},
		{"fraction past the top", "8192.5p", 0, "invalid size: '8192.5p'"},
		{"2^63 bytes", "9223372036854775808", 0, "invalid size: '9223372036854775808'"},
		{"8192p is 2^63", "8192p", 0, "invalid size: '8192p'"},
		{"overflows int64", "9999999999p", 0, "invalid size: '9999999999p'"},
		{"overflows float64", "1" + strings.Repeat("0", 400), 0, "invalid size: '1" + strings.Repeat("0", 400) + "'"},
		{"fraction overflows float64", "1" + strings.Repeat("0", 400) + ".5", 0, "invalid size: '1" + strings.Repeat("0", 400) + ".5'"},
		{"huge terabytes", "99999999t", 0, "invalid size: '99999999t'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMemory(tc.in)
			if tc.wantErr != "" {
				var ve *ValueError
				if !errors.As(err, &ve) || err.Error() != tc.wantErr || ve.Value != tc.in {
					t.Errorf("ParseMemory(%q) error = %#v, want ValueError %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseMemory(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestCheckMemory(t *testing.T) {
	tests := []struct {
		name    string
		n       int64
		wantErr bool
	}{
		{"below 6MB", 5 << 20, true},
		{"one byte below", MinMemory - 1, true},
		{"6MB", MinMemory, false},
		{"no limit", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckMemory(tc.n)
			if tc.wantErr && (err == nil || err.Error() != "Minimum memory limit allowed is 6MB") {
				t.Errorf("CheckMemory(%d) = %v, want Docker's minimum error", tc.n, err)
			}
			if !tc.wantErr && err != nil {
				t.Errorf("CheckMemory(%d) = %v, want nil", tc.n, err)
			}
		})
	}
}

func TestParseCPUs(t *testing.T) {
	n := runtime.NumCPU()
	rangeErr := fmt.Sprintf("range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", n, n)
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr string
	}{
		{"half", "0.5", 50000, ""},
		{"one", "1", 100000, ""},
		{"smallest", "0.01", 1000, ""},
		{"all", fmt.Sprint(n), int64(n) * 100000, ""},
		{"not a number", "abc", 0, "failed to parse abc as a rational number"},
		{"zero", "0", 0, rangeErr},
		{"negative", "-1", 0, rangeErr},
		{"more than the host has", fmt.Sprint(n + 1), 0, rangeErr},
		{"past int64 once scaled", "1e300", 0, rangeErr},
		{"past float64", "1e400", 0, "failed to parse 1e400 as a rational number"},
		{"infinity", "Inf", 0, "failed to parse Inf as a rational number"},
		{"not a number (NaN)", "NaN", 0, "failed to parse NaN as a rational number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCPUs(tc.in)
			if tc.wantErr != "" {
				var ve *ValueError
				if !errors.As(err, &ve) || err.Error() != tc.wantErr {
					t.Errorf("ParseCPUs(%q) error = %v, want ValueError %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseCPUs(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestSharesToWeight(t *testing.T) {
	tests := []struct {
		name          string
		shares, wants uint64
	}{
		{"smallest", 2, 1},
		{"default", 1024, 39},
		{"largest", 262144, 10000},
		{"unset", 0, 0},
		// Out of the kernel's range: clamped as Docker clamps cpu.shares
		// (2..262144), never wrapped around by the unsigned arithmetic.
		{"below the smallest", 1, 1},
		{"above the largest", 262145, 10000},
		{"huge", 1 << 62, 10000},
		{"largest uint64", math.MaxUint64, 10000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SharesToWeight(tc.shares); got != tc.wants {
				t.Errorf("SharesToWeight(%d) = %d, want %d", tc.shares, got, tc.wants)
			}
		})
	}
}
