package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/final/engine"
)

// TestParseMount: --mount's fields and aliases, and the docker CLI's
// messages for what it refuses before asking the engine.
func TestParseMount(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    engine.MountSpec
		wantErr string
	}{
		{"type=bind,src=/h,dst=/c,ro,bind-propagation=RSLAVE", engine.MountSpec{Type: "bind", Source: "/h", Target: "/c", ReadOnly: true, Propagation: "rslave"}, ""},
		{"source=data,destination=/var/lib/db,readonly=false,volume-nocopy", engine.MountSpec{Type: "volume", Source: "data", Target: "/var/lib/db", NoCopy: true}, ""},
		{"target=/data", engine.MountSpec{Type: "volume", Target: "/data"}, ""},
		{"type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1777", engine.MountSpec{Type: "tmpfs", Target: "/t", TmpfsSize: 64 << 20, TmpfsMode: 0o1777}, ""},
		{`"type=bind","src=/a,b",dst=/c`, engine.MountSpec{Type: "bind", Source: "/a,b", Target: "/c"}, ""},
		{"type=bind,source=/tmp", engine.MountSpec{}, "target is required"},
		{"type=,target=/x", engine.MountSpec{}, "type is required"},
		{"target=/x,foo=bar", engine.MountSpec{}, "unexpected key 'foo' in 'foo=bar'"},
		{"readonly,target", engine.MountSpec{}, "invalid field 'target' must be a key=value pair"},
		{"type=tmpfs,target=/x,volume-nocopy", engine.MountSpec{}, "cannot mix 'volume-*' options with mount type 'tmpfs'"},
		{"type=volume,target=/x,bind-propagation=shared", engine.MountSpec{}, "cannot mix 'bind-*' options with mount type 'volume'"},
		{"type=bind,src=/tmp,dst=/x,tmpfs-mode=777", engine.MountSpec{}, "cannot mix 'tmpfs-*' options with mount type 'bind'"},
		{"type=tmpfs,target=/x,tmpfs-size=abc", engine.MountSpec{}, "invalid value for tmpfs-size: abc"},
		{"type=tmpfs,target=/x,tmpfs-mode=9", engine.MountSpec{}, "invalid value for tmpfs-mode: 9"},
		{"type=bind,src=/tmp,dst=/x,ro=maybe", engine.MountSpec{}, "invalid value for ro: maybe"},
	} {
		got, err := parseMount(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("parseMount(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseMount(%q): %v", tc.in, err)
		} else if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("parseMount(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}
