//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// completions are the words `minidocker __complete ARGS...` offers (the
// shells' scripts ask the binary so), without cobra's last line, the
// directive.
func completions(t *testing.T, w *world, args ...string) []string {
	t.Helper()
	out := w.ok(append([]string{"__complete"}, args...)...)
	var words []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, ":") {
			words = append(words, l)
		}
	}
	return words
}

// TestCompletion: the shells' scripts are cobra's, and container, image
// and volume names complete from the store: start offers the stopped
// containers, stop the running ones, rm all, run the images.
func TestCompletion(t *testing.T) {
	w := newWorld(t)
	require.Contains(t, w.ok("completion", "bash"), "__start_minidocker")
	require.Contains(t, w.ok("completion", "zsh"), "#compdef minidocker")
	require.Contains(t, w.ok("completion", "fish"), "complete -c minidocker")

	require.Empty(t, completions(t, w, "start", ""), "no container yet")
	w.ok("pull", "busybox")
	w.ok("run", "-d", "--name", "alpha", "--network", "none", "busybox", "sleep", "1000")
	w.ok("run", "--name", "beta", "--network", "none", "busybox", "true")
	w.ok("run", "--name", "bravo", "--network", "none", "busybox", "true")
	w.ok("volume", "create", "vol1")

	require.Equal(t, []string{"beta", "bravo"}, completions(t, w, "start", ""))
	require.Equal(t, []string{"bravo"}, completions(t, w, "start", "br"))
	require.Equal(t, []string{"bravo"}, completions(t, w, "start", "beta", ""), "not twice")
	require.Equal(t, []string{"alpha"}, completions(t, w, "stop", ""))
	require.Equal(t, []string{"alpha"}, completions(t, w, "exec", ""))
	require.Empty(t, completions(t, w, "exec", "alpha", ""), "exec's command is not a container")
	require.Equal(t, []string{"alpha", "beta", "bravo"}, completions(t, w, "rm", ""))
	require.Equal(t, []string{"busybox:latest"}, completions(t, w, "run", ""))
	require.Equal(t, []string{"vol1"}, completions(t, w, "volume", "rm", ""))

	// A root that cannot be read: no words, no error.
	r := w.md("--root", "/proc/version", "__complete", "start", "")
	require.Equal(t, 0, r.Code, r.Stderr)
	require.NotContains(t, r.Stdout, "alpha")
}
