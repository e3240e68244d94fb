//go:build linux

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// tool runs a real client of the registry (skopeo, umoci) and returns
// its output.
func tool(t *testing.T, name string, args ...string) string {
	t.Helper()
	_, err := exec.LookPath(name)
	testkit.RequireFeature(t, err == nil, name+" (Debian's "+name+"; run scripts/setup.sh)")
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
	return string(out)
}

// TestTagPush: busybox pulled, tagged for Debian's real docker-registry
// and pushed; skopeo reads back the same image ID and the layer digests
// that push printed, and umoci unpacks the image into busybox's files.
// Pushed again, nothing is sent. Through the daemon, the docker CLI's own
// tag and push do the same.
func TestTagPush(t *testing.T) {
	w := newWorld(t)
	reg := testkit.DistributionRegistry(t)
	w.ok("pull", "busybox")
	id := w.inspect("busybox")["Id"].(string)

	target := reg.Host() + "/course/busybox:v1"
	require.Equal(t, "", w.ok("tag", "busybox", target))
	require.Equal(t, id, w.inspect(target)["Id"])

	out := w.ok("push", target)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Equal(t, "The push refers to repository ["+reg.Host()+"/course/busybox]", lines[0])
	require.Regexp(t, `^[0-9a-f]{12}: Preparing$`, lines[1])
	require.Regexp(t, `^[0-9a-f]{12}: Pushed$`, lines[len(lines)-2])
	m := regexp.MustCompile(`^v1: digest: (sha256:[0-9a-f]{64}) size: (\d+)$`).FindStringSubmatch(lines[len(lines)-1])
	require.NotNil(t, m, "last line: %q", lines[len(lines)-1])

	var inspect struct {
		Digest string
		Layers []string
	}
	require.NoError(t, json.Unmarshal([]byte(tool(t, "skopeo", "inspect", "--tls-verify=false", "docker://"+target)), &inspect))
	require.Equal(t, m[1], inspect.Digest, "skopeo sees the digest push printed")
	config := tool(t, "skopeo", "inspect", "--tls-verify=false", "--raw", "--config", "docker://"+target)
	sum := sha256.Sum256([]byte(config))
	require.Equal(t, id, "sha256:"+hex.EncodeToString(sum[:]), "the same image ID in the registry")
	require.Contains(t, w.ok("images", "--digests", reg.Host()+"/course/busybox"), m[1], "the name now has its repository digest")

	layout := filepath.Join(t.TempDir(), "oci")
	tool(t, "skopeo", "copy", "--src-tls-verify=false", "docker://"+target, "oci:"+layout+":v1")
	bundle := filepath.Join(t.TempDir(), "bundle")
	tool(t, "umoci", "unpack", "--image", layout+":v1", bundle)
	fi, err := os.Stat(filepath.Join(bundle, "rootfs", "bin", "busybox"))
	require.NoError(t, err, "umoci unpacked the pushed image")
	require.True(t, fi.Mode().IsRegular())

	again := w.ok("push", target)
	require.NotContains(t, again, ": Pushed\n", "pushed again: %s", again)
	require.Contains(t, again, ": Layer already exists\n")
	require.Contains(t, again, "v1: digest: "+m[1])

	// Docker's errors.
	r := w.md("push", reg.Host()+"/never/tagged")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "Using default tag: latest\nThe push refers to repository ["+reg.Host()+"/never/tagged]\n", r.Stdout)
	require.Equal(t, "Error: An image does not exist locally with the tag: "+reg.Host()+"/never/tagged\n", r.Stderr)
	r = w.md("tag", "nope", "x:1")
	require.Equal(t, "Error: No such image: nope\n", r.Stderr)
	r = w.md("tag", "busybox", "x@"+id)
	require.Equal(t, 1, r.Code)
	require.Contains(t, r.Stderr, "refusing to create a tag with a digest reference")

	t.Run("docker CLI through the daemon", func(t *testing.T) {
		requireDocker(t)
		d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
		other := reg.Host() + "/course/other:v2"
		d.dockerOK("tag", "busybox", other)
		out := d.dockerOK("push", other)
		require.Contains(t, out, "Mounted from course/busybox", "the layer is mounted from the first repository: %s", out)
		require.Contains(t, out, "v2: digest: "+m[1])
		require.Contains(t, tool(t, "skopeo", "inspect", "--tls-verify=false", "docker://"+other), m[1])
	})
}
