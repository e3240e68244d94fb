package namespaces

import (
	"os"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// TestJoinNetNS: with NetNS the init enters that network namespace (here
// a first container's) instead of getting a new one: the same
// /proc/self/ns/net inode as the first container's, not the host's; and a
// path that is no namespace fails the start.
func TestJoinNetNS(t *testing.T) {
	testkit.RequireRoot(t)
	first, err := Start(Config{Namespaces: Default, Env: hostEnv, Args: []string{"sleep", "100"}}, Options{})
	require.NoError(t, err)
	t.Cleanup(func() {
		first.Signal(syscall.SIGKILL)
		first.Wait()
	})
	path := "/proc/" + strconv.Itoa(first.Pid()) + "/ns/net"
	want, err := os.Readlink(path)
	require.NoError(t, err)
	host, err := os.Readlink("/proc/self/ns/net")
	require.NoError(t, err)
	require.NotEqual(t, host, want)

	out, code := run(t, Config{Namespaces: Default, NetNS: path}, "readlink /proc/self/ns/net")
	require.Equal(t, 0, code)
	require.Equal(t, want, out, "the init did not join the first container's network namespace")

	_, err = Run(Config{Namespaces: Default, NetNS: t.TempDir(), Env: hostEnv, Args: []string{"true"}}, Options{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "setns")
}
