package registry_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

func TestMirror(t *testing.T) {
	tests := []struct {
		name       string
		inMirror   bool // the mirror has the image
		mirrorDown bool
		wantHub    bool // Docker Hub is asked for the manifest
	}{
		{name: "mirror has the image", inMirror: true, wantHub: false},
		{name: "mirror lacks the image", inMirror: false, wantHub: true},
		{name: "mirror is down", mirrorDown: true, wantHub: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hub := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true})
			mirror := testkit.NewRegistry(t, testkit.RegistryOptions{})
			want := dockerImage(t, 2048, 2)
			hub.Push(t, "library/busybox:latest", want)
			if tc.inMirror {
				mirror.Push(t, "library/busybox:latest", want)
			}
			mirrorURL := mirror.URL()
			if tc.mirrorDown {
				mirrorURL = "http://127.0.0.1:1" // nothing listens on port 1
			}
			// registry-1.docker.io is served by the fake hub: no internet.
			rt := &hostMap{hosts: map[string]string{reference.DockerHubHost: hub.Host()}, plainHTTP: true}
			c := newClient(t, registry.WithTransport(rt), registry.WithMirror(mirrorURL))
			var got received
			img, err := c.Pull(context.Background(), mustParse(t, "busybox"), got.sink())
			require.NoError(t, err, "pull busybox")
			checkPulled(t, img, &got, want)

			reqs := rt.requests()
			if !strings.HasPrefix(reqs[0], mirrorURL) {
				t.Errorf("first request = %s, want one to the mirror %s", reqs[0], mirrorURL)
			}
			hubManifests := countRequests(hub.Requests(), "/manifests/")
			if (hubManifests > 0) != tc.wantHub {
				t.Errorf("Docker Hub got %d manifest requests, want asked = %v\nrequests: %v", hubManifests, tc.wantHub, reqs)
			}
			for _, r := range reqs {
				if strings.Contains(r, "://docker.io") || strings.Contains(r, "index.docker.io") {
					t.Errorf("request to %s: the API of docker.io is at %s", r, reference.DockerHubHost)
				}
			}
		})
	}
	t.Run("only docker.io images use the mirror", func(t *testing.T) {
		reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
		mirror := testkit.NewRegistry(t, testkit.RegistryOptions{})
		reg.Push(t, "app:1.0", dockerImage(t, 1024, 1))
		c := newClient(t, registry.WithMirror(mirror.URL()))
		_, err := c.Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), registry.Sink{})
		require.NoError(t, err)
		if n := len(mirror.Requests()); n != 0 {
			t.Errorf("the mirror got %d requests for an image of another registry, want 0", n)
		}
	})
}

func TestRedirectDoesNotLeakAuthorization(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true})
	want := dockerImage(t, 2048, 2)
	reg.Push(t, "app:1.0", want)
	cdn := reg.StartCDN(t) // same host name 127.0.0.1, another port
	pushed := len(reg.Requests())
	var got received
	img, err := newClient(t).Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), got.sink())
	require.NoError(t, err, "pull through the CDN")
	checkPulled(t, img, &got, want)

	cdnReqs := cdn.Requests()
	if len(cdnReqs) != 3 { // config + 2 layers
		t.Errorf("CDN got %d requests, want 3: %+v", len(cdnReqs), cdnReqs)
	}
	for _, r := range cdnReqs {
		if r.Authorization != "" {
			t.Errorf("CDN request %s carried Authorization: %s", r.Path, r.Authorization)
		}
	}
	var blobAuth []string
	for _, r := range reg.Requests()[pushed:] {
		if strings.Contains(r.Path, "/blobs/") {
			blobAuth = append(blobAuth, r.Authorization)
		}
	}
	if diff := cmp.Diff([]string{"Bearer", "Bearer", "Bearer"}, blobAuth); diff != "" {
		t.Errorf("the registry's blob requests must carry the token (-want +got):\n%s", diff)
	}
}

