package store

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"

	"minidocker/internal/imagebuild"
	"minidocker/internal/testkit"
	"minidocker/step05-pull/reference"
	"minidocker/step05-pull/registry"
)

// TestMain lets the test binary be a second process that pulls:
// MDK_STORE_PULL="<root> <ref>" pulls ref into the store at root, printing
// each progress event on stdout, and exits 0 on success.
func TestMain(m *testing.M) {
	if spec := os.Getenv("MDK_STORE_PULL"); spec != "" {
		root, ref, _ := strings.Cut(spec, " ")
		os.Exit(childPull(root, ref))
	}
	os.Exit(m.Run())
}

func childPull(root, arg string) int {
	s, err := Open(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := registry.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var mu sync.Mutex
	_, _, err = s.Pull(context.Background(), c, reference.MustParse(arg), func(p registry.Progress) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf("%s: %s\n", p.ID, p.Status)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// Our own peak resident memory (not ru_maxrss from wait4, which counts
	// the parent's memory: Go starts children with vfork, and exec records
	// the shared address space's peak).
	status, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(status)) {
		if strings.HasPrefix(line, "VmHWM:") {
			fmt.Fprint(os.Stderr, line)
		}
	}
	return 0
}

func newStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	return s
}

func client(t testing.TB, opts ...registry.Option) *registry.Client {
	t.Helper()
	c, err := registry.New(opts...)
	require.NoError(t, err)
	return c
}

// events collects the progress of a pull by status.
type events struct {
	mu sync.Mutex
	by map[string][]string // status -> layer IDs
}

func (e *events) record(p registry.Progress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.by == nil {
		e.by = map[string][]string{}
	}
	e.by[p.Status] = append(e.by[p.Status], p.ID)
}

func pull(t testing.TB, s *Store, ref string, opts ...registry.Option) (*Image, bool, *events) {
	t.Helper()
	var ev events
	img, fresh, err := s.Pull(context.Background(), client(t, opts...), reference.MustParse(ref), ev.record)
	require.NoError(t, err)
	return img, fresh, &ev
}

func randomLayer(t testing.TB, name string, size int) v1.Layer {
	b := make([]byte, size)
	rand.Read(b)
	return testkit.Layer(t, testkit.File(name, string(b), 0o644))
}

func configDigest(t testing.TB, img v1.Image) digest.Digest {
	h, err := img.ConfigName()
	require.NoError(t, err)
	return digest.Digest(h.String())
}

func TestPullSingleImage(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{Auth: true})
	src := testkit.Image(t, imagebuild.BusyboxConfig(), testkit.Layer(t, testkit.File("a", "a\n", 0o644)), testkit.Layer(t, testkit.File("b", "b\n", 0o644)))
	pushed := reg.Push(t, "app:1", src)
	s := newStore(t)

	img, fresh, ev := pull(t, s, reg.Host()+"/app:1")
	require.True(t, fresh)
	require.Equal(t, configDigest(t, src), img.ID)
	require.Equal(t, []string{reg.Host() + "/app:1"}, img.RepoTags)
	require.Equal(t, []string{reg.Host() + "/app@" + pushed.String()}, img.RepoDigests)
	require.Len(t, ev.by[registry.StatusPullComplete], 2)
	require.Len(t, ev.by[registry.StatusExtracting], 2)
	for _, d := range img.Config.RootFS.DiffIDs {
		require.True(t, s.Layers().Has(d))
		require.Greater(t, s.Layers().Size(d), int64(0))
		img.Size -= s.Layers().Size(d)
	}
	require.Zero(t, img.Size, "Size is the layers' sizes summed")

	for _, arg := range []string{reg.Host() + "/app:1", reg.Host() + "/app@" + pushed.String(), img.ID.String(), img.ID.Encoded(), img.ID.Encoded()[:5]} {
		got, err := s.Get(arg)
		require.NoError(t, err, arg)
		require.Equal(t, img.ID, got.ID, arg)
	}
	_, err := s.Get("nope")
	require.ErrorIs(t, err, ErrNotFound)
	require.EqualError(t, err, "No such image: nope")

	r := s.Runnable(img)
	require.Equal(t, img.Config.RootFS.DiffIDs, r.DiffIDs())
	require.Equal(t, imagebuild.BusyboxConfig().Cmd, r.Config.Config.Cmd)

	_, fresh, ev = pull(t, s, reg.Host()+"/app:1")
	require.False(t, fresh, "Image is up to date")
	require.Len(t, ev.by[registry.StatusAlreadyExists], 2)
}

