package image_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
	"minidocker/step03-rootfs-layers/image"
)

func testImage(t *testing.T) v1.Image {
	cfg := v1.Config{Env: []string{"PATH=/bin", "GREETING=hi"}, Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{"echo hi"},
		WorkingDir: "/srv", User: "nobody", StopSignal: "SIGQUIT", ExposedPorts: map[string]struct{}{"80/tcp": {}},
		Volumes: map[string]struct{}{"/data": {}}, Labels: map[string]string{"course": "minidocker"}}
	return testkit.Image(t, cfg,
		testkit.Layer(t, testkit.File("a.txt", "first\n", 0o644)),
		testkit.Layer(t, testkit.File("b.txt", "second\n", 0o644), testkit.Whiteout("a.txt")))
}

// check compares what Load read with the image that was written: the
// config (as the OCI image-spec types), its digest, and each layer's
// diffID and bytes, read through Open (which verifies them).
func check(t *testing.T, want v1.Image, got *image.Image) {
	t.Helper()
	wantDigest, err := want.ConfigName()
	require.NoError(t, err)
	if got.ConfigDigest.String() != wantDigest.String() {
		t.Errorf("ConfigDigest = %s, want %s", got.ConfigDigest, wantDigest)
	}
	raw, err := want.RawConfigFile()
	require.NoError(t, err)
	var wantCfg ocispec.Image
	require.NoError(t, json.Unmarshal(raw, &wantCfg))
	if diff := cmp.Diff(wantCfg, got.Config); diff != "" {
		t.Errorf("Config mismatch (-want +got):\n%s", diff)
	}
	layers, err := want.Layers()
	require.NoError(t, err)
	require.Len(t, got.Layers, len(layers))
	for i, l := range layers {
		diffID, err := l.DiffID()
		require.NoError(t, err)
		if got.Layers[i].DiffID.String() != diffID.String() {
			t.Errorf("layer %d: DiffID = %s, want %s", i, got.Layers[i].DiffID, diffID)
		}
		if got.Layers[i].Digest == "" {
			t.Errorf("layer %d: no Digest: the blob is not verified", i)
		}
		r, err := got.Layers[i].Open()
		require.NoError(t, err)
		gotBytes, err := io.ReadAll(r)
		r.Close()
		require.NoError(t, err, "read layer %d (verified against its digest)", i)
		if int64(len(gotBytes)) != got.Layers[i].Size {
			t.Errorf("layer %d: Size = %d, read %d bytes", i, got.Layers[i].Size, len(gotBytes))
		}
		wr, err := l.Compressed()
		require.NoError(t, err)
		wantBytes, err := io.ReadAll(wr)
		require.NoError(t, err)
		if !bytes.Equal(gotBytes, wantBytes) {
			t.Errorf("layer %d: Open read %d bytes that differ from the %d written", i, len(gotBytes), len(wantBytes))
		}
	}
}

// untar extracts the tar file src into a new directory dst (regular files
// and directories: what an image archive holds).
func untar(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	require.NoError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		p := filepath.Join(dst, hdr.Name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		switch hdr.Typeflag {
		case tar.TypeDir:
			require.NoError(t, os.MkdirAll(p, 0o755))
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, data, 0o644))
		case tar.TypeSymlink:
			require.NoError(t, os.Symlink(hdr.Linkname, p))
		}
	}
}

