package rootfs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
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
		{"/srv/./a/../site/:/data/../d/", Mount{Source: "/srv/site", Destination: "/d"}, ""},
		{"/srv:/data:rx", Mount{}, "invalid mode: rx"},
		{"/srv", Mount{}, "invalid volume specification: '/srv'"},
		{"/a:/b:ro:x", Mount{}, "invalid volume specification: '/a:/b:ro:x'"},
		{"site:/data", Mount{}, "invalid volume specification: 'site:/data': the host path must be absolute"},
		{"/srv:data", Mount{}, "invalid volume specification: '/srv:data': mount path must be absolute"},
		{"/srv:/", Mount{}, "invalid volume specification: '/srv:/': cannot mount over /"},
		{":/data", Mount{}, "invalid volume specification: ':/data'"},
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
