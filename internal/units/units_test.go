package units

import (
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "Less than a second"},
		{time.Second, "1 second"},
		{3 * time.Second, "3 seconds"},
		{59 * time.Second, "59 seconds"},
		{60 * time.Second, "About a minute"},
		{2 * time.Minute, "2 minutes"},
		{59 * time.Minute, "59 minutes"},
		{60 * time.Minute, "About an hour"},
		{3 * time.Hour, "3 hours"},
		{47 * time.Hour, "47 hours"},
		{48 * time.Hour, "2 days"},
		{15 * 24 * time.Hour, "2 weeks"},
		{61 * 24 * time.Hour, "2 months"},
		{3 * 365 * 24 * time.Hour, "3 years"},
	}
	for _, tc := range tests {
		if got := HumanDuration(tc.d); got != tc.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		size int64
		want string
	}{
		{0, "0B"},
		{999, "999B"},
		{1000, "1kB"},
		{745_123, "745kB"},
		{4_262_000, "4.26MB"},
		{1_200_000_000, "1.2GB"},
	}
	for _, tc := range tests {
		if got := HumanSize(tc.size); got != tc.want {
			t.Errorf("HumanSize(%d) = %q, want %q", tc.size, got, tc.want)
		}
	}
}

func TestHumanSizeWithPrecision(t *testing.T) {
	for size, want := range map[int64]string{0: "0B", 212: "212B", 16_434_000: "16.43MB", 4_262_000: "4.262MB", 1_200_000_000: "1.2GB"} {
		if got := HumanSizeWithPrecision(size, 4); got != want {
			t.Errorf("HumanSizeWithPrecision(%d, 4) = %q, want %q", size, got, want)
		}
	}
}

func TestBytesSize(t *testing.T) {
	for size, want := range map[float64]string{0: "0B", 1023: "1023B", 1024: "1KiB", 589824: "576KiB",
		20_905_984: "19.94MiB", 64 << 20: "64MiB", 25_275_000_000: "23.54GiB"} {
		if got := BytesSize(size); got != want {
			t.Errorf("BytesSize(%v) = %q, want %q", size, got, want)
		}
	}
}