func TestPullIndexPicksPlatform(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	var idx v1.ImageIndex = empty.Index
	images := map[string]v1.Image{}
	for _, arch := range []string{"amd64", "arm64"} {
		cfg := imagebuild.BusyboxConfig()
		cfg.Env = append(cfg.Env, "ARCH="+arch)
		img := testkit.Image(t, cfg, testkit.Layer(t, testkit.File("arch", arch, 0o644)))
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		cf = cf.DeepCopy()
		cf.Architecture, cf.OS = arch, "linux"
		img, err = mutate.ConfigFile(img, cf)
		require.NoError(t, err)
		images[arch] = img
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	pushed := reg.Push(t, "multi:1", idx)
	for _, arch := range []string{"amd64", "arm64"} {
		s := newStore(t)
		img, _, _ := pull(t, s, reg.Host()+"/multi:1", registry.WithPlatform("linux/"+arch))
		require.Equal(t, configDigest(t, images[arch]), img.ID, arch)
		require.Contains(t, img.Config.Config.Env, "ARCH="+arch)
		require.Equal(t, []string{reg.Host() + "/multi@" + pushed.String()}, img.RepoDigests, "the index's digest, as docker keeps it")
	}
	_, _, err := newStore(t).Pull(context.Background(), client(t, registry.WithPlatform("linux/s390x")), reference.MustParse(reg.Host()+"/multi:1"), nil)
	require.ErrorContains(t, err, "s390x")
}

func TestLayerSharing(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	base := testkit.Layer(t, testkit.File("base", "shared\n", 0o644))
	reg.Push(t, "one:1", testkit.Image(t, imagebuild.BusyboxConfig(), base))
	reg.Push(t, "two:1", testkit.Image(t, imagebuild.BusyboxConfig(), base, testkit.Layer(t, testkit.File("own", "two\n", 0o644))))
	baseDigest, err := base.Digest()
	require.NoError(t, err)
	s := newStore(t)
	pull(t, s, reg.Host()+"/one:1")
	_, _, ev := pull(t, s, reg.Host()+"/two:1")
	require.Len(t, ev.by[registry.StatusAlreadyExists], 1)
	require.Len(t, ev.by[registry.StatusPullComplete], 1)
	fetched := 0
	for _, r := range reg.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/blobs/"+baseDigest.String()) {
			fetched++
		}
	}
	require.Equal(t, 1, fetched, "the shared layer is downloaded once")
}

// storeFiles lists what the store holds on disk: blobs, layers, names.
func storeFiles(t *testing.T, s *Store) (blobs, layerDirs []string, refs int) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.dir, "blobs", "sha256"))
	require.NoError(t, err)
	for _, e := range entries {
		blobs = append(blobs, e.Name())
	}
	entries, err = os.ReadDir(filepath.Join(s.layers.Root(), "sha256"))
	if err == nil {
		for _, e := range entries {
			if e.IsDir() {
				layerDirs = append(layerDirs, e.Name())
			}
		}
	}
	ix, err := s.readIndex()
	require.NoError(t, err)
	return blobs, layerDirs, len(ix.Refs) + len(ix.Images)
}

func TestTamperedLayerStoresNothing(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	l := randomLayer(t, "data", 1<<20)
	reg.Push(t, "bad:1", testkit.Image(t, imagebuild.BusyboxConfig(), l))
	d, err := l.Digest()
	require.NoError(t, err)
	reg.TamperBlob(d)
	s := newStore(t)
	_, _, err = s.Pull(context.Background(), client(t), reference.MustParse(reg.Host()+"/bad:1"), nil)
	require.ErrorIs(t, err, registry.ErrDigestMismatch)
	blobs, layerDirs, refs := storeFiles(t, s)
	require.Empty(t, blobs)
	require.Empty(t, layerDirs)
	require.Zero(t, refs)
	_, err = s.Get(reg.Host() + "/bad:1")
	require.ErrorIs(t, err, ErrNotFound)
}

