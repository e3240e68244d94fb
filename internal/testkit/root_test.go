package testkit

import (
	"strings"
	"testing"
)

// fakeTB records what a gate asked for instead of stopping the test.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Fatal(args ...any)     { f.fatal = args[0].(string) }
func (f *fakeTB) Skip(args ...any)      { f.skip = args[0].(string) }
func (f *fakeTB) Fatalf(string, ...any) {}

func TestRequireRoot(t *testing.T) {
	tests := []struct {
		name                string
		euid                int
		strict              bool
		wantFatal, wantSkip bool
	}{
		{"root passes", 0, false, false, false},
		{"root passes strict", 0, true, false, false},
		{"non-root skips", 1000, false, false, true},
		{"non-root fails when strict", 1000, true, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTB{}
			requireRoot(f, tc.euid, tc.strict)
			if (f.fatal != "") != tc.wantFatal || (f.skip != "") != tc.wantSkip {
				t.Fatalf("requireRoot(euid=%d, strict=%v): fatal=%q skip=%q", tc.euid, tc.strict, f.fatal, f.skip)
			}
			if msg := f.fatal + f.skip; msg != "" && !strings.Contains(msg, "sudo make test") {
				t.Errorf("message %q does not tell the user to run sudo make test", msg)
			}
		})
	}
}
