//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// throttleDisk makes the kernel count block I/O on the disk under dir in
// cgroup v1's blkio.throttle.io_service_bytes: since Linux 6.x it counts
// only on a disk that has a throttle rule in some cgroup. The rule is a
// limit nobody reaches (1 TiB/s) in a blkio cgroup of the test's own,
// both removed at the cleanup. It reports whether the rule is in place (a
// host without v1 blkio needs none: v2's io.stat counts everything).
func throttleDisk(t *testing.T, dir string) bool {
	t.Helper()
	var st unix.Stat_t
	require.NoError(t, unix.Stat(dir, &st))
	dev := fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	// A partition's rules go on its disk.
	if _, err := os.Stat("/sys/dev/block/" + dev + "/partition"); err == nil {
		b, err := os.ReadFile("/sys/dev/block/" + dev + "/../dev")
		require.NoError(t, err)
		dev = strings.TrimSpace(string(b))
	}
	if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device"); err != nil {
		return false
	}
	cg := "/sys/fs/cgroup/blkio/mdk-test-throttle-" + filepath.Base(filepath.Dir(dir))
	require.NoError(t, os.Mkdir(cg, 0o755))
	t.Cleanup(func() {
		for _, f := range []string{"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device"} {
			os.WriteFile(filepath.Join(cg, f), []byte(dev+" 0"), 0o644)
		}
		if err := os.Remove(cg); err != nil {
			t.Errorf("remove the test's blkio cgroup: %v", err)
		}
	})
	for _, f := range []string{"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device"} {
		if err := os.WriteFile(filepath.Join(cg, f), []byte(dev+" 1099511627776"), 0o644); err != nil {
			t.Logf("no throttle rule on %s (%v): only the counters' order is checked", dev, err)
			return false
		}
	}
	return true
}

var blockIO = regexp.MustCompile(`([0-9.]+)(B|kB|MB|GB) / ([0-9.]+)(B|kB|MB|GB)`)

// blockBytes reads the BLOCK I/O cell of a stats row, "4.19MB / 4.19MB",
// as bytes: the row's last such cell (NET I/O is the one before).
func blockBytes(t *testing.T, row string) (read, write float64) {
	t.Helper()
	all := blockIO.FindAllStringSubmatch(row, -1)
	require.NotEmpty(t, all, "no BLOCK I/O in %q", row)
	m := all[len(all)-1]
	scale := map[string]float64{"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}
	r, _ := strconv.ParseFloat(m[1], 64)
	w, _ := strconv.ParseFloat(m[3], 64)
	return r * scale[m[2]], w * scale[m[4]]
}

// TestStatsBlockIO: docker stats' BLOCK I/O is the container's cgroup
// counters: 4 MiB written and read back with O_DIRECT (past the page
// cache) on a disk show as about 4.19MB each way, in minidocker stats
// and in the docker CLI's stats through the daemon; the counters never go
// back.
func TestStatsBlockIO(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	w.ok("pull", "busybox")
	data := t.TempDir() // on the disk: /tmp, not tmpfs
	counted := throttleDisk(t, data)
	w.ok("run", "-d", "--name", "io", "--network", "none", "-v", data+":/data", "busybox", "sh", "-c",
		"while [ ! -e /data/go ]; do sleep 0.1; done; dd if=/dev/zero of=/data/f bs=64k count=64 oflag=direct && "+
			"dd if=/data/f of=/dev/null bs=64k iflag=direct && touch /data/done; exec sleep 1000")
	row := func() string {
		for _, l := range strings.Split(w.ok("stats", "--no-stream", "io"), "\n") {
			if strings.Contains(l, " io ") {
				return l
			}
		}
		t.Fatal("no row for io")
		return ""
	}
	r0, w0 := blockBytes(t, row())
	require.NoError(t, os.WriteFile(filepath.Join(data, "go"), nil, 0o644))
	eventually(t, "the container's I/O", func() bool { _, err := os.Stat(filepath.Join(data, "done")); return err == nil })
	r1, w1 := blockBytes(t, row())
	require.GreaterOrEqual(t, r1, r0, "read bytes went back")
	require.GreaterOrEqual(t, w1, w0, "written bytes went back")
	if !counted {
		return
	}
	require.GreaterOrEqual(t, w1-w0, 4.1e6, "4 MiB written with O_DIRECT")
	require.GreaterOrEqual(t, r1-r0, 4.1e6, "4 MiB read with O_DIRECT")

	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	r2, w2 := blockBytes(t, d.dockerOK("stats", "--no-stream", "--format", "{{.BlockIO}}", "io"))
	require.GreaterOrEqual(t, r2, r1, "the docker CLI's read bytes")
	require.GreaterOrEqual(t, w2, w1, "the docker CLI's written bytes")
	w.ok("rm", "-f", "io")
}