func TestRemove(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	base := testkit.Layer(t, testkit.File("base", "shared\n", 0o644))
	one := testkit.Image(t, imagebuild.BusyboxConfig(), base)
	reg.Push(t, "one:1", one)
	reg.Push(t, "one:latest", one)
	reg.Push(t, "two:1", testkit.Image(t, imagebuild.BusyboxConfig(), base, testkit.Layer(t, testkit.File("own", "two\n", 0o644))))
	s := newStore(t)
	h := reg.Host()
	pull(t, s, h+"/one:1")
	pull(t, s, h+"/one:latest")
	imgTwo, _, _ := pull(t, s, h+"/two:1")

	// One of two tags: only untagged.
	lines, err := s.Remove(h+"/one:1", false, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"Untagged: " + h + "/one:1", "Untagged: " + h + "/one@" + mustDigest(t, one)}, lines)
	imgOne, err := s.Get(h + "/one:latest")
	require.NoError(t, err)
	require.Equal(t, []string{h + "/one:latest"}, imgOne.RepoTags)

	// In use by a container: refused, unless forced.
	inUse := func(id digest.Digest) string {
		if id == imgOne.ID {
			return "0123456789ab"
		}
		return ""
	}
	_, err = s.Remove(h+"/one:latest", false, inUse)
	require.EqualError(t, err, fmt.Sprintf(`conflict: unable to remove repository reference %q (must force) - container 0123456789ab is using its referenced image %s`, h+"/one:latest", imgOne.ID.Encoded()[:12]))
	_, err = s.Remove(imgOne.ID.Encoded()[:6], false, inUse)
	require.ErrorContains(t, err, "must be forced")

	// The last tag, by ID prefix: the image goes; the shared layer stays
	// for two, the config and manifest blobs go.
	lines, err = s.Remove(imgOne.ID.Encoded()[:6], false, nil)
	require.NoError(t, err)
	require.Contains(t, lines, "Deleted: "+imgOne.ID.String())
	require.Len(t, lines, 3, "untag, untag digest, delete config; no layer: two uses it: %v", lines)
	require.True(t, s.Layers().Has(imgTwo.Config.RootFS.DiffIDs[0]))
	_, err = s.Get(imgOne.ID.String())
	require.ErrorIs(t, err, ErrNotFound)

	// two: both its layers go, and nothing is left.
	lines, err = s.Remove(h+"/two:1", false, nil)
	require.NoError(t, err)
	for _, d := range imgTwo.Config.RootFS.DiffIDs {
		require.Contains(t, lines, "Deleted: "+d.String())
		require.False(t, s.Layers().Has(d))
	}
	blobs, layerDirs, refs := storeFiles(t, s)
	require.Empty(t, blobs)
	require.Empty(t, layerDirs)
	require.Zero(t, refs)

	_, err = s.Remove("nope", false, nil)
	require.EqualError(t, err, "No such image: nope")
}

// TestPrune: the images pick chooses go with all their names, in one
// pass; a layer two of them share goes once, a layer a kept image also
// lists stays; the bytes reported are the deleted layers' sizes.
func TestPrune(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	base := testkit.Layer(t, testkit.File("base", "shared by all\n", 0o644))
	pair := testkit.Layer(t, testkit.File("pair", "shared by a and b\n", 0o644))
	reg.Push(t, "a:1", testkit.Image(t, imagebuild.BusyboxConfig(), base, pair, testkit.Layer(t, testkit.File("a", "a only\n", 0o644))))
	reg.Push(t, "b:1", testkit.Image(t, imagebuild.BusyboxConfig(), base, pair))
	reg.Push(t, "keep:1", testkit.Image(t, imagebuild.BusyboxConfig(), base))
	s := newStore(t)
	h := reg.Host()
	a, _, _ := pull(t, s, h+"/a:1")
	b, _, _ := pull(t, s, h+"/b:1")
	keep, _, _ := pull(t, s, h+"/keep:1")
	pairID, aOwn := a.Config.RootFS.DiffIDs[1], a.Config.RootFS.DiffIDs[2]
	want := s.Layers().Size(pairID) + s.Layers().Size(aOwn)
	require.Equal(t, int64(len("shared by a and b\n")+len("a only\n")), want)

	lines, reclaimed, err := s.Prune(func(img *Image) bool { return img.ID != keep.ID })
	require.NoError(t, err)
	require.Equal(t, want, reclaimed)
	require.Contains(t, lines, "Untagged: "+h+"/a:1")
	require.Contains(t, lines, "Untagged: "+h+"/b:1")
	require.Contains(t, lines, "Deleted: "+a.ID.String())
	require.Contains(t, lines, "Deleted: "+b.ID.String())
	for _, d := range []digest.Digest{pairID, aOwn} {
		n := 0
		for _, l := range lines {
			if l == "Deleted: "+d.String() {
				n++
			}
		}
		require.Equal(t, 1, n, "layer %s deleted once: %v", d, lines)
	}
	require.NotContains(t, lines, "Deleted: "+keep.Config.RootFS.DiffIDs[0].String())
	require.True(t, s.Layers().Has(keep.Config.RootFS.DiffIDs[0]), "keep's layer stays")
	require.False(t, s.Layers().Has(pairID))
	require.False(t, s.Layers().Has(aOwn))
	images, err := s.Images()
	require.NoError(t, err)
	require.Len(t, images, 1)
	require.Equal(t, keep.ID, images[0].ID)

	lines, reclaimed, err = s.Prune(func(*Image) bool { return false })
	require.NoError(t, err)
	require.Empty(t, lines)
	require.Zero(t, reclaimed)
}

