package testkit

import (
	"archive/tar"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/require"
)

// entry is what a test checks of one tar entry.
type entry struct {
	Name     string
	Type     byte
	Mode     int64
	Linkname string
	Content  string
}

// readLayer lists the entries of a layer's uncompressed tar.
func readLayer(t *testing.T, l v1.Layer) []entry {
	t.Helper()
	rc, err := l.Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	var out []entry
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		out = append(out, entry{hdr.Name, hdr.Typeflag, hdr.Mode, hdr.Linkname, string(data)})
	}
}

func TestLayer(t *testing.T) {
	l := Layer(t,
		Dir("etc", 0o755),
		File("etc/passwd", "root\n", 0o644),
		Symlink("etc/motd", "/usr/share/motd"),
		Hardlink("etc/passwd-", "etc/passwd"),
		Whiteout("etc/shadow"),
		Whiteout("top"),
		Opaque("var/cache"),
		Header(&tar.Header{Typeflag: tar.TypeReg, Name: "../escape", Mode: 0o600}, "x"),
	)
	want := []entry{
		{"etc/", tar.TypeDir, 0o755, "", ""},
		{"etc/passwd", tar.TypeReg, 0o644, "", "root\n"},
		{"etc/motd", tar.TypeSymlink, 0o777, "/usr/share/motd", ""},
		{"etc/passwd-", tar.TypeLink, 0, "etc/passwd", ""},
		{"etc/.wh.shadow", tar.TypeReg, 0o644, "", ""},
		{".wh.top", tar.TypeReg, 0o644, "", ""},
		{"var/cache/.wh..wh..opq", tar.TypeReg, 0o644, "", ""},
		{"../escape", tar.TypeReg, 0o600, "", "x"}, // Header keeps hostile names as they are
	}
	if diff := cmp.Diff(want, readLayer(t, l)); diff != "" {
		t.Errorf("layer entries mismatch (-want +got):\n%s", diff)
	}
	mt, err := l.MediaType()
	require.NoError(t, err)
	require.Equal(t, types.DockerLayer, mt)
	// Reproducible: the same entries make the same layer.
	d1, err := l.Digest()
	require.NoError(t, err)
	d2, err := Layer(t, Dir("etc", 0o755), File("etc/passwd", "root\n", 0o644), Symlink("etc/motd", "/usr/share/motd"),
		Hardlink("etc/passwd-", "etc/passwd"), Whiteout("etc/shadow"), Whiteout("top"), Opaque("var/cache"),
		Header(&tar.Header{Typeflag: tar.TypeReg, Name: "../escape", Mode: 0o600}, "x")).Digest()
	require.NoError(t, err)
	require.Equal(t, d1, d2, "the same entries gave two layer digests")
}

func TestImage(t *testing.T) {
	cfg := v1.Config{Env: []string{"A=1"}, Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", "true"}, WorkingDir: "/w",
		User: "nobody", ExposedPorts: map[string]struct{}{"80/tcp": {}}}
	layers := []v1.Layer{Layer(t, File("a", "a", 0o644)), Layer(t, File("b", "b", 0o644))}
	tests := []struct {
		name                string
		img                 v1.Image
		manifest, layerType types.MediaType
	}{
		{"docker", Image(t, cfg, layers...), types.DockerManifestSchema2, types.DockerLayer},
		{"oci", OCIImage(t, Image(t, cfg, layers...)), types.OCIManifestSchema1, types.OCILayer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cf, err := tc.img.ConfigFile()
			require.NoError(t, err)
			if diff := cmp.Diff(cfg, cf.Config); diff != "" {
				t.Errorf("config mismatch (-want +got):\n%s", diff)
			}
			require.Equal(t, "linux", cf.OS)
			require.Equal(t, runtime.GOARCH, cf.Architecture)
			mt, err := tc.img.MediaType()
			require.NoError(t, err)
			require.Equal(t, tc.manifest, mt)
			got, err := tc.img.Layers()
			require.NoError(t, err)
			require.Len(t, got, 2)
			for i, l := range got {
				mt, err := l.MediaType()
				require.NoError(t, err)
				require.Equal(t, tc.layerType, mt)
				want, err := layers[i].DiffID()
				require.NoError(t, err)
				diffID, err := l.DiffID()
				require.NoError(t, err)
				require.Equal(t, want, diffID, "layer %d", i)
				require.Equal(t, want, cf.RootFS.DiffIDs[i], "config diffID %d", i)
			}
		})
	}
}

