package privileges

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestCapabilities(t *testing.T) {
	// minus is from without drop, in from's order.
	minus := func(from []string, drop ...string) []string {
		var out []string
		for _, c := range from {
			if !slices.Contains(drop, c) {
				out = append(out, c)
			}
		}
		return out
	}
	without := func(drop ...string) []string { return minus(DefaultCapabilities, drop...) }
	allBut := func(drop ...string) []string { return minus(AllCapabilities(), drop...) }
	tests := []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
	}{
		{name: "default", want: DefaultCapabilities},
		{name: "privileged ignores drops", drop: []string{"ALL"}, privileged: true, want: AllCapabilities()},
		{name: "add without prefix, lower case", add: []string{"sys_admin"}, want: append(without(), "CAP_SYS_ADMIN")},
		{name: "drop one", drop: []string{"CAP_NET_RAW"}, want: without("CAP_NET_RAW")},
		{name: "drop ALL, add one", add: []string{"NET_BIND_SERVICE"}, drop: []string{"all"}, want: []string{"CAP_NET_BIND_SERVICE"}},
		{name: "drop ALL", drop: []string{"ALL"}, want: nil},
		{name: "add ALL, drop one", add: []string{"ALL"}, drop: []string{"SYS_MODULE"}, want: allBut("CAP_SYS_MODULE")},
		{name: "add a default one again", add: []string{"CHOWN"}, want: DefaultCapabilities},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Capabilities(tt.add, tt.drop, tt.privileged)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("caps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCapabilitiesUnknown(t *testing.T) {
	_, err := Capabilities([]string{"CAP_FLY"}, nil, false)
	if err == nil || err.Error() != `unknown capability: "CAP_FLY"` {
		t.Fatalf("err = %v, want docker's unknown capability error", err)
	}
}

func TestDefaultIsDockers14(t *testing.T) {
	if len(DefaultCapabilities) != 14 {
		t.Fatalf("%d default capabilities, Docker has 14", len(DefaultCapabilities))
	}
	for _, c := range DefaultCapabilities {
		if _, ok := CapNumber(c); !ok {
			t.Errorf("%s has no number", c)
		}
	}
	if n, _ := CapNumber("CAP_SYS_ADMIN"); n != 21 {
		t.Errorf("CAP_SYS_ADMIN = %d, the kernel says 21", n)
	}
	if n, _ := CapNumber("CAP_CHECKPOINT_RESTORE"); n != 40 {
		t.Errorf("CAP_CHECKPOINT_RESTORE = %d, the kernel says 40", n)
	}
}
