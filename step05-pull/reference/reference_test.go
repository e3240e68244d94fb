package reference

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
)

const testDigest = digest.Digest("sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa")

// view is what a test compares: every accessor of a Reference.
type view struct {
	Domain, Host, Path, Name, Tag string
	Digest                        digest.Digest
	Identifier                    string
	String, Familiar, FamiliarStr string
	IsDockerHub                   bool
}

func viewOf(r Reference) view {
	return view{
		Domain: r.Domain(), Host: r.Host(), Path: r.Path(), Name: r.Name(), Tag: r.Tag(),
		Digest: r.Digest(), Identifier: r.Identifier(),
		String: r.String(), Familiar: r.Familiar(), FamiliarStr: r.FamiliarString(),
		IsDockerHub: r.IsDockerHub(),
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want view
	}{
		{
			name: "official image gets docker.io, library and latest",
			in:   "nginx",
			want: view{
				Domain: "docker.io", Host: "registry-1.docker.io", Path: "library/nginx",
				Name: "docker.io/library/nginx", Tag: "latest", Identifier: "latest",
				String: "docker.io/library/nginx:latest", Familiar: "nginx", FamiliarStr: "nginx:latest",
				IsDockerHub: true,
			},
		},
		{
			name: "user image keeps its namespace",
			in:   "user/app:1.0",
			want: view{
				Domain: "docker.io", Host: "registry-1.docker.io", Path: "user/app",
				Name: "docker.io/user/app", Tag: "1.0", Identifier: "1.0",
				String: "docker.io/user/app:1.0", Familiar: "user/app", FamiliarStr: "user/app:1.0",
				IsDockerHub: true,
			},
		},
		{
			name: "full docker.io form familiarises back",
			in:   "docker.io/library/busybox:1.36",
			want: view{
				Domain: "docker.io", Host: "registry-1.docker.io", Path: "library/busybox",
				Name: "docker.io/library/busybox", Tag: "1.36", Identifier: "1.36",
				String: "docker.io/library/busybox:1.36", Familiar: "busybox", FamiliarStr: "busybox:1.36",
				IsDockerHub: true,
			},
		},
		{
			name: "index.docker.io is docker.io",
			in:   "index.docker.io/library/busybox",
			want: view{
				Domain: "docker.io", Host: "registry-1.docker.io", Path: "library/busybox",
				Name: "docker.io/library/busybox", Tag: "latest", Identifier: "latest",
				String: "docker.io/library/busybox:latest", Familiar: "busybox", FamiliarStr: "busybox:latest",
				IsDockerHub: true,
			},
		},
		{
			name: "nested library path stays qualified",
			in:   "library/a/b",
			want: view{
				Domain: "docker.io", Host: "registry-1.docker.io", Path: "library/a/b",
				Name: "docker.io/library/a/b", Tag: "latest", Identifier: "latest",
				String: "docker.io/library/a/b:latest", Familiar: "library/a/b", FamiliarStr: "library/a/b:latest",
				IsDockerHub: true,
			},
		},
		{
			name: "localhost with port is a registry",
			in:   "localhost:5000/x",
			want: view{
				Domain: "localhost:5000", Host: "localhost:5000", Path: "x",
				Name: "localhost:5000/x", Tag: "latest", Identifier: "latest",
				String: "localhost:5000/x:latest", Familiar: "localhost:5000/x", FamiliarStr: "localhost:5000/x:latest",
			},
		},
		{
			name: "bare localhost is a registry",
			in:   "localhost/x",
			want: view{
				Domain: "localhost", Host: "localhost", Path: "x",
				Name: "localhost/x", Tag: "latest", Identifier: "latest",
				String: "localhost/x:latest", Familiar: "localhost/x", FamiliarStr: "localhost/x:latest",
			},
		},
		{
			name: "host with port and digest has no tag",
			in:   "127.0.0.1:5000/a/b@" + testDigest.String(),
			want: view{
				Domain: "127.0.0.1:5000", Host: "127.0.0.1:5000", Path: "a/b",
				Name: "127.0.0.1:5000/a/b", Digest: testDigest, Identifier: testDigest.String(),
				String: "127.0.0.1:5000/a/b@" + testDigest.String(), Familiar: "127.0.0.1:5000/a/b",
				FamiliarStr: "127.0.0.1:5000/a/b@" + testDigest.String(),
			},
		},
		{
			name: "tag and digest: the digest is the identifier",
			in:   "nginx:1.27@" + testDigest.String(),
			want: view{
				Domain: "docker.io", Host: "registry-1.docker.io", Path: "library/nginx",
				Name: "docker.io/library/nginx", Tag: "1.27", Digest: testDigest, Identifier: testDigest.String(),
				String:      "docker.io/library/nginx:1.27@" + testDigest.String(),
				Familiar:    "nginx",
				FamiliarStr: "nginx:1.27@" + testDigest.String(),
				IsDockerHub: true,
			},
		},
		{
			name: "a dotted first component is a domain",
			in:   "ghcr.io/owner/tool:v2",
			want: view{
				Domain: "ghcr.io", Host: "ghcr.io", Path: "owner/tool",
				Name: "ghcr.io/owner/tool", Tag: "v2", Identifier: "v2",
				String: "ghcr.io/owner/tool:v2", Familiar: "ghcr.io/owner/tool", FamiliarStr: "ghcr.io/owner/tool:v2",
			},
		},
		{
			name: "upper case is allowed in the host",
			in:   "Registry.Example.com/app",
			want: view{
				Domain: "Registry.Example.com", Host: "Registry.Example.com", Path: "app",
				Name: "Registry.Example.com/app", Tag: "latest", Identifier: "latest",
				String: "Registry.Example.com/app:latest", Familiar: "Registry.Example.com/app",
				FamiliarStr: "Registry.Example.com/app:latest",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q) = %v, want no error", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, viewOf(r)); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			// The full form is a fixed point: parsing it again gives the same.
			again, err := Parse(r.String())
			if err != nil || again != r {
				t.Errorf("Parse(%q) = %v, %v, want %v", r.String(), again, err, r)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantMsg string
	}{
		{name: "empty", in: "", wantMsg: "invalid reference format"},
		{name: "trailing colon", in: "nginx:", wantMsg: "invalid reference format"},
		{name: "double slash", in: "a//b", wantMsg: "invalid reference format"},
		{name: "space", in: "my image", wantMsg: "invalid reference format"},
		{name: "bad tag character", in: "nginx:a+b", wantMsg: "invalid reference format"},
		{name: "tag too long", in: "nginx:" + string(make129()), wantMsg: "invalid reference format"},
		{name: "short digest", in: "nginx@sha256:abc", wantMsg: "invalid reference format"},
		{name: "unknown digest algorithm", in: "nginx@md5:d41d8cd98f00b204e9800998ecf8427e", wantMsg: "invalid reference format"},
		{name: "leading separator", in: "-nginx", wantMsg: "invalid reference format"},
		{name: "an image ID is not a name", in: "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa", wantMsg: "invalid reference format"},
		{
			name:    "upper case repository keeps Docker's explanation",
			in:      "Nginx",
			wantMsg: "invalid reference format: repository name (library/Nginx) must be lowercase",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.in)
			if !errors.Is(err, ErrInvalidFormat) {
				t.Fatalf("Parse(%q) = %v, %v, want ErrInvalidFormat", tc.in, r, err)
			}
			if err.Error() != tc.wantMsg {
				t.Errorf("Parse(%q) error = %q, want %q", tc.in, err, tc.wantMsg)
			}
		})
	}
}

func make129() []byte {
	b := make([]byte, 129)
	for i := range b {
		b[i] = 'a'
	}
	return b
}
