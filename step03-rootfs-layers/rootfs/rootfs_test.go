package rootfs

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"minidocker/step02-namespaces/namespaces"
)

func TestParseVolume(t *testing.T) {
	tests := []struct {
		spec    string
		want    Mount
		wantErr string
	}{
		{"/srv/site:/usr/local/apache2/htdocs", Mount{Source: "/srv/site", Destination: "/usr/local/apache2/htdocs"}, ""},
		{"/srv/site:/data:ro", Mount{Source: "/srv/site", Destination: "/data", ReadOnly: true}, ""},
		{"/srv/site:/data:rw", Mount{Source: "/srv/site", Destination: "/data"}, ""},
		{"/srv/./a/../site/:/data/./d/", Mount{Source: "/srv/site", Destination: "/data/d"}, ""},
		{"/srv:/data:rx", Mount{}, "invalid mode: rx"},
		{"/srv", Mount{Destination: "/srv", Anonymous: true}, ""},
		{"/srv/../etc", Mount{}, "invalid volume specification: '/srv/../etc': mount path must not contain '..'"},
		{"/proc/x", Mount{}, "invalid volume specification: '/proc/x': cannot mount over /proc"},
		{"data", Mount{}, "invalid volume specification: 'data': mount path must be absolute"},
		{"/a:/b:ro:x", Mount{}, "invalid volume specification: '/a:/b:ro:x'"},
		{"site:/data", Mount{Name: "site", Destination: "/data"}, ""},
		{"db-data:/var/lib/db:ro", Mount{Name: "db-data", Destination: "/var/lib/db", ReadOnly: true}, ""},
		{"./site:/data", Mount{}, `create ./site: "./site" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`},
		{"x:/data", Mount{}, `create x: "x" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`},
		{"/srv:data", Mount{}, "invalid volume specification: '/srv:data': mount path must be absolute"},
		{"/srv:/", Mount{}, "invalid volume specification: '/srv:/': cannot mount over /"},
		{":/data", Mount{}, "invalid volume specification: ':/data'"},
		{"/srv:/data/../etc", Mount{}, "invalid volume specification: '/srv:/data/../etc': mount path must not contain '..'"},
		{"/srv:/..", Mount{}, "invalid volume specification: '/srv:/..': mount path must not contain '..'"},
		{"/srv:/data/..x", Mount{Source: "/srv", Destination: "/data/..x"}, ""},
		{"/srv:/proc", Mount{}, "invalid volume specification: '/srv:/proc': cannot mount over /proc"},
		{"/srv:/proc/sys/kernel", Mount{}, "invalid volume specification: '/srv:/proc/sys/kernel': cannot mount over /proc"},
		{"/srv:/sys/", Mount{}, "invalid volume specification: '/srv:/sys/': cannot mount over /sys"},
		{"/srv:/sys/fs/cgroup", Mount{}, "invalid volume specification: '/srv:/sys/fs/cgroup': cannot mount over /sys"},
		{"/srv:/system", Mount{Source: "/srv", Destination: "/system"}, ""},
		{"/srv:/processes", Mount{Source: "/srv", Destination: "/processes"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseVolume(tc.spec)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("ParseVolume(%q) error = %v, want %q", tc.spec, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseVolume(%q): %v", tc.spec, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseVolume(%q) mismatch (-want +got):\n%s", tc.spec, diff)
			}
		})
	}
}

// TestEmptyPathListsSurviveJSON: an empty MaskedPaths means "none" (as
// --privileged asks), nil means the defaults; the init receives the Config
// as JSON, where omitempty used to turn the one into the other.
func TestEmptyPathListsSurviveJSON(t *testing.T) {
	for _, in := range []Config{{MaskedPaths: []string{}, ReadonlyPaths: []string{}}, {}} {
		raw, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var out Config
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		if (out.MaskedPaths == nil) != (in.MaskedPaths == nil) || (out.ReadonlyPaths == nil) != (in.ReadonlyPaths == nil) {
			t.Errorf("%s: masked %#v readonly %#v after the round trip, want %#v %#v",
				raw, out.MaskedPaths, out.ReadonlyPaths, in.MaskedPaths, in.ReadonlyPaths)
		}
	}
}

func TestConfigure(t *testing.T) {
	raw, err := json.Marshal(Config{Root: "/r", Mounts: []Mount{{Source: "/a", Destination: "/b"}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := namespaces.Config{Stages: map[string]json.RawMessage{StageName: raw}}
	if err := Configure(&cfg, func(c *Config) { c.ReadOnly, c.Privileged = true, true }); err != nil {
		t.Fatal(err)
	}
	var got Config
	if err := json.Unmarshal(cfg.Stages[StageName], &got); err != nil {
		t.Fatal(err)
	}
	want := Config{Root: "/r", Mounts: []Mount{{Source: "/a", Destination: "/b"}}, ReadOnly: true, Privileged: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after Configure (-want +got):\n%s", diff)
	}
	if err := Configure(&namespaces.Config{}, func(*Config) {}); err == nil {
		t.Error("Configure of a config without the rootfs stage succeeded")
	}
}
