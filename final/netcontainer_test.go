//go:build linux

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNetworkContainer: --network container:NAME shares the other
// container's network namespace: the same interfaces and addresses, its
// server on 127.0.0.1, its /etc/hosts and host name; no veth of its own.
// Docker's errors for what belongs to the other container (-p,
// --hostname, --dns) and for a target that is missing or stopped. When
// the target stops, the joined container keeps running in the namespace
// (lo only, as in Docker).
func TestNetworkContainer(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	w.ok("pull", "httpd")
	web := strings.TrimSpace(w.ok("run", "-d", "--name", "web", "httpd"))
	webIP := w.inspect("web")["NetworkSettings"].(map[string]any)["IPAddress"].(string)
	require.NotEmpty(t, webIP)

	side := strings.TrimSpace(w.ok("run", "-d", "--name", "side", "--network", "container:web", "busybox", "sleep", "1000"))
	// The same interfaces and addresses, seen from inside each.
	ifaces := func(ref string) string { return w.ok("exec", ref, "ls", "/sys/class/net") }
	addrs := func(ref string) string { return w.ok("exec", ref, "ip", "addr") }
	require.Equal(t, ifaces("web"), ifaces("side"))
	require.Equal(t, addrs("web"), addrs("side"))
	require.Contains(t, addrs("side"), "inet "+webIP+"/")
	// web's server on 127.0.0.1, from the sidecar; and from a foreground run.
	require.Contains(t, w.ok("exec", "side", "wget", "-qO-", "http://127.0.0.1/"), "It works!")
	require.Contains(t, w.ok("run", "--rm", "--network", "container:web", "busybox", "wget", "-qO-", "http://localhost/"), "It works!")
	// web's host name and /etc/hosts.
	require.Equal(t, w.ok("exec", "web", "hostname"), w.ok("exec", "side", "hostname"))
	require.Equal(t, w.ok("exec", "web", "cat", "/etc/hosts"), w.ok("exec", "side", "cat", "/etc/hosts"))
	// Recorded by ID; no address of its own.
	in := w.inspect("side")
	require.Equal(t, "container:"+web, in["HostConfig"].(map[string]any)["NetworkMode"])
	require.Equal(t, "", in["NetworkSettings"].(map[string]any)["IPAddress"])

	// What belongs to the other container's network is refused at create.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-p", "8080:80"}, "conflicting options: port publishing and the container type network mode"},
		{[]string{"--hostname", "h"}, "conflicting options: hostname and the network mode"},
		{[]string{"--dns", "192.0.2.1"}, "conflicting options: dns and the network mode"},
	} {
		r := w.md(append(append([]string{"run", "--rm", "--network", "container:web"}, tc.args...), "busybox", "true")...)
		require.Equal(t, 125, r.Code, "%v: %s", tc.args, r.Stderr)
		require.Contains(t, r.Stderr, tc.want)
	}
	r := w.md("run", "--rm", "--network", "container:", "busybox", "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, "Invalid network mode: invalid container format container:<name|id>")
	// A missing target: refused at start, as dockerd does.
	r = w.md("run", "--rm", "--network", "container:nope", "busybox", "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, "joining network namespace of container: No such container: nope")

	// web stops: side runs on, in the namespace it holds, with lo alone
	// (web's veth went with web's network).
	w.ok("stop", "-t", "0", "web")
	require.Equal(t, "running", w.state("side")["Status"])
	require.Equal(t, "lo\n", ifaces("side"))
	// A stopped target: refused at start.
	w.ok("stop", "-t", "0", "side")
	r = w.md("start", "side")
	require.NotEqual(t, 0, r.Code)
	require.Contains(t, r.Stderr, "cannot join network namespace of a non running container: container web is exited")
	// web again: side joins its new namespace at its next start.
	w.ok("start", "web")
	w.ok("start", "side")
	require.Equal(t, ifaces("web"), ifaces("side"))
	require.Contains(t, w.ok("exec", "side", "wget", "-qO-", "http://127.0.0.1/"), "It works!")
	w.ok("rm", "-f", side, web)
	// Nothing left on the test's bridge.
	require.Equal(t, "", w.ok("ps", "-aq"))
}

// TestDaemonNetworkContainer: the docker CLI's --network container:
// through the daemon (HostConfig.NetworkMode "container:<id>").
func TestDaemonNetworkContainer(t *testing.T) {
	requireDocker(t)
	w := newWorld(t)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	d.dockerOK("run", "-d", "--name", "web", "httpd")
	require.Contains(t, d.dockerOK("run", "--rm", "--network", "container:web", "busybox", "wget", "-qO-", "http://127.0.0.1/"), "It works!")
	require.Equal(t, d.dockerOK("exec", "web", "ip", "addr"),
		d.dockerOK("run", "--rm", "--network", "container:web", "busybox", "ip", "addr"))
	r := d.docker("run", "--rm", "--network", "container:web", "-p", "8080:80", "busybox", "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, "conflicting options: port publishing and the container type network mode")
	d.dockerOK("rm", "-f", "web")
}
