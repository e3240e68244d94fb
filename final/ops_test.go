package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Commands with many containers: rm -f of ten running containers in one
// command removes them all and prints them in argument order; a name that
// is not there in the middle gets docker's error line, and rm -f still
// succeeds (docker rm -f since 20.10); rm without -f fails for it but
// removes the others.
func TestManyAtOnceRemove(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	sleep := uniqueSleep()
	var names, ids []string
	for i := range 10 {
		name := fmt.Sprintf("many%d", i)
		names = append(names, name)
		ids = append(ids, strings.TrimSpace(w.ok(append([]string{"run", "-d", "--network", "none", "--name", name, "busybox"}, sleep...)...)))
	}
	require.Len(t, processesRunning(t, sleep), 10)

	args := append(append(append([]string{"rm", "-f"}, names[:5]...), "nope"), names[5:]...)
	r := w.md(args...)
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, strings.Join(names, "\n")+"\n", r.Stdout, "in argument order")
	require.Equal(t, "Error: No such container: nope\n", r.Stderr)
	require.Empty(t, w.ok("ps", "-aq"))
	require.Empty(t, processesRunning(t, sleep))
	for _, id := range ids {
		require.Empty(t, monitorsOf(t, w.root, id))
		require.Empty(t, leftOnHost(t, w.root, id))
	}

	// Without -f a missing name fails the command, after the others went.
	for _, name := range []string{"a1", "a2", "a3"} {
		w.ok("run", "--network", "none", "--name", name, "busybox", "true")
	}
	r = w.md("rm", "a1", "nope", "a2", "a3")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "a1\na2\na3\n", r.Stdout)
	require.Equal(t, "Error: No such container: nope\n", r.Stderr)
	require.Empty(t, w.ok("ps", "-aq"))
}

// stop of several containers that ignore SIGTERM: each waits its grace
// period, all at once (one after another would take 4 × 2 s); the missing
// one fails the command. kill and start of several.
func TestManyAtOnceStopKillStart(t *testing.T) {
	w := newWorld(t)
	w.ok("pull", "busybox")
	sleep := uniqueSleep()
	names := []string{"s0", "s1", "s2", "s3"}
	for _, name := range names {
		// sleep as PID 1: the kernel drops SIGTERM, which it does not handle.
		w.ok(append([]string{"run", "-d", "--network", "none", "--name", name, "busybox"}, sleep...)...)
	}
	start := time.Now()
	r := w.md("stop", "-t", "2", "s0", "s1", "nope", "s2", "s3")
	took := time.Since(start)
	require.Equal(t, 1, r.Code)
	require.Equal(t, "s0\ns1\ns2\ns3\n", r.Stdout)
	require.Equal(t, "Error: No such container: nope\n", r.Stderr)
	require.GreaterOrEqual(t, took, 2*time.Second, "the grace period was waited for")
	require.Less(t, took, 6*time.Second, "the four waited at once")
	for _, name := range names {
		st := w.state(name)
		require.Equal(t, "exited", st["Status"], name)
		require.Equal(t, 137.0, st["ExitCode"], name)
	}
	require.Empty(t, processesRunning(t, sleep))

	require.Equal(t, "s3\ns2\ns1\ns0\n", w.ok("start", "s3", "s2", "s1", "s0"))
	require.Len(t, processesRunning(t, sleep), 4)
	for _, name := range names {
		require.Equal(t, "running", w.state(name)["Status"], name)
	}
	r = w.md("kill", "s1", "s0", "nope", "s3", "s2")
	require.Equal(t, 1, r.Code)
	require.Equal(t, "s1\ns0\ns3\ns2\n", r.Stdout)
	require.Equal(t, "Error: No such container: nope\n", r.Stderr)
	for _, name := range names {
		eventually(t, name+" exited", func() bool { return w.state(name)["Status"] == "exited" })
	}
	require.Empty(t, processesRunning(t, sleep))
	require.Equal(t, "s0\ns1\ns2\ns3\n", w.ok("rm", "s0", "s1", "s2", "s3"))
}

// pull -q prints the full reference and nothing else; images --digests
// shows the digest the registry gave, the one inspect's RepoDigests has.
func TestPullQuietImagesDigests(t *testing.T) {
	w := newWorld(t)
	r := w.md("pull", "-q", "busybox")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "docker.io/library/busybox:latest\n", r.Stdout)
	require.Empty(t, r.Stderr)
	require.Equal(t, "docker.io/library/busybox:latest\n", w.ok("pull", "--quiet", "busybox:latest"), "up to date: the same")

	digests := w.inspect("busybox")["RepoDigests"].([]any)
	require.Len(t, digests, 1)
	repoDigest := digests[0].(string)
	require.Regexp(t, `^busybox@sha256:[0-9a-f]{64}$`, repoDigest)
	dgst := strings.TrimPrefix(repoDigest, "busybox@")
	id := strings.TrimSpace(w.ok("images", "-q"))

	require.Equal(t, "docker.io/library/busybox@"+dgst+"\n", w.ok("pull", "-q", "busybox@"+dgst), "by digest")

	out := w.ok("images", "--digests")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 2, "%s", out)
	require.Regexp(t, `^REPOSITORY   TAG       DIGEST {2,}IMAGE ID       CREATED {2,}SIZE$`, lines[0])
	require.Regexp(t, `^busybox      latest    `+regexp.QuoteMeta(dgst)+`   `+id+`   .+ ago   [0-9.]+[kM]B$`, lines[1])
	// Without --digests, no DIGEST column.
	require.Regexp(t, `^REPOSITORY   TAG       IMAGE ID       CREATED {2,}SIZE\nbusybox      latest    `+id+`   `, w.ok("images"))

	// A pull that fails prints its error only.
	r = w.md("pull", "-q", "nosuchimage")
	require.Equal(t, 1, r.Code)
	require.Empty(t, r.Stdout)
	require.Contains(t, r.Stderr, "Error: ")
}