func mustDigest(t *testing.T, img v1.Image) string {
	d, err := img.Digest()
	require.NoError(t, err)
	return d.String()
}

// slowProxy serves the registry at target, sending blobs slowly (64 KiB
// every 20 ms), so that a pull can be killed in the middle of a download.
func slowProxy(t *testing.T, target string) string {
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/blobs/") {
			w = &slowWriter{ResponseWriter: w}
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

type slowWriter struct{ http.ResponseWriter }

func (w *slowWriter) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		chunk := b[:min(len(b), 64<<10)]
		m, err := w.ResponseWriter.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		time.Sleep(20 * time.Millisecond)
		b = b[len(chunk):]
	}
	return n, nil
}

func childCmd(root, ref string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MDK_STORE_PULL="+root+" "+ref)
	return cmd
}

// TestInterruptedPull kills a pulling process at several moments: the store
// is consistent each time (no name, no visible partial blob or layer), and
// the next pull completes.
func TestInterruptedPull(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	src := testkit.Image(t, imagebuild.BusyboxConfig(), randomLayer(t, "one", 2<<20), randomLayer(t, "two", 3<<20), randomLayer(t, "three", 2<<20))
	reg.Push(t, "app:1", src)
	host := slowProxy(t, reg.URL())
	for _, when := range []string{registry.StatusDownloading, registry.StatusPullComplete, registry.StatusDownloadComplete} {
		t.Run("at the first "+when, func(t *testing.T) {
			root := t.TempDir()
			cmd := childCmd(root, host+"/app:1")
			stdout, err := cmd.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			sc := bufio.NewScanner(stdout)
			for sc.Scan() && !strings.HasSuffix(sc.Text(), ": "+when) {
			}
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			err = cmd.Wait()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee) && !ee.Exited(), "the pull was killed, not finished: %v", err)

			s, err := Open(root)
			require.NoError(t, err)
			list, err := s.Images()
			require.NoError(t, err)
			require.Empty(t, list, "no image is named before it is whole")
			blobs, _, _ := storeFiles(t, s)
			for _, b := range blobs {
				require.True(t, strings.HasPrefix(b, "."), "a visible blob %s from a killed pull", b)
			}
			img, _, _ := pull(t, s, reg.Host()+"/app:1") // the rest at full speed
			require.Equal(t, configDigest(t, src), img.ID)
			for _, d := range img.Config.RootFS.DiffIDs {
				require.True(t, s.Layers().Has(d))
			}
		})
	}
}

// TestConcurrentPulls: two processes pull one image into one store.
func TestConcurrentPulls(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	src := testkit.Image(t, imagebuild.BusyboxConfig(), randomLayer(t, "one", 1<<20), randomLayer(t, "two", 1<<20))
	reg.Push(t, "app:1", src)
	root := t.TempDir()
	var cmds []*exec.Cmd
	for range 2 {
		cmd := childCmd(root, reg.Host()+"/app:1")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		require.NoError(t, cmd.Wait(), "%s", cmd.Stdout)
	}
	s, err := Open(root)
	require.NoError(t, err)
	list, err := s.Images()
	require.NoError(t, err)
	require.Len(t, list, 1)
	_, layerDirs, _ := storeFiles(t, s)
	want := []string{}
	for _, d := range list[0].Config.RootFS.DiffIDs {
		want = append(want, d.Encoded())
	}
	slices.Sort(want)
	slices.Sort(layerDirs)
	require.Equal(t, want, layerDirs, "each layer once, no leftovers")
}