func TestBusyboxLayer(t *testing.T) {
	bin, err := os.ReadFile("/bin/busybox")
	RequireFeature(t, err == nil, "/bin/busybox (Debian's busybox-static; run scripts/setup.sh)")
	entries := readLayer(t, BusyboxLayer(t))
	byName := map[string]entry{}
	for _, e := range entries {
		byName[e.Name] = e
	}
	want := []entry{
		{"bin/busybox", tar.TypeReg, 0o755, "", string(bin)},
		{"bin/sh", tar.TypeSymlink, 0o777, "busybox", ""},
		{"bin/httpd", tar.TypeSymlink, 0o777, "busybox", ""},
		{"tmp/", tar.TypeDir, 0o1777, "", ""},
	}
	for _, w := range want {
		if diff := cmp.Diff(w, byName[w.Name]); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", w.Name, diff)
		}
	}
	for file, lines := range map[string][]string{
		"etc/passwd": {"root:x:0:0:", "nobody:x:65534:65534:"},
		"etc/group":  {"root:x:0:", ":x:65534:"},
	} {
		for _, line := range lines {
			if !strings.Contains(byName[file].Content, line) {
				t.Errorf("%s = %q, want a line with %q", file, byName[file].Content, line)
			}
		}
	}
	// One symlink per applet that busybox --list names.
	list, err := exec.Command("/bin/busybox", "--list").Output()
	require.NoError(t, err)
	for _, applet := range strings.Fields(string(list)) {
		if e, ok := byName["bin/"+applet]; applet != "busybox" && (!ok || e.Linkname != "busybox") {
			t.Errorf("no bin/%s -> busybox", applet)
		}
	}
}

func TestHTTPDImage(t *testing.T) {
	_, err := os.Stat("/bin/busybox")
	RequireFeature(t, err == nil, "/bin/busybox (Debian's busybox-static; run scripts/setup.sh)")
	cf, err := HTTPDImage(t).ConfigFile()
	require.NoError(t, err)
	require.Equal(t, []string{"httpd-foreground"}, []string(cf.Config.Cmd))
	require.Contains(t, cf.Config.ExposedPorts, "80/tcp")
	require.Len(t, cf.RootFS.DiffIDs, 2)
}

// TestWrite writes an image in both formats and reads it back with
// go-containerregistry's readers and, when installed, with skopeo.
func TestWrite(t *testing.T) {
	img := Image(t, v1.Config{Cmd: []string{"sh"}}, Layer(t, File("a", "a", 0o644)))
	oci := OCIImage(t, img)
	dir := t.TempDir()

	ociDir := filepath.Join(dir, "oci")
	WriteOCILayout(t, ociDir, "test:1", oci)
	idx, err := layout.ImageIndexFromPath(ociDir)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, 1)
	require.Equal(t, "test:1", im.Manifests[0].Annotations["org.opencontainers.image.ref.name"])
	wantDigest, err := oci.Digest()
	require.NoError(t, err)
	require.Equal(t, wantDigest, im.Manifests[0].Digest)

	archive := filepath.Join(dir, "docker.tar")
	WriteDockerArchive(t, archive, "example.com/test:1", img)
	tag, err := name.NewTag("example.com/test:1")
	require.NoError(t, err)
	back, err := tarball.ImageFromPath(archive, &tag)
	require.NoError(t, err)
	wantConfig, err := img.ConfigName()
	require.NoError(t, err)
	gotConfig, err := back.ConfigName()
	require.NoError(t, err)
	require.Equal(t, wantConfig, gotConfig)

	_, err = exec.LookPath("skopeo")
	RequireFeature(t, err == nil, "skopeo (Debian's skopeo; run scripts/setup.sh)")
	for _, ref := range []string{"oci:" + ociDir + ":test:1", "docker-archive:" + archive} {
		out, err := exec.Command("skopeo", "inspect", "--config", ref).CombinedOutput()
		require.NoError(t, err, "skopeo inspect %s: %s", ref, out)
		require.Contains(t, string(out), `"sh"`, "skopeo inspect --config %s", ref)
	}
}

// TestMkimage runs the lesson's image writer, as a learner does, and reads
// the httpd image back.
func TestMkimage(t *testing.T) {
	_, err := os.Stat("/bin/busybox")
	RequireFeature(t, err == nil, "/bin/busybox (Debian's busybox-static; run scripts/setup.sh)")
	bin := Build(t, "minidocker/internal/imagebuild/mkimage")
	out := filepath.Join(t.TempDir(), "httpd")
	cmd := exec.Command(bin, "-httpd", "-format", "oci", "-o", out)
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, "mkimage: %s", msg)
	idx, err := layout.ImageIndexFromPath(out)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, 1)
	img, err := idx.Image(im.Manifests[0].Digest)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	require.Equal(t, []string{"httpd-foreground"}, cf.Config.Cmd)
	require.Contains(t, cf.Config.ExposedPorts, "80/tcp")
	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 2)
	top := readLayer(t, layers[1])
	found := slices.ContainsFunc(top, func(e entry) bool {
		return e.Name == "usr/local/apache2/htdocs/index.html" && strings.Contains(e.Content, "It works!")
	})
	require.True(t, found, "the httpd layer has no index.html: %v", top)
}
