package ocivalidate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTAP(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Report
	}{
		{
			name: "plan last, diagnostic after a test, skip",
			in: "TAP version 13\n" +
				"ok 1 - has expected hostname\n" +
				"not ok 2 - seccomp action is added correctly\n" +
				"  ---\n  {\n  \"error\": \"exit status 1\"\n}\n  ...\n" +
				"ok 3 # SKIP linux.sysctl not set\n" +
				"# a comment\n" +
				"1..3\n",
			want: Report{Plan: 3, Tests: []Result{
				{Number: 1, OK: true, Description: "has expected hostname"},
				{Number: 2, Description: "seccomp action is added correctly",
					Diagnostic: "  {\n  \"error\": \"exit status 1\"\n}\n"},
				{Number: 3, OK: true, Skip: true, Description: "linux.sysctl not set"},
			}},
		},
		{
			name: "stderr mixed in, todo",
			in: "TAP version 13\n" +
				"failed to create the container\n" +
				"not ok 1 # TODO later\n" +
				"1..1\n",
			want: Report{Plan: 1, Tests: []Result{{Number: 1, Todo: true, Description: "later"}}},
		},
		{
			name: "a hook program: no test, an error block",
			in:   "TAP version 13\n  ---\n  {\"error\": \"Hooks MUST be called in the listed order\"}\n  ...\n1..0\n",
			want: Report{Plan: 0, Orphans: []string{"  {\"error\": \"Hooks MUST be called in the listed order\"}\n"}},
		},
		{
			name: "died before the plan",
			in:   "TAP version 13\nok 1 - x\n",
			want: Report{Plan: -1, Tests: []Result{{Number: 1, OK: true, Description: "x"}}},
		},
		{name: "nothing", in: "", want: Report{Plan: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseTAP(tc.in)
			if err != nil {
				t.Fatalf("ParseTAP: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseTAP() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTAPErrors(t *testing.T) {
	for _, in := range []string{"ok x - no number\n", "1..many\n"} {
		if _, err := ParseTAP(in); err == nil {
			t.Errorf("ParseTAP(%q) = nil error, want one", in)
		}
	}
}

func TestComplete(t *testing.T) {
	ok := Result{Number: 1, OK: true}
	bad := Result{Number: 2}
	tests := []struct {
		name   string
		rep    Report
		code   int
		except []int
		pass   bool
	}{
		{"all ok", Report{Plan: 2, Tests: []Result{ok, {Number: 2, OK: true, Skip: true}}}, 0, nil, true},
		{"one not ok", Report{Plan: 2, Tests: []Result{ok, bad}}, 0, nil, false},
		{"not ok excepted", Report{Plan: 2, Tests: []Result{ok, bad}}, 0, []int{2}, true},
		{"exit status", Report{Plan: 1, Tests: []Result{ok}}, 1, nil, false},
		{"short of plan", Report{Plan: 3, Tests: []Result{ok}}, 0, nil, false},
		{"no plan", Report{Plan: -1, Tests: []Result{ok}}, 0, nil, false},
		{"silent, exit 0", Report{Plan: -1}, 0, nil, true},
		{"hook error block", Report{Plan: 0, Orphans: []string{"error"}}, 0, nil, false},
		{"hook, nothing said", Report{Plan: 0}, 0, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := complete(tc.rep, tc.code, tc.except)
			if (err == nil) != tc.pass {
				t.Errorf("complete() = %v, want pass %v", err, tc.pass)
			}
		})
	}
}
