package namespaces

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Namespace
		wantErr bool
	}{
		{"empty is none", "", nil, false},
		{"docker's default", "uts,pid,mnt,ipc,net,cgroup", Default, false},
		{"mount is mnt", "mount", []Namespace{Mnt}, false},
		{"spaces and duplicates", " uts, uts ,net", []Namespace{UTS, Net}, false},
		{"cgroup", "cgroup", []Namespace{Cgroup}, false},
		{"unknown", "uts,user", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Parse(%q) error = %v, wantErr %v", tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}
