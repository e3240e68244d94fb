package main

import (
	"bufio"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// TestInitDiesWithRuntime: kill -KILL of the runtime, which can catch
// nothing, must not leave the container's PID 1 running as an orphan: the
// kernel sends it the parent-death signal (PR_SET_PDEATHSIG).
func TestInitDiesWithRuntime(t *testing.T) {
	testkit.RequireRoot(t)
	bin := testkit.Build(t, "minidocker/step02-namespaces")
	cmd := exec.Command(bin, "run", "--", "sh", "-c", "echo ready; exec sleep 1000")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "ready\n", line)

	// The runtime's only child is the container's PID 1 (as the host sees it).
	kids := testkit.Children(t, cmd.Process.Pid)
	require.Len(t, kids, 1, "children of the runtime")
	init := testkit.Watch(t, kids[0])

	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	if !init.Exited(10 * time.Second) {
		t.Fatalf("the container's PID 1 (host PID %d) still runs 10s after kill -KILL of its runtime", kids[0])
	}
}
