package namespaces

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveUser(t *testing.T) {
	const passwd = `root:x:0:0:root:/root:/bin/sh
# a comment
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
www:x:33:33:www:/var/www:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`
	const group = `root:x:0:
www:x:33:
web:x:500:www,daemon
nogroup:x:65534:
`
	tests := []struct {
		name    string
		spec    string
		want    User
		wantErr string
	}{
		{"empty is root", "", User{UID: 0, GID: 0, Home: "/root"}, ""},
		{"name", "www", User{UID: 33, GID: 33, Home: "/var/www", AdditionalGIDs: []uint32{500}}, ""},
		{"uid", "65534", User{UID: 65534, GID: 65534, Home: "/nonexistent"}, ""},
		{"unknown uid is used as is", "1234", User{UID: 1234, GID: 0, Home: "/"}, ""},
		{"uid:gid", "33:7", User{UID: 33, GID: 7, Home: "/var/www", AdditionalGIDs: []uint32{500}}, ""},
		{"name:group", "daemon:nogroup", User{UID: 1, GID: 65534, Home: "/usr/sbin", AdditionalGIDs: []uint32{500}}, ""},
		{"unknown name", "alice", User{}, "unable to find user alice: no matching entries in passwd file"},
		{"unknown group", "www:staff", User{}, "unable to find group staff: no matching entries in group file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveUser(tc.spec, strings.NewReader(passwd), strings.NewReader(group))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("ResolveUser(%q) error = %v, want %q", tc.spec, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveUser(%q): %v", tc.spec, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ResolveUser(%q) mismatch (-want +got):\n%s", tc.spec, diff)
			}
		})
	}
}

func TestResolveUserNoFiles(t *testing.T) {
	got, err := ResolveUser("1000:1000", nil, nil)
	if err != nil || got.UID != 1000 || got.GID != 1000 {
		t.Errorf("ResolveUser without passwd = %+v, %v; want 1000:1000", got, err)
	}
}
