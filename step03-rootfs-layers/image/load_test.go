package image_test

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step03-rootfs-layers/image"
)

func testImage(t *testing.T) v1.Image {
	cfg := v1.Config{Env: []string{"PATH=/bin", "GREETING=hi"}, Cmd: []string{"sh"}, WorkingDir: "/srv",
		User: "nobody", StopSignal: "SIGQUIT", ExposedPorts: map[string]struct{}{"80/tcp": {}}}
	return testkit.Image(t, cfg,
		testkit.Layer(t, testkit.File("a.txt", "first\n", 0o644)),
		testkit.Layer(t, testkit.File("b.txt", "second\n", 0o644), testkit.Whiteout("a.txt")))
}

// check compares what Load read with the image that was written.
func check(t *testing.T, want v1.Image, got *image.Image) {
	t.Helper()
	wantCfg, err := want.ConfigFile()
	require.NoError(t, err)
	wantDigest, err := want.ConfigName()
	require.NoError(t, err)
	if got.ConfigDigest.String() != wantDigest.String() {
		t.Errorf("ConfigDigest = %s, want %s", got.ConfigDigest, wantDigest)
	}
	c := got.Config.Config
	if diff := cmp.Diff([]string{wantCfg.Config.Env[0], wantCfg.Config.Env[1], wantCfg.Config.Cmd[0], wantCfg.Config.WorkingDir, wantCfg.Config.User, wantCfg.Config.StopSignal},
		[]string{c.Env[0], c.Env[1], c.Cmd[0], c.WorkingDir, c.User, c.StopSignal}); diff != "" {
		t.Errorf("config mismatch (-want +got):\n%s", diff)
	}
	if _, ok := c.ExposedPorts["80/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v, want 80/tcp", c.ExposedPorts)
	}
	layers, err := want.Layers()
	require.NoError(t, err)
	require.Len(t, got.Layers, len(layers))
	for i, l := range layers {
		diffID, err := l.DiffID()
		require.NoError(t, err)
		if got.Layers[i].DiffID.String() != diffID.String() {
			t.Errorf("layer %d diffID = %s, want %s", i, got.Layers[i].DiffID, diffID)
		}
		r, err := got.Layers[i].Open()
		require.NoError(t, err)
		gotBytes, err := io.ReadAll(r)
		r.Close()
		require.NoError(t, err, "read layer %d (verified against its digest)", i)
		wr, err := l.Compressed()
		require.NoError(t, err)
		wantBytes, _ := io.ReadAll(wr)
		if string(gotBytes) != string(wantBytes) {
			t.Errorf("layer %d bytes differ", i)
		}
	}
}

func TestLoad(t *testing.T) {
	img := testImage(t)
	dir := t.TempDir()
	ociDir := filepath.Join(dir, "oci")
	testkit.WriteOCILayout(t, ociDir, "test:1", testkit.OCIImage(t, img))
	archive := filepath.Join(dir, "docker.tar")
	testkit.WriteDockerArchive(t, archive, "example.com/test:1", img)

	tests := []struct {
		name, path string
		want       v1.Image
		wantTag    string
	}{
		{"OCI layout directory", ociDir, testkit.OCIImage(t, img), "test:1"},
		{"docker save archive", archive, img, "example.com/test:1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := image.Load(tc.path)
			require.NoError(t, err)
			check(t, tc.want, got)
			if len(got.RepoTags) != 1 || got.RepoTags[0] != tc.wantTag {
				t.Errorf("RepoTags = %v, want [%s]", got.RepoTags, tc.wantTag)
			}
		})
	}
}

// TestLoadSkopeo loads archives written by a real tool: skopeo copies our
// OCI layout to an oci-archive tar and to a docker-archive.
func TestLoadSkopeo(t *testing.T) {
	_, err := exec.LookPath("skopeo")
	testkit.RequireFeature(t, err == nil, "skopeo (Debian's skopeo; run scripts/setup.sh)")
	img := testkit.OCIImage(t, testImage(t))
	dir := t.TempDir()
	testkit.WriteOCILayout(t, filepath.Join(dir, "oci"), "test:1", img)
	for _, dest := range []string{"oci-archive:" + filepath.Join(dir, "oci.tar") + ":test:1", "docker-archive:" + filepath.Join(dir, "docker.tar") + ":test:1"} {
		out, err := exec.Command("skopeo", "--insecure-policy", "copy", "oci:"+filepath.Join(dir, "oci")+":test:1", dest).CombinedOutput()
		require.NoError(t, err, "skopeo copy to %s: %s", dest, out)
	}
	for _, p := range []string{"oci.tar", "docker.tar"} {
		t.Run(p, func(t *testing.T) {
			got, err := image.Load(filepath.Join(dir, p))
			require.NoError(t, err)
			require.Len(t, got.Layers, 2)
			wantCfg, _ := img.ConfigFile()
			for i := range got.Layers {
				r, err := got.Layers[i].Open()
				require.NoError(t, err)
				_, err = io.Copy(io.Discard, r)
				r.Close()
				require.NoError(t, err)
				if got.Layers[i].DiffID.String() != wantCfg.RootFS.DiffIDs[i].String() {
					t.Errorf("layer %d diffID %s, want %s", i, got.Layers[i].DiffID, wantCfg.RootFS.DiffIDs[i])
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	garbled := filepath.Join(dir, "garbled")
	require.NoError(t, os.Mkdir(garbled, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(garbled, "manifest.json"), []byte("{not json"), 0o644))

	// A layout whose layer blob was tampered with after it was written.
	tampered := filepath.Join(dir, "tampered")
	img := testkit.OCIImage(t, testImage(t))
	testkit.WriteOCILayout(t, tampered, "t:1", img)
	layers, _ := img.Layers()
	d, _ := layers[0].Digest()
	require.NoError(t, os.WriteFile(filepath.Join(tampered, "blobs", "sha256", d.Hex), []byte("evil"), 0o644))

	for _, tc := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope"), "no such file or directory"},
		{"no manifest", empty, "neither a docker save archive (manifest.json) nor an OCI image layout (index.json)"},
		{"garbled manifest", garbled, "manifest.json: invalid character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := image.Load(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load(%s) error = %v, want %q", tc.name, err, tc.want)
			}
		})
	}
	t.Run("tampered layer", func(t *testing.T) {
		got, err := image.Load(tampered)
		require.NoError(t, err)
		r, err := got.Layers[0].Open()
		require.NoError(t, err)
		defer r.Close()
		if _, err := io.Copy(io.Discard, r); err == nil || !strings.Contains(err.Error(), "digest mismatch") {
			t.Errorf("reading a tampered layer: error %v, want a digest mismatch", err)
		}
	})
}
