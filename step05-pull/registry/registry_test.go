package registry

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"
)

func TestParseChallenge(t *testing.T) {
	tests := []struct {
		name   string
		header []string
		want   challenge
		wantOK bool
	}{
		{
			name:   "docker hub",
			header: []string{`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`},
			want: challenge{scheme: "bearer", params: map[string]string{
				"realm": "https://auth.docker.io/token", "service": "registry.docker.io", "scope": "repository:library/nginx:pull",
			}},
			wantOK: true,
		},
		{
			name:   "insufficient scope, spaces and an escaped quote",
			header: []string{`Bearer realm="https://r.example/token", service="r \"x\"", error="insufficient_scope"`},
			want: challenge{scheme: "bearer", params: map[string]string{
				"realm": "https://r.example/token", "service": `r "x"`, "error": "insufficient_scope",
			}},
			wantOK: true,
		},
		{
			name:   "basic, unquoted",
			header: []string{`Basic realm=registry`},
			want:   challenge{scheme: "basic", params: map[string]string{"realm": "registry"}},
			wantOK: true,
		},
		{
			name:   "first usable of several",
			header: []string{`Negotiate`, `Basic realm="x"`},
			want:   challenge{scheme: "basic", params: map[string]string{"realm": "x"}},
			wantOK: true,
		},
		{name: "none", header: nil},
		{name: "unknown scheme", header: []string{`Digest realm="x"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tc.header {
				h.Add("WWW-Authenticate", v)
			}
			got, ok := parseChallenge(h)
			if ok != tc.wantOK {
				t.Fatalf("parseChallenge(%q) ok = %v, want %v", tc.header, ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(challenge{})); ok && diff != "" {
				t.Errorf("parseChallenge(%q) mismatch (-want +got):\n%s", tc.header, diff)
			}
		})
	}
}

func TestParsePlatform(t *testing.T) {
	tests := []struct {
		in      string
		want    ocispec.Platform
		wantErr bool
	}{
		{in: "linux/amd64", want: ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		{in: "linux/arm/v7", want: ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{in: "Linux/x86_64", want: ocispec.Platform{OS: "linux", Architecture: "amd64"}},
		{in: "linux/aarch64", want: ocispec.Platform{OS: "linux", Architecture: "arm64"}},
		{in: "linux", wantErr: true},
		{in: "linux/", wantErr: true},
		{in: "linux/arm/v7/x", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePlatform(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParsePlatform(%q) = %v, %v, want error %v", tc.in, got, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParsePlatform(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestMatchPlatform(t *testing.T) {
	entry := func(name, os, arch, variant string) ocispec.Descriptor {
		return ocispec.Descriptor{Digest: digest.Digest("sha256:" + name), Platform: &ocispec.Platform{OS: os, Architecture: arch, Variant: variant}}
	}
	index := []ocispec.Descriptor{
		{Digest: "sha256:noplatform"},
		entry("amd64", "linux", "amd64", ""),
		entry("armv6", "linux", "arm", "v6"),
		entry("armv7", "linux", "arm", "v7"),
		entry("arm64", "linux", "arm64", ""),
		entry("att", "unknown", "unknown", ""),
	}
	tests := []struct {
		want   string
		digest string // "" = no match
	}{
		{want: "linux/amd64", digest: "sha256:amd64"},
		{want: "linux/arm64", digest: "sha256:arm64"},
		{want: "linux/arm64/v8", digest: "sha256:arm64"},
		{want: "linux/arm/v7", digest: "sha256:armv7"},
		{want: "linux/arm", digest: "sha256:armv6"},
		{want: "linux/arm/v5"},
		{want: "linux/s390x"},
		{want: "windows/amd64"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			p, err := ParsePlatform(tc.want)
			require.NoError(t, err)
			got, ok := matchPlatform(p, index)
			if ok != (tc.digest != "") || string(got.Digest) != tc.digest {
				t.Errorf("matchPlatform(%s) = %s, %v, want %q", tc.want, got.Digest, ok, tc.digest)
			}
		})
	}
}

func TestNormaliseHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://index.docker.io/v1/": "docker.io",
		"docker.io":                   "docker.io",
		"registry-1.docker.io":        "docker.io",
		"index.docker.io":             "docker.io",
		"localhost:5000":              "localhost:5000",
		"http://LocalHost:5000/":      "localhost:5000",
		"ghcr.io":                     "ghcr.io",
	} {
		if got := normaliseHost(in); got != want {
			t.Errorf("normaliseHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadDockerConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	require.NoError(t, os.WriteFile(path, []byte(`{
		"auths": {
			"https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="},
			"localhost:5000": {"username": "u", "password": "p:with:colons"},
			"ghcr.io": {"auth": "Z2g6dG9rOmVu"},
			"empty.example": {}
		},
		"credsStore": "desktop"
	}`), 0o600))
	got, err := loadDockerConfig(path)
	require.NoError(t, err)
	want := map[string]credential{
		"docker.io":      {username: "hub", password: "hubpass"},
		"localhost:5000": {username: "u", password: "p:with:colons"},
		"ghcr.io":        {username: "gh", password: "tok:en"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(credential{})); diff != "" {
		t.Errorf("loadDockerConfig mismatch (-want +got):\n%s", diff)
	}

	missing, err := loadDockerConfig(filepath.Join(dir, "nope.json"))
	if err != nil || missing != nil {
		t.Errorf("loadDockerConfig(missing) = %v, %v, want nothing and no error", missing, err)
	}
	require.NoError(t, os.WriteFile(path, []byte(`{"auths": {"x": {"auth": "bm9jb2xvbg=="}}}`), 0o600)) // "nocolon"
	if _, err := loadDockerConfig(path); err == nil {
		t.Errorf("loadDockerConfig(auth without a colon) succeeded, want an error")
	}
}

func TestCheckScheme(t *testing.T) {
	c, err := New(WithDockerConfig(""), WithInsecure("insecure.example:5000", "10.1.2.3"), WithMirror("http://mirror.example:5001"))
	require.NoError(t, err)
	tests := []struct {
		url    string
		wantOK bool
	}{
		{url: "https://registry.example/v2/", wantOK: true},
		{url: "http://registry.example/v2/"},
		{url: "http://localhost/v2/", wantOK: true},
		{url: "http://localhost:5000/v2/", wantOK: true},
		{url: "http://127.0.0.1:5000/v2/", wantOK: true},
		{url: "http://127.9.9.9/v2/", wantOK: true},
		{url: "http://[::1]:5000/v2/", wantOK: true},
		{url: "http://insecure.example:5000/v2/", wantOK: true},
		{url: "http://insecure.example:5001/v2/"},
		{url: "http://10.1.2.3:5000/v2/", wantOK: true},
		{url: "http://10.1.2.4/v2/"},
		{url: "http://mirror.example:5001/v2/", wantOK: true},
		{url: "ftp://registry.example/v2/"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			require.NoError(t, err)
			err = c.checkScheme(u)
			if (err == nil) != tc.wantOK {
				t.Errorf("checkScheme(%s) = %v, want ok %v", tc.url, err, tc.wantOK)
			}
			if err != nil && u.Scheme == "http" && !errors.Is(err, ErrInsecure) {
				t.Errorf("checkScheme(%s) = %v, want ErrInsecure", tc.url, err)
			}
		})
	}
}

func TestResponseError(t *testing.T) {
	tests := []struct {
		name    string
		err     *ResponseError
		wantMsg string
		wantIs  error
	}{
		{
			name:    "manifest unknown",
			err:     &ResponseError{StatusCode: 404, Errors: []ErrorCode{{Code: "MANIFEST_UNKNOWN", Message: "manifest unknown"}}},
			wantMsg: "manifest unknown: manifest unknown", wantIs: ErrNotFound,
		},
		{
			name:    "rate limit",
			err:     &ResponseError{StatusCode: 429, Errors: []ErrorCode{{Code: "TOOMANYREQUESTS", Message: "slow down"}}},
			wantMsg: "toomanyrequests: slow down", wantIs: ErrTooManyRequests,
		},
		{
			name:    "no body",
			err:     &ResponseError{Method: "GET", URL: "https://r.example/v2/", StatusCode: 403},
			wantMsg: "GET https://r.example/v2/: unexpected status 403 Forbidden", wantIs: ErrAccessDenied,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err.Error() != tc.wantMsg {
				t.Errorf("Error() = %q, want %q", tc.err.Error(), tc.wantMsg)
			}
			if !errors.Is(tc.err, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", tc.err, tc.wantIs)
			}
			for _, other := range []error{ErrNotFound, ErrTooManyRequests, ErrAccessDenied} {
				if other != tc.wantIs && errors.Is(tc.err, other) {
					t.Errorf("errors.Is(%v, %v) = true", tc.err, other)
				}
			}
		})
	}
}