// BenchmarkPull100MB pulls a 5-layer, 100 MB image (random, so gzip does
// not shrink it) from a registry on 127.0.0.1 into a fresh store on
// /dev/shm each time: download, verify and unpack.
func BenchmarkPull100MB(b *testing.B) {
	reg := testkit.NewRegistry(b, testkit.RegistryOptions{})
	var ls []v1.Layer
	for i := range 5 {
		ls = append(ls, randomLayer(b, fmt.Sprint("file", i), 20<<20))
	}
	reg.Push(b, "big:1", testkit.Image(b, imagebuild.BusyboxConfig(), ls...))
	c := client(b)
	b.SetBytes(100 << 20)
	for b.Loop() {
		dir, err := os.MkdirTemp("/dev/shm", "mdk-bench-")
		require.NoError(b, err)
		s, err := Open(dir)
		require.NoError(b, err)
		if _, _, err := s.Pull(context.Background(), c, reference.MustParse(reg.Host()+"/big:1"), nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

// BenchmarkPullRSS pulls one big uncompressed layer (MDK_RSS_MB, default
// 500 MB) in a child process and reports the child's peak resident memory:
// the layer streams from the network to the disk, it is never held whole.
func BenchmarkPullRSS(b *testing.B) {
	size := 500
	fmt.Sscan(os.Getenv("MDK_RSS_MB"), &size)
	data := make([]byte, size<<20)
	rand.Read(data)
	tarData, err := imagebuild.LayerTar(imagebuild.File("big", string(data), 0o644))
	require.NoError(b, err)
	data = nil
	layer := static.NewLayer(tarData, types.OCIUncompressedLayer)
	reg := testkit.NewRegistry(b, testkit.RegistryOptions{})
	reg.Push(b, "huge:1", testkit.Image(b, imagebuild.BusyboxConfig(), layer))
	tarData = nil
	for b.Loop() {
		dir, err := os.MkdirTemp("/var/tmp", "mdk-rss-")
		require.NoError(b, err)
		cmd := childCmd(dir, reg.Host()+"/huge:1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err = cmd.Run()
		os.RemoveAll(dir)
		require.NoError(b, err, "%s", stderr.String())
		var kb float64
		_, err = fmt.Sscanf(strings.TrimSpace(stderr.String()), "VmHWM: %f kB", &kb)
		require.NoError(b, err, "%q", stderr.String())
		b.ReportMetric(kb/1024, "peak-RSS-MB")
	}
}

// TestTagMoves: a tag pushed again points at the new image; the old one
// stays, untagged (docker's <none>), until rmi by ID removes it.
func TestTagMoves(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	s := newStore(t)
	ref := reg.Host() + "/app:1"
	reg.Push(t, "app:1", testkit.Image(t, imagebuild.BusyboxConfig(), testkit.Layer(t, testkit.File("v", "1\n", 0o644))))
	old, _, _ := pull(t, s, ref)
	reg.Push(t, "app:1", testkit.Image(t, imagebuild.BusyboxConfig(), testkit.Layer(t, testkit.File("v", "2\n", 0o644))))
	cur, fresh, _ := pull(t, s, ref)
	require.True(t, fresh)
	require.NotEqual(t, old.ID, cur.ID)
	list, err := s.Images()
	require.NoError(t, err)
	require.Len(t, list, 2)
	got, err := s.Get(old.ID.String())
	require.NoError(t, err)
	require.Empty(t, got.RepoTags, "the old image lost its tag")
	lines, err := s.Remove(old.ID.Encoded()[:8], false, nil)
	require.NoError(t, err)
	require.Equal(t, "Deleted: "+old.ID.String(), lines[0])
	require.True(t, s.Layers().Has(cur.Config.RootFS.DiffIDs[0]))
	require.False(t, s.Layers().Has(old.Config.RootFS.DiffIDs[0]))
}

// TestPullByDigest: name@sha256:… pulls exactly that manifest, and the
// image is found by that reference.
func TestPullByDigest(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	src := testkit.Image(t, imagebuild.BusyboxConfig(), testkit.Layer(t, testkit.File("x", "x\n", 0o644)))
	d := reg.Push(t, "app:1", src)
	s := newStore(t)
	ref := reg.Host() + "/app@" + d.String()
	img, _, _ := pull(t, s, ref)
	require.Equal(t, configDigest(t, src), img.ID)
	require.Empty(t, img.RepoTags)
	require.Equal(t, []string{ref}, img.RepoDigests)
	got, err := s.Get(ref)
	require.NoError(t, err)
	require.Equal(t, img.ID, got.ID)
}

// TestSweepPlantedTemporaries: temporaries whose writer is gone (no lock
// held on the layer), however young, go with the next command that locks
// the store; one whose layer lock is held stays.
func TestSweepPlantedTemporaries(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	reg.Push(t, "app:1", testkit.Image(t, imagebuild.BusyboxConfig(), testkit.Layer(t, testkit.File("x", "x\n", 0o644))))
	s := newStore(t)
	pull(t, s, reg.Host()+"/app:1")
	deadHex, liveHex := strings.Repeat("a", 64), strings.Repeat("b", 64)
	staleBlob := filepath.Join(s.dir, "blobs", "sha256", "."+deadHex+".tmp")
	deadLayer := filepath.Join(s.layers.Root(), "sha256", "."+deadHex+".tmp-1")
	liveLayer := filepath.Join(s.layers.Root(), "sha256", "."+liveHex+".tmp-2")
	require.NoError(t, os.WriteFile(staleBlob, []byte("half"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(deadLayer, "etc"), 0o755))
	require.NoError(t, os.MkdirAll(liveLayer, 0o755))
	// A live unpack holds its layer's lock: another open file description
	// of the lock file, as another process would have.
	f, err := os.OpenFile(filepath.Join(s.layers.Root(), "locks", liveHex), os.O_CREATE|os.O_RDWR, 0o600)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	require.NoError(t, syscall.Flock(int(f.Fd()), syscall.LOCK_EX))
	_, err = s.Remove("nope", false, nil) // any command that locks the store
	require.ErrorIs(t, err, ErrNotFound)
	require.NoFileExists(t, staleBlob)
	require.NoDirExists(t, deadLayer)
	require.DirExists(t, liveLayer)
	f.Close() // the live unpack died too
	_, err = s.Remove("nope", false, nil)
	require.ErrorIs(t, err, ErrNotFound)
	require.NoDirExists(t, liveLayer)
	img, err := s.Get(reg.Host() + "/app:1")
	require.NoError(t, err)
	require.True(t, s.Layers().Has(img.Config.RootFS.DiffIDs[0]), "a finished layer is not a temporary")
}

// tempLayers lists the layer temporaries under root, by diffID hex.
func tempLayers(t *testing.T, root string) map[string]int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "layers", "sha256"))
	require.NoError(t, err)
	out := map[string]int{}
	for _, e := range entries {
		if hex, _, ok := strings.Cut(strings.TrimPrefix(e.Name(), "."), ".tmp-"); ok && strings.HasPrefix(e.Name(), ".") {
			out[hex]++
		}
	}
	return out
}

// startPull starts a pulling child process and returns once it reported
// "Downloading" for a layer: it is writing a temporary layer directory.
func startPull(t *testing.T, root, ref string) *exec.Cmd {
	t.Helper()
	cmd := childCmd(root, ref)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && !strings.HasSuffix(sc.Text(), ": "+registry.StatusDownloading) {
	}
	require.NoError(t, sc.Err())
	go io.Copy(io.Discard, stdout)
	return cmd
}

// TestSweepKilledPull: a pull killed (SIGKILL) in the middle of its
// downloads leaves temporary layer directories; the next command that
// locks the store removes them at once, while a concurrent live pull's
// temporaries are kept and that pull completes.
func TestSweepKilledPull(t *testing.T) {
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	dead := testkit.Image(t, imagebuild.BusyboxConfig(), randomLayer(t, "one", 3<<20), randomLayer(t, "two", 3<<20))
	live := testkit.Image(t, imagebuild.BusyboxConfig(), randomLayer(t, "three", 8<<20))
	reg.Push(t, "dead:1", dead)
	reg.Push(t, "live:1", live)
	reg.Push(t, "small:1", testkit.Image(t, imagebuild.BusyboxConfig(), testkit.Layer(t, testkit.File("s", "s\n", 0o644))))
	host := slowProxy(t, reg.URL())
	root := t.TempDir()
	diffIDs := func(img v1.Image) []string {
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		var out []string
		for _, d := range cf.RootFS.DiffIDs {
			out = append(out, d.Hex)
		}
		return out
	}

	killed := startPull(t, root, host+"/dead:1")
	require.NoError(t, killed.Process.Signal(syscall.SIGKILL))
	var ee *exec.ExitError
	require.True(t, errors.As(killed.Wait(), &ee) && !ee.Exited(), "the pull was killed")
	left := tempLayers(t, root)
	n := 0
	for _, hex := range diffIDs(dead) {
		n += left[hex]
	}
	require.NotZero(t, n, "the killed pull left temporaries %v: nothing to sweep, the test proves nothing", left)

	running := startPull(t, root, host+"/live:1")
	liveHex := diffIDs(live)[0]
	require.NotZero(t, tempLayers(t, root)[liveHex], "the live pull is writing its layer")

	// The next command: a pull of another image, at full speed; it locks
	// the store to name its image.
	s, err := Open(root)
	require.NoError(t, err)
	pull(t, s, reg.Host()+"/small:1")
	left = tempLayers(t, root)
	for _, hex := range diffIDs(dead) {
		require.Zero(t, left[hex], "a temporary of the killed pull survived: %v", left)
	}
	// 8 MiB through the slow proxy take 2.5 s: it is still writing.
	require.NotZero(t, left[liveHex], "the live pull's temporary was swept from under it")
	require.NoError(t, running.Wait(), "the live pull completes")
	img, err := s.Get(host + "/live:1")
	require.NoError(t, err)
	require.True(t, s.Layers().Has(img.Config.RootFS.DiffIDs[0]))
	require.Empty(t, tempLayers(t, root))
}

// publicDir is a fresh directory any user may walk through (t.TempDir is
// 0700, which would hide the store whatever its own modes).
func publicDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "mdk-private-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	return dir
}

// TestSetuidLayerUnreachable: an image's setuid-root binary, unpacked in
// the layer store, cannot be run (nor even reached) by another local user.
func TestSetuidLayerUnreachable(t *testing.T) {
	testkit.RequireRoot(t)
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	suid := testkit.Header(&tar.Header{Name: "bin/suid", Typeflag: tar.TypeReg, Mode: 0o4755, Uid: 0, Gid: 0}, "#!/bin/sh\nid\n")
	reg.Push(t, "suid:1", testkit.Image(t, imagebuild.BusyboxConfig(), testkit.Layer(t, suid)))
	root := filepath.Join(publicDir(t), "root")
	s, err := Open(root)
	require.NoError(t, err)
	img, _, _ := pull(t, s, reg.Host()+"/suid:1")
	bin := filepath.Join(s.Layers().Path(img.Config.RootFS.DiffIDs[0]), "bin", "suid")
	fi, err := os.Stat(bin)
	require.NoError(t, err)
	require.Equal(t, os.ModeSetuid, fi.Mode()&os.ModeSetuid, "the layer keeps its setuid bit: the store is what protects it")

	for _, p := range []string{bin, root, s.Layers().Root(), filepath.Join(root, "images", "blobs")} {
		// As nobody: execve(2) of the binary, and a directory listing.
		cmd := exec.Command(bin)
		if p != bin {
			cmd = exec.Command("/usr/bin/busybox", "ls", p)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if p == bin {
			require.ErrorIs(t, err, syscall.EACCES, "uid 65534 ran %s: %s", bin, out)
		} else {
			require.Error(t, err, "uid 65534 listed %s: %s", p, out)
			require.Contains(t, string(out), "Permission denied", p)
		}
	}
}

// TestOpenFixesOldRoot: a data root an older version made 0755 is 0700
// after the next Open.
func TestOpenFixesOldRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	dirs := []string{"", "images", "images/blobs", "images/blobs/sha256", "layers", "layers/sha256", "layers/l", "layers/locks"}
	for _, d := range dirs {
		require.NoError(t, os.MkdirAll(filepath.Join(root, d), 0o755))
		require.NoError(t, os.Chmod(filepath.Join(root, d), 0o755))
	}
	_, err := Open(root)
	require.NoError(t, err)
	for _, d := range dirs {
		fi, err := os.Stat(filepath.Join(root, d))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "%s/%s", root, d)
	}
	// And a new one is 0700 from the start.
	fresh := filepath.Join(t.TempDir(), "new")
	_, err = Open(fresh)
	require.NoError(t, err)
	for _, d := range dirs {
		fi, err := os.Stat(filepath.Join(fresh, d))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "%s/%s", fresh, d)
	}
}

