package cli

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/final/errdefs"
)

// inOrder reports in the order of i while the work overlaps, never more
// than limit at once.
func TestInOrder(t *testing.T) {
	const n, limit = 20, 4
	var running, peak atomic.Int32
	var got []int
	start := time.Now()
	inOrder(n, limit, func(i int) int {
		now := running.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		// The later ones finish first.
		time.Sleep(time.Duration(n-i) * 2 * time.Millisecond)
		running.Add(-1)
		return i
	}, func(i int) { got = append(got, i) })
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	require.Equal(t, want, got)
	require.Equal(t, int32(limit), peak.Load(), "at most limit at once, and that many")
	// One after another would take sum(2..40 ms) = 420 ms.
	require.Less(t, time.Since(start), 300*time.Millisecond)
}

// eachArg prints each argument's outcome in order; a warning is printed
// but does not fail the command.
func TestEachArg(t *testing.T) {
	var out, errOut bytes.Buffer
	a := &app{stdout: &out, stderr: &errOut}
	err := a.eachArg([]string{"a", "gone", "b", "bad", "c"}, 3, func(arg string) ([]string, error) {
		switch arg {
		case "gone":
			return nil, warning{errdefs.NotFound(errors.New("No such container: gone"))}
		case "bad":
			return nil, errors.New("it broke")
		}
		return []string{arg}, nil
	})
	require.Equal(t, "a\nb\nc\n", out.String())
	require.Equal(t, "Error: No such container: gone\nError: it broke\n", errOut.String())
	code, msg := exitStatus(err)
	require.Equal(t, 1, code)
	require.Empty(t, msg)

	out.Reset()
	errOut.Reset()
	err = a.eachArg([]string{"x", "gone"}, 3, func(arg string) ([]string, error) {
		if arg == "gone" {
			return nil, warning{fmt.Errorf("No such container: %s", arg)}
		}
		return []string{arg}, nil
	})
	require.NoError(t, err, "only a warning: success")
	require.Equal(t, "x\n", out.String())
	require.Equal(t, "Error: No such container: gone\n", errOut.String())
}
