package layers

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"minidocker/internal/testkit"
)

// benchTar is an uncompressed layer of n files of size bytes each, in 100
// directories: the shape of a real layer (many small files).
func benchTar(b *testing.B, n, size int) []byte {
	content := strings.Repeat("x", size)
	var entries []testkit.Entry
	for d := range 100 {
		entries = append(entries, testkit.Dir(fmt.Sprintf("d%03d", d), 0o755))
	}
	for i := range n {
		entries = append(entries, testkit.File(fmt.Sprintf("d%03d/f%05d", i%100, i), content, 0o644))
	}
	return testkit.LayerTar(b, entries...)
}

func benchDir(b *testing.B) string {
	base := os.Getenv("MDK_BENCH_DIR") // e.g. /var/tmp for ext4; default tmpfs
	if base == "" {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "mdk-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// BenchmarkApply extracts a 54 MB layer of 5,000 files of 10 kB in 100
// directories (MB/s in the output) into /dev/shm, or into $MDK_BENCH_DIR
// (e.g. /var/tmp for ext4). To compare with GNU tar, write the same layer
// with MDK_BENCH_TAR=/dev/shm/layer.tar and time its extraction:
//
//	MDK_BENCH_TAR=/dev/shm/layer.tar go test -run - -bench Apply ./step03-rootfs-layers/layers
//	d=$(mktemp -d /dev/shm/x.XXXX); hyperfine --prepare "rm -rf $d; mkdir $d" \
//	    "tar -xf /dev/shm/layer.tar -C $d --same-owner -p"
func BenchmarkApply(b *testing.B) {
	testkit.RequireRoot(b)
	tr := benchTar(b, 5000, 10_000)
	if p := os.Getenv("MDK_BENCH_TAR"); p != "" {
		if err := os.WriteFile(p, tr, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	base := benchDir(b)
	b.SetBytes(int64(len(tr)))
	i := 0
	for b.Loop() {
		dir := filepath.Join(base, fmt.Sprint(i))
		i++
		os.Mkdir(dir, 0o755)
		if _, err := Apply(dir, bytes.NewReader(tr)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

// BenchmarkMount is the container filesystem set-up: one overlay mount
// over an image's layers, for a small and a large image. Overlay makes it
// independent of the image's size.
func BenchmarkMount(b *testing.B) {
	testkit.RequireRoot(b)
	for _, tc := range []struct {
		name        string
		files, size int
	}{{"10MB", 1000, 10_000}, {"500MB", 5000, 100_000}} {
		b.Run(tc.name, func(b *testing.B) {
			base := benchDir(b)
			s, err := NewStore(filepath.Join(base, "layers"))
			if err != nil {
				b.Fatal(err)
			}
			tr := benchTar(b, tc.files, tc.size)
			id := digest.FromBytes(tr)
			if _, err := s.Unpack(id, bytes.NewReader(tr)); err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				d := filepath.Join(base, fmt.Sprint(i))
				i++
				for _, sub := range []string{"m", "u", "w"} {
					os.MkdirAll(filepath.Join(d, sub), 0o755)
				}
				if err := s.Mount(filepath.Join(d, "m"), []digest.Digest{id}, filepath.Join(d, "u"), filepath.Join(d, "w")); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				unix.Unmount(filepath.Join(d, "m"), unix.MNT_DETACH)
				b.StartTimer()
			}
		})
	}
}