// TestInvalidDigestsRefused: a malformed digest anywhere in what the
// registry serves (a diff_id, a layer or config digest in the manifest, an
// index entry) fails the pull with a clear error, stores nothing, and
// never panics (a diff_id "sha256:ab" once did: index out of range).
func TestInvalidDigestsRefused(t *testing.T) {
	layer := testkit.LayerTar(t, testkit.File("a", "a\n", 0o644))
	layerDigest := digest.FromBytes(layer)
	config := func(diffID string) []byte {
		return fmt.Appendf(nil, `{"architecture":%q,"os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%q]}}`, runtime.GOARCH, diffID)
	}
	manifest := func(cfg []byte, cfgDigest, layerDigest string) []byte {
		return fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[{"mediaType":%q,"digest":%q,"size":%d}]}`,
			ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig, cfgDigest, len(cfg), ocispec.MediaTypeImageLayer, layerDigest, len(layer))
	}
	goodCfg := config(layerDigest.String())
	goodManifest := manifest(goodCfg, digest.FromBytes(goodCfg).String(), layerDigest.String())
	tests := []struct {
		name      string
		mediaType string
		manifest  []byte
		blobs     [][]byte
		want      string // the error, after "pull HOST/bad:1: "
		serve     bool   // the registry refuses to store it: only served
	}{{
		name: "diff_id", mediaType: ocispec.MediaTypeImageManifest,
		manifest: manifest(config("sha256:ab"), digest.FromBytes(config("sha256:ab")).String(), layerDigest.String()),
		blobs:    [][]byte{config("sha256:ab"), layer},
		want:     `invalid diff_id "sha256:ab" in image config: invalid checksum digest length`,
	}, {
		name: "layer digest", mediaType: ocispec.MediaTypeImageManifest,
		manifest: manifest(goodCfg, digest.FromBytes(goodCfg).String(), "sha256:../../x"),
		blobs:    [][]byte{goodCfg, layer},
		want:     `invalid layer digest "sha256:../../x" in manifest sha256:`,
	}, {
		name: "config digest", mediaType: ocispec.MediaTypeImageManifest,
		manifest: manifest(goodCfg, "sha256:"+strings.Repeat("Z", 64), layerDigest.String()),
		blobs:    [][]byte{goodCfg, layer},
		want:     `invalid config digest "sha256:` + strings.Repeat("Z", 64) + `" in manifest sha256:`,
	}, {
		name: "index entry", mediaType: ocispec.MediaTypeImageIndex,
		manifest: fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":"sha256:%s","size":10,"platform":{"os":"linux","architecture":%q}}]}`,
			ocispec.MediaTypeImageIndex, ocispec.MediaTypeImageManifest, strings.Repeat("A", 64), runtime.GOARCH),
		want:  `invalid manifest digest "sha256:` + strings.Repeat("A", 64) + `" in index sha256:`,
		serve: true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
			if tc.serve {
				reg.ServeManifest("bad:1", tc.mediaType, tc.manifest)
			} else {
				reg.PushRaw(t, "bad:1", tc.mediaType, tc.manifest, tc.blobs...)
			}
			s := newStore(t)
			ref := reg.Host() + "/bad:1"
			_, _, err := s.Pull(context.Background(), client(t), reference.MustParse(ref), nil)
			require.ErrorIs(t, err, registry.ErrInvalidDigest)
			require.True(t, strings.HasPrefix(err.Error(), "pull "+ref+": "+tc.want), "error %q, want it to start with %q", err, "pull "+ref+": "+tc.want)
			blobs, layerDirs, refs := storeFiles(t, s)
			require.Empty(t, blobs)
			require.Empty(t, layerDirs)
			require.Zero(t, refs)
		})
	}
	// The same registry serves a good one: the fixture is not what fails.
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	reg.PushRaw(t, "good:1", ocispec.MediaTypeImageManifest, goodManifest, goodCfg, layer)
	img, _, _ := pull(t, newStore(t), reg.Host()+"/good:1")
	require.Equal(t, []digest.Digest{layerDigest}, img.Config.RootFS.DiffIDs)
}
