package cgroups

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestDeviceRuleString(t *testing.T) {
	var got []string
	for _, r := range DefaultDeviceRules[:4] {
		got = append(got, r.String())
	}
	want := []string{"a *:* rwm", "c 10:229 rwm", "c *:* m", "b *:* m"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("v1 lines (-want +got):\n%s", diff)
	}
}

// TestDeviceProgramGolden compares the program for Docker's list with
// testdata/devices.golden, which was reviewed by hand against runc's
// devicefilter layout (one block per rule; type, then the access subset
// test unless rwm, then major and minor unless "*"; the default last). Run
// with -update after a deliberate change, and review the diff.
func TestDeviceProgramGolden(t *testing.T) {
	insns, err := DeviceProgram(DefaultDeviceRules)
	require.NoError(t, err)
	got := fmt.Sprintf("%v", insns)
	golden := filepath.Join("testdata", "devices.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("device program for DefaultDeviceRules (-golden +got):\n%s", diff)
	}
}

// TestDeviceProgramShape checks the listing's structure independently of
// the golden file: a block per rule after the first, in reverse order, and
// the default verdict last.
func TestDeviceProgramShape(t *testing.T) {
	rules := []DeviceRule{
		{Type: 'a', Major: Any, Minor: Any, Access: "rwm"},
		{Allow: true, Type: 'c', Major: 1, Minor: 3, Access: "rwm"},
		{Allow: true, Type: 'b', Major: 8, Minor: Any, Access: "r"},
	}
	insns, err := DeviceProgram(rules)
	require.NoError(t, err)
	// 6 loads + block "b 8:* r" (type, 3 access, major, 2 verdict = 7) +
	// block "c 1:3 rwm" (type, major, minor, 2 verdict = 5) + default 2.
	require.Len(t, insns, 6+7+5+2)
	want := []string{
		"JNEImm dst: r2 off: -1 imm: 1 <rule-1>", // block: not a block device -> next rule
		"MovImm32 dst: r0 imm: 0",                // the default: deny
		"JNEImm dst: r5 off: -1 imm: 3 <rule-2>", // c 1:3: minor
		"AndImm32 dst: r1 imm: 2",                // "r" is BPF_DEVCG_ACC_READ
		"JNEImm dst: r4 off: -1 imm: 8 <rule-1>", // b 8:*: major, no minor test
		"JNEImm dst: r2 off: -1 imm: 2 <rule-2>", // c: BPF_DEVCG_DEV_CHAR
	}
	got := fmt.Sprintf("%v", insns)
	for _, w := range want {
		require.Contains(t, got, w)
	}
	require.Equal(t, "rule-2", insns[len(insns)-2].Symbol(), "the default is the last block")
}

func TestDeviceRulesRefused(t *testing.T) {
	tests := []struct {
		name  string
		rules []DeviceRule
	}{
		{"empty", []DeviceRule{}},
		{"no leading a", []DeviceRule{{Allow: true, Type: 'c', Major: 1, Minor: 3, Access: "rwm"}}},
		{"a later", []DeviceRule{{Type: 'a', Major: Any, Minor: Any, Access: "rwm"}, {Type: 'a', Major: Any, Minor: Any, Access: "rwm"}}},
		{"bad access", []DeviceRule{{Type: 'a', Major: Any, Minor: Any, Access: "rwm"}, {Type: 'c', Major: 1, Minor: 3, Access: "rx"}}},
		{"bad type", []DeviceRule{{Type: 'a', Major: Any, Minor: Any, Access: "rwm"}, {Type: 'x', Major: 1, Minor: 3, Access: "r"}}},
		{"bad major", []DeviceRule{{Type: 'a', Major: Any, Minor: Any, Access: "rwm"}, {Type: 'c', Major: -2, Minor: 3, Access: "r"}}},
	}
	for _, tc := range tests {
		if _, err := DeviceProgram(tc.rules); err == nil {
			t.Errorf("%s: DeviceProgram accepted %v", tc.name, tc.rules)
		}
	}
}
