package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/imagebuild"
	"minidocker/internal/testkit"
)

// run runs the step's binary with root as its data directory.
func run(t *testing.T, bin, root string, args ...string) testkit.Result {
	t.Helper()
	return testkit.Run(t, bin, []string{"MINIDOCKER_ROOT=" + root}, args...)
}

func TestRunImages(t *testing.T) {
	testkit.RequireRoot(t)
	bin := testkit.Build(t, "minidocker/step03-rootfs-layers")
	root := testkit.DataRoot(t, "step03")
	dir := t.TempDir()

	cfg := imagebuild.BusyboxConfig()
	cfg.Env = append(cfg.Env, "FROM_IMAGE=yes")
	cfg.WorkingDir = "/srv"
	cfg.Cmd = []string{"sh", "-c", "echo default command in $(pwd) as $(id -un)"}
	cfg.User = "nobody"
	img := testkit.Image(t, cfg, testkit.BusyboxLayer(t),
		testkit.Layer(t, testkit.Dir("srv", 0o777), testkit.File("srv/page", "second layer\n", 0o644)))

	oci := filepath.Join(dir, "oci")
	testkit.WriteOCILayout(t, oci, "test:1", testkit.OCIImage(t, img))
	archive := filepath.Join(dir, "busybox.tar")
	testkit.WriteDockerArchive(t, archive, "busybox:latest", img)
	paths := map[string]string{"OCI layout": oci, "docker save archive": archive}
	if _, err := exec.LookPath("skopeo"); err == nil || testkit.Strict() {
		skopeo := filepath.Join(dir, "skopeo.tar")
		out, err := exec.Command("skopeo", "--insecure-policy", "copy", "oci:"+oci+":test:1", "oci-archive:"+skopeo+":test:1").CombinedOutput()
		require.NoError(t, err, "skopeo: %s", out)
		paths["oci-archive written by skopeo"] = skopeo
	}
	for name, p := range paths {
		t.Run(name, func(t *testing.T) {
			r := run(t, bin, root, "run", "--image", p)
			require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
			require.Equal(t, "default command in /srv as nobody\n", r.Stdout)

			r = run(t, bin, root, "run", "--image", p, "-e", "EXTRA=1", "--user", "root", "-w", "/", "--",
				"sh", "-c", `echo $FROM_IMAGE $EXTRA $PATH; pwd; id -u; cat /srv/page; hostname | wc -c`)
			require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
			require.Equal(t, "yes 1 /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/\n0\nsecond layer\n13\n", r.Stdout)
		})
	}

	t.Run("writes stay in the container", func(t *testing.T) {
		r := run(t, bin, root, "run", "--image", archive, "--user", "root", "--", "sh", "-c", "echo changed > /srv/page; rm /bin/ls; cat /srv/page")
		require.Equal(t, "changed\n", r.Stdout, "stderr: %s", r.Stderr)
		r = run(t, bin, root, "run", "--image", archive, "--", "sh", "-c", "cat /srv/page; test -e /bin/ls && echo ls-present")
		require.Equal(t, "second layer\nls-present\n", r.Stdout, "a second container saw the first one's writes (stderr: %s)", r.Stderr)
		entries, err := os.ReadDir(filepath.Join(root, "containers"))
		require.NoError(t, err)
		require.Empty(t, entries, "container directories were left behind")
	})

	t.Run("volumes", func(t *testing.T) {
		vol := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(vol, "index.html"), []byte("hello\n"), 0o644))
		r := run(t, bin, root, "run", "--image", archive, "--user", "root", "-v", vol+":/usr/local/apache2/htdocs", "--",
			"sh", "-c", "cat /usr/local/apache2/htdocs/index.html; echo written > /usr/local/apache2/htdocs/new")
		require.Equal(t, "hello\n", r.Stdout, "stderr: %s", r.Stderr)
		got, err := os.ReadFile(filepath.Join(vol, "new"))
		require.NoError(t, err)
		require.Equal(t, "written\n", string(got))

		r = run(t, bin, root, "run", "--image", archive, "--user", "root", "-v", vol+":/data:ro", "--",
			"sh", "-c", "echo x > /data/other")
		require.NotEqual(t, 0, r.Code, "a write to a :ro volume succeeded")
		require.Contains(t, r.Stderr, "Read-only file system")
	})

	errorCases := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"missing volume source", []string{"run", "--image", archive, "-v", "/nonexistent/mdk:/data", "--", "true"}, 125,
			"step03-rootfs-layers: init: rootfs: volume /nonexistent/mdk:/data: bind source path does not exist: /nonexistent/mdk\n"},
		{"bad -v", []string{"run", "--image", archive, "-v", "relative:/data", "--", "true"}, 125,
			"step03-rootfs-layers: -v relative: named volumes are final's (minidocker volume); this step takes a host path, /abs/dir:/data\n"},
		{"no --image", []string{"run", "--", "true"}, 125, "step03-rootfs-layers: \"--image\" is required\n"},
		{"not an image", []string{"run", "--image", dir, "--", "true"}, 125,
			"step03-rootfs-layers: load image " + dir + ": neither a docker save archive (manifest.json) nor an OCI image layout (index.json)\n"},
		{"command not in the image", []string{"run", "--image", archive, "--", "bash"}, 127,
			"step03-rootfs-layers: exec \"bash\": executable file not found in $PATH\n"},
		{"unknown user", []string{"run", "--image", archive, "--user", "alice", "--", "true"}, 125,
			"step03-rootfs-layers: init: user \"alice\": unable to find user alice: no matching entries in passwd file\n"},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, bin, root, tc.args...)
			if r.Code != tc.code || r.Stderr != tc.stderr {
				t.Errorf("exit %d, stderr %q; want %d, %q", r.Code, r.Stderr, tc.code, tc.stderr)
			}
		})
	}
}
