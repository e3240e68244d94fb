package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunDNS: --dns reaches the container's /etc/resolv.conf, in place of
// the host's nameservers, and stays with the container: a start builds the
// file again from the container's record.
func TestRunDNS(t *testing.T) {
	w := newWorld(t)
	nameservers := func(resolv string) []string {
		var ns []string
		for line := range strings.Lines(resolv) {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "nameserver" {
				ns = append(ns, f[1])
			}
		}
		return ns
	}
	require.NotContains(t, nameservers(w.ok("run", "--rm", "busybox", "cat", "/etc/resolv.conf")), "1.2.3.4",
		"without --dns: the host's servers (or the fallback)")

	out := w.ok("run", "--rm", "--dns", "1.2.3.4", "--dns", "5.6.7.8", "busybox", "cat", "/etc/resolv.conf")
	require.Equal(t, []string{"1.2.3.4", "5.6.7.8"}, nameservers(out), "resolv.conf:\n%s", out)

	out = w.ok("run", "--name", "dns", "--dns", "1.2.3.4", "busybox", "cat", "/etc/resolv.conf")
	require.Equal(t, []string{"1.2.3.4"}, nameservers(out))
	require.Equal(t, []any{"1.2.3.4"}, w.inspect("dns")["HostConfig"].(map[string]any)["Dns"])
	require.Equal(t, "dns\n", w.ok("start", "dns"))
	eventually(t, "the second run's output in the log", func() bool {
		return strings.Count(w.ok("logs", "dns"), "nameserver 1.2.3.4\n") == 2
	})
	require.Equal(t, []string{"1.2.3.4", "1.2.3.4"}, nameservers(w.ok("logs", "dns")), "the start kept --dns")

	r := w.md("run", "--rm", "--dns", "dns.example", "busybox", "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, "dns.example is not an ip address")
}