func TestLoad(t *testing.T) {
	img := testImage(t)
	oci := testkit.OCIImage(t, img)
	dir := t.TempDir()
	ociDir := filepath.Join(dir, "oci")
	testkit.WriteOCILayout(t, ociDir, "test:1", oci)
	archive := filepath.Join(dir, "docker.tar")
	testkit.WriteDockerArchive(t, archive, "example.com/test:1", img)
	archiveDir := filepath.Join(dir, "docker")
	untar(t, archive, archiveDir)

	tests := []struct {
		name, path string
		want       v1.Image
		wantTags   []string
	}{
		{"OCI layout directory", ociDir, oci, []string{"test:1"}},
		{"docker save archive", archive, img, []string{"example.com/test:1"}},
		{"docker save archive, extracted", archiveDir, img, []string{"example.com/test:1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := image.Load(tc.path)
			require.NoError(t, err)
			check(t, tc.want, got)
			if diff := cmp.Diff(tc.wantTags, got.RepoTags); diff != "" {
				t.Errorf("RepoTags mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLoadSkopeo loads archives written by a real tool: skopeo copies our
// OCI layout to an oci-archive tar and to a docker-archive (uncompressed
// layers named by diffID, config by digest, v1 directories of symlinks).
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
	wantCfg, err := img.ConfigFile()
	require.NoError(t, err)
	wantConfig, err := img.ConfigName()
	require.NoError(t, err)
	tests := []struct {
		file     string
		wantTags []string
	}{
		{"oci.tar", []string{"test:1"}},
		{"docker.tar", []string{"docker.io/library/test:1"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			got, err := image.Load(filepath.Join(dir, tc.file))
			require.NoError(t, err)
			require.Len(t, got.Layers, 2)
			require.Equal(t, wantConfig.String(), got.ConfigDigest.String())
			require.Equal(t, tc.wantTags, got.RepoTags)
			if diff := cmp.Diff(wantCfg.Config.Cmd, got.Config.Config.Cmd); diff != "" {
				t.Errorf("Cmd mismatch (-want +got):\n%s", diff)
			}
			for i, l := range got.Layers {
				if l.Digest == "" {
					t.Errorf("layer %d: no Digest: the blob is not verified", i)
				}
				if l.DiffID.String() != wantCfg.RootFS.DiffIDs[i].String() {
					t.Errorf("layer %d: DiffID %s, want %s", i, l.DiffID, wantCfg.RootFS.DiffIDs[i])
				}
				r, err := l.Open()
				require.NoError(t, err)
				n, err := io.Copy(io.Discard, r)
				r.Close()
				require.NoError(t, err, "read layer %d", i)
				require.Equal(t, l.Size, n)
			}
		})
	}
}

// tarFile is one entry of a hand-made archive.
type tarFile struct {
	name, content, link string
}

func writeTar(t *testing.T, p string, files ...tarFile) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.content)), Typeflag: tar.TypeReg}
		if f.link != "" {
			h = &tar.Header{Name: f.name, Linkname: f.link, Mode: 0o777, Typeflag: tar.TypeSymlink}
		}
		require.NoError(t, tw.WriteHeader(h))
		_, err := io.WriteString(tw, f.content)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
}

// TestLoadOldDockerSave reads the layout docker save wrote before Docker
// 25: "<v1 id>/layer.tar", uncompressed, where a layer the image has twice
// is a symlink to the first copy.
func TestLoadOldDockerSave(t *testing.T) {
	layer := string(testkit.LayerTar(t, testkit.File("a", "a\n", 0o644)))
	diffID := digest.FromString(layer)
	config := `{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["` +
		diffID.String() + `","` + diffID.String() + `"]}}`
	configHex := digest.FromString(config).Encoded()
	id1, id2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	archive := filepath.Join(t.TempDir(), "old.tar")
	writeTar(t, archive,
		tarFile{name: id1 + "/layer.tar", content: layer},
		tarFile{name: id2 + "/layer.tar", link: "../" + id1 + "/layer.tar"},
		tarFile{name: configHex + ".json", content: config},
		tarFile{name: "manifest.json", content: `[{"Config":"` + configHex + `.json","RepoTags":["old:1"],"Layers":["` +
			id1 + `/layer.tar","` + id2 + `/layer.tar"]}]`},
	)
	got, err := image.Load(archive)
	require.NoError(t, err)
	require.Equal(t, "sha256:"+configHex, got.ConfigDigest.String())
	require.Equal(t, []string{"sh"}, got.Config.Config.Cmd)
	require.Len(t, got.Layers, 2)
	for i, l := range got.Layers {
		require.Equal(t, diffID, l.DiffID)
		require.Equal(t, "application/vnd.docker.image.rootfs.diff.tar", l.MediaType)
		r, err := l.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		r.Close()
		require.NoError(t, err)
		if string(data) != layer {
			t.Errorf("layer %d: read %d bytes, want the %d of the layer", i, len(data), len(layer))
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	mkdir := func(name string, files map[string]string) string {
		p := filepath.Join(dir, name)
		for f, content := range files {
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(p, f)), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(p, f), []byte(content), 0o644))
		}
		require.NoError(t, os.MkdirAll(p, 0o755))
		return p
	}
	goodConfig := `{"rootfs":{"type":"layers","diff_ids":[]}}`
	goodConfigHex := digest.FromString(goodConfig).Encoded()
	badDiffIDConfig := `{"rootfs":{"type":"layers","diff_ids":["sha256:ab"]}}`
	badDiffIDHex := digest.FromString(badDiffIDConfig).Encoded()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret"), []byte("secret"), 0o600))
	garbledTar := filepath.Join(dir, "garbled.tar")
	require.NoError(t, os.WriteFile(garbledTar, []byte("this is not a tar archive, not even close to one"), 0o644))

	tests := []struct {
		name, path string
		wantIs     error  // checked with errors.Is when set
		want       string // a part of the message
	}{
		{"missing", filepath.Join(dir, "nope"), fs.ErrNotExist, "no such file or directory"},
		{"empty directory", mkdir("empty", nil), image.ErrUnknownFormat, "neither a docker save archive"},
		{"not a tar", garbledTar, nil, "read archive"},
		{"garbled manifest", mkdir("garbled", map[string]string{"manifest.json": "{not json"}), nil, "manifest.json: invalid character"},
		{"manifest lists nothing", mkdir("nothing", map[string]string{"manifest.json": "[]"}), nil, "manifest.json lists no image"},
		{"config missing", mkdir("noconfig", map[string]string{"manifest.json": `[{"Config":"c.json","Layers":[]}]`}), fs.ErrNotExist, "config: "},
		{"config outside the directory", mkdir("outside", map[string]string{"manifest.json": `[{"Config":"../secret","Layers":[]}]`}), nil, "path escapes from parent"},
		{"config digest mismatch", mkdir("badconfig", map[string]string{
			"manifest.json": `[{"Config":"sha256:` + strings.Repeat("0", 64) + `","Layers":[]}]`, "sha256:" + strings.Repeat("0", 64): goodConfig,
		}), image.ErrDigestMismatch, "config: "},
		{"diffIDs do not match the layers", mkdir("diffids", map[string]string{
			"manifest.json": `[{"Config":"` + goodConfigHex + `.json","Layers":["l.tar"]}]`, goodConfigHex + ".json": goodConfig,
		}), nil, "0 diffIDs for 1 layers"},
		{"layer missing", mkdir("nolayer", map[string]string{
			"manifest.json": `[{"Config":"c.json","Layers":["l.tar"]}]`, "c.json": `{"rootfs":{"diff_ids":["sha256:` + strings.Repeat("a", 64) + `"]}}`,
		}), fs.ErrNotExist, "layer l.tar: "},
		{"diff_id malformed", mkdir("baddiffid", map[string]string{
			"manifest.json": `[{"Config":"` + badDiffIDHex + `.json","Layers":["l.tar"]}]`, badDiffIDHex + ".json": badDiffIDConfig, "l.tar": "",
		}), digest.ErrDigestInvalidLength, `invalid diff_id "sha256:ab" in image config`},
		{"OCI index entry malformed", mkdir("badindex", map[string]string{"oci-layout": `{"imageLayoutVersion":"1.0.0"}`,
			"index.json": `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,"digest":"sha256:../../../etc/passwd"}]}`}),
			digest.ErrDigestInvalidLength, `index: invalid manifest digest "sha256:../../../etc/passwd"`},
		{"index.json without oci-layout", mkdir("nolayout", map[string]string{"index.json": `{"schemaVersion":2,"manifests":[]}`}), fs.ErrNotExist, "not an OCI image layout"},
		{"OCI layout without an image", mkdir("noimage", map[string]string{"oci-layout": `{"imageLayoutVersion":"1.0.0"}`, "index.json": `{"schemaVersion":2,"manifests":[]}`}), nil, "index.json: no manifest for"},
		{"OCI manifest blob missing", mkdir("nomanifest", map[string]string{"oci-layout": `{"imageLayoutVersion":"1.0.0"}`,
			"index.json": `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,"digest":"sha256:` + strings.Repeat("b", 64) + `"}]}`}),
			fs.ErrNotExist, "manifest: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := image.Load(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load(%s) error = %v, want one containing %q", tc.name, err, tc.want)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("Load(%s) error = %v, want errors.Is %v", tc.name, err, tc.wantIs)
			}
		})
	}
}

// TestLoadTampered changes a blob after the image was written: a layer
// fails as it is read, a manifest or config when the image is loaded.
func TestLoadTampered(t *testing.T) {
	img := testkit.OCIImage(t, testImage(t))
	layers, err := img.Layers()
	require.NoError(t, err)
	layerDigest, err := layers[0].Digest()
	require.NoError(t, err)
	configDigest, err := img.ConfigName()
	require.NoError(t, err)
	tests := []struct {
		name   string
		blob   v1.Hash
		onLoad bool
	}{
		{"layer", layerDigest, false},
		{"config", configDigest, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "oci")
			testkit.WriteOCILayout(t, dir, "t:1", img)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "blobs", "sha256", tc.blob.Hex), []byte("evil"), 0o644))
			got, err := image.Load(dir)
			if tc.onLoad {
				require.ErrorIs(t, err, image.ErrDigestMismatch)
				return
			}
			require.NoError(t, err)
			r, err := got.Layers[0].Open()
			require.NoError(t, err)
			defer r.Close()
			_, err = io.Copy(io.Discard, r)
			require.ErrorIs(t, err, image.ErrDigestMismatch)
		})
	}
}
