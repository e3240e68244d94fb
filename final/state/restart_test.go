package state

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A restarting container is inspected as Docker shows it: running (stop,
// kill and rm treat it so) and restarting, with no PID, and its count.
func TestInspectRestarting(t *testing.T) {
	c := &Container{ID: "4f2c", Name: "loop"}
	c.Config.RestartPolicy = RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}
	c.State = State{Status: Restarting, Restarting: true, RestartCount: 3, ExitCode: 2}
	in := c.Inspect()
	require.Equal(t, InspectState{Status: Restarting, Running: true, Restarting: true, ExitCode: 2}, in.State)
	require.Equal(t, 3, in.RestartCount)
	require.Equal(t, RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}, in.HostConfig.RestartPolicy)

	c.State = State{Status: Exited}
	c.Config.RestartPolicy = RestartPolicy{}
	in = c.Inspect()
	require.False(t, in.State.Running)
	require.Equal(t, RestartPolicy{Name: "no"}, in.HostConfig.RestartPolicy, "dockerd's default")
}