func TestPlainHTTPRefused(t *testing.T) {
	t.Run("redirect to a plain-HTTP host", func(t *testing.T) {
		reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
		reg.Push(t, "app:1.0", dockerImage(t, 1024, 1))
		reg.RedirectBlobs("http://blobs.example.com")
		rt := &hostMap{}
		_, err := newClient(t, registry.WithTransport(rt)).Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), registry.Sink{})
		if !errors.Is(err, registry.ErrInsecure) || !strings.Contains(err.Error(), "http://blobs.example.com/v2/app/blobs/sha256:") {
			t.Errorf("Pull = %v, want ErrInsecure naming the URL", err)
		}
		for _, r := range rt.requests() {
			if strings.Contains(r, "example.com") {
				t.Errorf("request sent to %s", r)
			}
		}
	})
	t.Run("remote host: HTTPS only, no HTTP fallback", func(t *testing.T) {
		reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
		reg.Push(t, "app:1.0", dockerImage(t, 1024, 1))
		// registry.example.com:5000 reaches the plain-HTTP test registry:
		// HTTPS fails there and a secure host must not fall back.
		rt := &hostMap{hosts: map[string]string{"registry.example.com:5000": reg.Host()}}
		_, err := newClient(t, registry.WithTransport(rt)).Pull(context.Background(), mustParse(t, "registry.example.com:5000/app:1.0"), registry.Sink{})
		if err == nil || !strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
			t.Errorf("Pull = %v, want the TLS failure", err)
		}
		if diff := cmp.Diff([]string{"https://registry.example.com:5000/v2/"}, rt.requests()); diff != "" {
			t.Errorf("requests mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("insecure host falls back to HTTP", func(t *testing.T) {
		reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true})
		want := dockerImage(t, 1024, 1)
		reg.Push(t, "app:1.0", want)
		rt := &hostMap{hosts: map[string]string{"registry.example.com:5000": reg.Host()}}
		c := newClient(t, registry.WithTransport(rt), registry.WithInsecure("registry.example.com:5000"))
		var got received
		img, err := c.Pull(context.Background(), mustParse(t, "registry.example.com:5000/app:1.0"), got.sink())
		require.NoError(t, err, "pull from an insecure registry")
		checkPulled(t, img, &got, want)
		reqs := rt.requests()
		if reqs[0] != "https://registry.example.com:5000/v2/" || reqs[1] != "http://registry.example.com:5000/v2/" {
			t.Errorf("requests = %v, want HTTPS then HTTP for /v2/", reqs)
		}
	})
}

func TestTrace(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true, Username: "alice", Password: "s3cret"})
	reg.Push(t, "app:1.0", dockerImage(t, 1024, 1))
	var trace bytes.Buffer
	c := newClient(t, registry.WithTrace(&trace), registry.WithAuth(reg.Host(), "alice", "s3cret"))
	_, err := c.Pull(context.Background(), mustParse(t, reg.Host()+"/app:1.0"), registry.Sink{})
	require.NoError(t, err, "pull")
	out := trace.String()
	host := reg.Host()
	for _, want := range []string{
		"> GET https://" + host + "/v2/\n< error: tls: first record does not look like a TLS handshake\n",
		"> GET http://" + host + "/v2/\n< 401 Unauthorized\n< Www-Authenticate: Bearer realm=\"http://" + host + "/token\",service=\"" + testkit.RegistryService + "\"\n",
		"> GET http://" + host + "/token?scope=repository%3Aapp%3Apull&service=" + testkit.RegistryService + "\n> Authorization: Basic <redacted>\n< 200 OK\n",
		"> GET http://" + host + "/v2/app/manifests/1.0\n> Authorization: Bearer <redacted>\n> Accept: " + registry.AcceptManifests + "\n< 200 OK\n< Docker-Content-Digest: sha256:",
		"< Content-Type: application/vnd.docker.distribution.manifest.v2+json\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q\ntrace:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") || regexp.MustCompile(`Bearer [0-9a-f]{8}`).MatchString(out) {
		t.Errorf("trace shows a secret:\n%s", out)
	}
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name string
		opt  registry.Option
	}{
		{name: "platform without arch", opt: registry.WithPlatform("linux")},
		{name: "platform with empty variant", opt: registry.WithPlatform("linux/arm/")},
		{name: "zero concurrency", opt: registry.WithConcurrency(0)},
		{name: "zero attempts", opt: registry.WithRetry(0, 0)},
		{name: "mirror without scheme", opt: registry.WithMirror("mirror.example")},
		{name: "mirror with a path", opt: registry.WithMirror("https://mirror.example/v2/")},
		{name: "nil transport", opt: registry.WithTransport(nil)},
		{name: "insecure URL", opt: registry.WithInsecure("http://x")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := registry.New(tc.opt); err == nil {
				t.Errorf("New(%s) succeeded, want an error", tc.name)
			}
		})
	}
	_, err := registry.New(registry.WithDockerConfig(""), registry.WithPlatform("linux/arm64/v8"), registry.WithMirror("https://mirror.gcr.io"),
		registry.WithInsecure("10.0.0.2:5000"), registry.WithConcurrency(8), registry.WithTransport(http.DefaultTransport))
	require.NoError(t, err, "valid options")
}
