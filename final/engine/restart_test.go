package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/step01-process/process"
)

func TestParseRestartPolicy(t *testing.T) {
	tests := []struct {
		in      string
		want    state.RestartPolicy
		wantErr string
	}{
		{in: "", want: state.RestartPolicy{}},
		{in: "no", want: state.RestartPolicy{Name: "no"}},
		{in: "always", want: state.RestartPolicy{Name: "always"}},
		{in: "unless-stopped", want: state.RestartPolicy{Name: "unless-stopped"}},
		{in: "on-failure", want: state.RestartPolicy{Name: "on-failure"}},
		{in: "on-failure:3", want: state.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}},
		{in: "always:3", wantErr: "maximum retry count cannot be used with restart policy 'always'"},
		{in: "unless-stopped:1", wantErr: "maximum retry count cannot be used with restart policy 'unless-stopped'"},
		{in: "on-failure:x", wantErr: "invalid restart policy format: maximum retry count must be an integer"},
		{in: "on-failure:-1", wantErr: "maximum retry count cannot be negative"},
		{in: "on-failure:1:2", wantErr: "invalid restart policy format"},
		{in: ":1", wantErr: "invalid restart policy format"},
		{in: "sometimes", wantErr: "invalid restart policy 'sometimes'"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseRestartPolicy(tc.in)
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				require.True(t, errdefs.IsInvalidParameter(err), "kind of %v", err)
				return
			}
			require.NoError(t, err)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseRestartPolicy(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// Docker's back-off: 100 ms, doubling, at most a minute; back to 100 ms
// after a run of 10 s or more.
func TestNextDelay(t *testing.T) {
	var d time.Duration
	var got []time.Duration
	for range 12 {
		d = nextDelay(d, time.Second)
		got = append(got, d)
	}
	ms := time.Millisecond
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 6400 * ms, 12800 * ms,
		25600 * ms, 51200 * ms, time.Minute, time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("nextDelay mismatch (-want +got):\n%s", diff)
	}
	require.Equal(t, 100*ms, nextDelay(51200*ms, 10*time.Second), "after 10 s up")
}

func TestShouldRestart(t *testing.T) {
	ctr := func(name string, max, count int, mod func(*state.Container)) *state.Container {
		c := &state.Container{Config: state.Config{RestartPolicy: state.RestartPolicy{Name: name, MaximumRetryCount: max}}}
		c.State.RestartCount = count
		if mod != nil {
			mod(c)
		}
		return c
	}
	stopped := func(c *state.Container) { c.State.ManuallyStopped = true }
	tests := []struct {
		name string
		c    *state.Container
		code int
		want bool
	}{
		{"no policy", ctr("", 0, 0, nil), 1, false},
		{"no", ctr("no", 0, 0, nil), 1, false},
		{"always on success", ctr("always", 0, 7, nil), 0, true},
		{"unless-stopped on failure", ctr("unless-stopped", 0, 0, nil), 3, true},
		{"on-failure on success", ctr("on-failure", 0, 0, nil), 0, false},
		{"on-failure unbounded", ctr("on-failure", 0, 100, nil), 1, true},
		{"on-failure:2 after 1", ctr("on-failure", 2, 1, nil), 1, true},
		{"on-failure:2 after 2", ctr("on-failure", 2, 2, nil), 1, false},
		{"always stopped by a user", ctr("always", 0, 0, stopped), 137, false},
		{"always being removed", ctr("always", 0, 0, func(c *state.Container) { c.State.Removing = &process.Identity{Pid: 1} }), 137, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, shouldRestart(tc.c, tc.code))
		})
	}
}

// What start --all-restartable (and the daemon at its start) brings back.
func TestRestartable(t *testing.T) {
	ctr := func(name string, code int, stopped bool) *state.Container {
		c := &state.Container{Config: state.Config{RestartPolicy: state.RestartPolicy{Name: name}}}
		c.State.Status, c.State.ExitCode, c.State.ManuallyStopped = state.Exited, code, stopped
		return c
	}
	tests := []struct {
		name string
		c    *state.Container
		want bool
	}{
		{"always", ctr("always", 255, false), true},
		{"always, stopped by a user", ctr("always", 137, true), true},
		{"unless-stopped", ctr("unless-stopped", 255, false), true},
		{"unless-stopped, stopped by a user", ctr("unless-stopped", 137, true), false},
		{"on-failure after a failure", ctr("on-failure", 255, false), true},
		{"on-failure after success", ctr("on-failure", 0, false), false},
		{"no", ctr("no", 255, false), false},
		{"never started", func() *state.Container { c := ctr("always", 0, false); c.State.Status = state.Created; return c }(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, restartable(tc.c))
		})
	}
}
