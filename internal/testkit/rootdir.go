package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BusyboxRoot makes a directory with /bin/busybox, its applets and an
// /etc/passwd with root and nobody: the smallest root filesystem that runs
// sh, for tests that start a container on a plain directory (step 3's
// rootfs.Config{Root: dir}) rather than on an image.
func BusyboxRoot(t testing.TB) string {
	t.Helper()
	_, err := os.Stat("/bin/busybox")
	RequireFeature(t, err == nil, "/bin/busybox (Debian's busybox-static)")
	dir := t.TempDir()
	for _, d := range []string{"bin", "etc"} {
		fatalIf(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	data, err := os.ReadFile("/bin/busybox")
	fatalIf(t, err)
	fatalIf(t, os.WriteFile(filepath.Join(dir, "bin/busybox"), data, 0o755))
	out, err := exec.Command("/bin/busybox", "--list").Output()
	fatalIf(t, err)
	for _, applet := range strings.Fields(string(out)) {
		if applet != "busybox" {
			fatalIf(t, os.Symlink("busybox", filepath.Join(dir, "bin", applet)))
		}
	}
	fatalIf(t, os.WriteFile(filepath.Join(dir, "etc/passwd"),
		[]byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"), 0o644))
	return dir
}
