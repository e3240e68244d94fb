package testkit

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCheckLeaksSeesTestProcesses: scripts/check-leaks.sh counts a process
// left in a test's temporary directory, and only one that was not there
// when its snapshot was taken.
func TestCheckLeaksSeesTestProcesses(t *testing.T) {
	script, err := filepath.Abs("../../scripts/check-leaks.sh")
	require.NoError(t, err)
	snapshot := filepath.Join(t.TempDir(), "before")
	require.NoError(t, exec.Command("bash", script, "--save", snapshot).Run())

	sleeper := exec.Command("sleep", "60")
	sleeper.Dir = t.TempDir()
	require.NoError(t, sleeper.Start())
	pid := strconv.Itoa(sleeper.Process.Pid)
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	line := "process: " + pid + " sleep 60 (in a test's temporary directory)"

	out, err := exec.Command("bash", script, "--since", snapshot).CombinedOutput()
	require.Error(t, err, "check-leaks passed with a leftover sleep:\n%s", out)
	require.Contains(t, string(out), line)

	// Taken now, the snapshot has the sleep: it is not counted again.
	require.NoError(t, exec.Command("bash", script, "--save", snapshot).Run())
	out, _ = exec.Command("bash", script, "--since", snapshot).CombinedOutput()
	require.NotContains(t, string(out), "process: "+pid+" ")

	require.NoError(t, sleeper.Process.Kill())
	_ = sleeper.Wait()
	out, _ = exec.Command("bash", script).CombinedOutput()
	require.NotContains(t, string(out), "process: "+pid+" ", "a process that ended is still listed")
}
