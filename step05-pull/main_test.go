package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

func TestCLI(t *testing.T) {
	testkit.RequireRoot(t)
	bin := testkit.Build(t, "minidocker/step05-pull")
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true})
	reg.Push(t, "library/busybox:latest", testkit.BusyboxImage(t))
	reg.Push(t, "library/httpd:latest", testkit.HTTPDImage(t))
	env := []string{"MINIDOCKER_ROOT=" + testkit.DataRoot(t, "step05"), "MINIDOCKER_REGISTRY_MIRROR=" + reg.URL()}
	run := func(args ...string) testkit.Result { return testkit.Run(t, bin, env, args...) }

	// Through the mirror, with a token as on Docker Hub, the exchange traced.
	r := run("pull", "--trace", "busybox")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Regexp(t, `(?s)^latest: Pulling from library/busybox\n[0-9a-f]{12}: Pulling fs layer\n.*: Pull complete\nDigest: sha256:[0-9a-f]{64}\nStatus: Downloaded newer image for busybox:latest\n$`, r.Stdout)
	t.Logf("the HTTP exchange of a pull (the README shows it):\n%s", r.Stderr)
	for _, want := range []string{"> GET " + reg.URL() + "/v2/\n< 401 Unauthorized\n", "< Www-Authenticate: Bearer realm=", "> GET " + reg.URL() + "/token?", "> Authorization: Bearer <redacted>", "/v2/library/busybox/manifests/latest"} {
		require.Contains(t, r.Stderr, want)
	}

	r = run("pull", "httpd")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Regexp(t, `[0-9a-f]{12}: Already exists\n`, r.Stdout, "busybox's layer is shared")

	r = run("images")
	require.Regexp(t, `^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n(busybox|httpd)\s+latest\s+[0-9a-f]{12}\s+.* ago\s+\S+B\n(busybox|httpd)\s+latest`, r.Stdout)
	require.Len(t, strings.Fields(run("images", "-q").Stdout), 2)

	r = run("run", "--stats", "-m", "64m", "httpd", "sh", "-c", "ls /usr/local/apache2/htdocs; echo $PATH")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "index.html\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n", r.Stdout)
	require.Regexp(t, `memory peak .* \(cgroup v`, r.Stderr)

	r = run("rmi", "httpd")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Regexp(t, `^Untagged: httpd:latest\nUntagged: httpd@sha256:[0-9a-f]{64}\nDeleted: sha256:[0-9a-f]{64}\nDeleted: sha256:[0-9a-f]{64}\n$`, r.Stdout, "its own layer only")

	// run pulls what is missing.
	r = run("run", "httpd", "cat", "/usr/local/apache2/htdocs/index.html")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Contains(t, r.Stdout, "It works!")
	require.True(t, strings.HasPrefix(r.Stderr, "Unable to find image 'httpd' locally\nlatest: Pulling from library/httpd\n"), r.Stderr)

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pull", "Busybox"}, 1, "step05-pull: invalid reference format: repository name (library/Busybox) must be lowercase\n"},
		// (on our registry: a docker.io name missing on the mirror would be
		// tried on Docker Hub next, as Docker does, and tests stay on 127.0.0.1)
		{[]string{"pull", reg.Host() + "/nothere"}, 1, "repository " + reg.Host() + "/nothere not found"},
		{[]string{"rmi", "nothere"}, 1, "Error response from daemon: No such image: nothere\n"},
		{[]string{"run", "busybox", "no-such-command"}, 127, "executable file not found"},
		{[]string{"frobnicate"}, 125, "step05-pull: the commands are pull, images, rmi, run\n"},
	} {
		r := run(tc.args...)
		require.Equal(t, tc.code, r.Code, "%v: %s", tc.args, r.Stderr)
		require.Regexp(t, regexp.QuoteMeta(tc.want), r.Stderr, "%v", tc.args)
	}
}
