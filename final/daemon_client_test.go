package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/require"
)

// The official Go SDK against the daemon: the statuses and messages it
// turns into its errors, the pull stream, wait conditions, a hijacked
// attach with stdin, logs that follow until the exit.
func TestDaemonGoClient(t *testing.T) {
	w := newWorld(t)
	d := startDaemon(t, w, filepath.Join(t.TempDir(), "d.sock"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cli, err := client.New(client.WithHost("unix://"+d.sock), client.WithAPIVersionNegotiation())
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })

	// Raw HTTP: unknown routes, versions, bad JSON.
	hc := d.http()
	status := func(method, path, body string) (int, string, http.Header) {
		req, _ := http.NewRequest(method, "http://d"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	code, body, h := status("GET", "/v1.43/nope", "")
	require.Equal(t, 404, code)
	require.JSONEq(t, `{"message":"page not found"}`, body)
	require.Equal(t, "1.43", h.Get("Api-Version"))
	require.Equal(t, "linux", h.Get("Ostype"))
	code, body, _ = status("GET", "/v1.99/containers/json", "")
	require.Equal(t, 400, code)
	require.JSONEq(t, `{"message":"client version 1.99 is too new. Maximum supported API version is 1.43"}`, body)
	code, _, _ = status("GET", "/v1.24/containers/json", "")
	require.Equal(t, 200, code)
	code, body, _ = status("POST", "/containers/create", "{not json")
	require.Equal(t, 400, code)
	require.Contains(t, body, `"message":"invalid JSON`)
	code, _, _ = status("POST", "/containers/create", `{"Image":"`+strings.Repeat("x", 2<<20)+`"}`)
	require.Equal(t, 413, code)
	code, body, h = status("HEAD", "/_ping", "")
	require.Equal(t, 200, code)
	require.Equal(t, "", body)
	require.Equal(t, "1.43", h.Get("Api-Version"))

	ping, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	require.NoError(t, err)
	require.Equal(t, "1.43", ping.APIVersion)

	// No such image: 404 with Docker's words (the CLI pulls on it).
	_, err = cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: &container.Config{Image: "busybox"}})
	require.True(t, cerrdefs.IsNotFound(err), "%v", err)
	require.Contains(t, err.Error(), "No such image: busybox")

	// The pull's stream: progress lines, then the status.
	pull, err := cli.ImagePull(ctx, "busybox", client.ImagePullOptions{})
	require.NoError(t, err)
	var statuses []string
	progress := 0
	for m, err := range pull.JSONMessages(ctx) {
		require.NoError(t, err)
		require.Nil(t, m.Error)
		statuses = append(statuses, m.Status)
		if m.Progress != nil && m.Progress.Total > 0 {
			progress++
		}
	}
	require.Contains(t, statuses, "Pulling from library/busybox")
	require.Contains(t, statuses, "Status: Downloaded newer image for busybox:latest")
	require.Positive(t, progress, "no progressDetail in %v", statuses)
	// A pull that fails before any line is a real HTTP error.
	_, err = cli.ImagePull(ctx, "nosuchimage", client.ImagePullOptions{})
	if err == nil {
		pr, _ := cli.ImagePull(ctx, "nosuchimage", client.ImagePullOptions{})
		err = pr.Wait(ctx)
	}
	require.Error(t, err)

	_, err = cli.ContainerInspect(ctx, "nope", client.ContainerInspectOptions{})
	require.True(t, cerrdefs.IsNotFound(err), "%v", err)
	require.Contains(t, err.Error(), "No such container: nope")
	_, err = cli.ImageInspect(ctx, "nosuch:1")
	require.True(t, cerrdefs.IsNotFound(err), "%v", err)

	// A hijacked attach with stdin, before the start; wait next-exit
	// before the start too, as docker run does.
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "cat",
		Config: &container.Config{Image: "busybox", Cmd: []string{"sh", "-c", "cat; echo bye >&2; exit 7"},
			OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true}})
	require.NoError(t, err)
	catID := created.ID
	_, err = cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "cat", Config: &container.Config{Image: "busybox"}})
	require.True(t, cerrdefs.IsConflict(err), "%v", err)
	require.Contains(t, err.Error(), `The container name "/cat" is already in use`)
	att, err := cli.ContainerAttach(ctx, created.ID, client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	require.NoError(t, err)
	defer att.Close()
	wait := cli.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNextExit})
	_, err = cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{})
	require.NoError(t, err)
	_, err = att.Conn.Write([]byte("hello over the hijack\n"))
	require.NoError(t, err)
	require.NoError(t, att.CloseWrite()) // stdin's EOF: cat ends
	var stdout, stderr bytes.Buffer
	_, err = stdcopy.StdCopy(&stdout, &stderr, att.Reader)
	require.NoError(t, err)
	require.Equal(t, "hello over the hijack\n", stdout.String())
	require.Equal(t, "bye\n", stderr.String())
	select {
	case res := <-wait.Result:
		require.Equal(t, int64(7), res.StatusCode)
	case err := <-wait.Error:
		t.Fatal(err)
	}
	// not-running on a stopped container answers at once.
	wait = cli.ContainerWait(ctx, "cat", client.ContainerWaitOptions{})
	select {
	case res := <-wait.Result:
		require.Equal(t, int64(7), res.StatusCode)
	case err := <-wait.Error:
		t.Fatal(err)
	}

	// An attach to a running -i container: our input reaches it, and our
	// CloseWrite ends only our input, not the container's stdin.
	_, err = cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "echoer",
		Config: &container.Config{Image: "busybox", Cmd: []string{"sh", "-c", "while read l; do echo got $l; done; echo stdin-closed"}, OpenStdin: true}})
	require.NoError(t, err)
	_, err = cli.ContainerStart(ctx, "echoer", client.ContainerStartOptions{})
	require.NoError(t, err)
	for round := range 2 {
		att, err := cli.ContainerAttach(ctx, "echoer", client.ContainerAttachOptions{Stream: true, Stdin: true, Stdout: true})
		require.NoError(t, err)
		fmt.Fprintf(att.Conn, "r%d\n", round)
		var got bytes.Buffer
		for !strings.Contains(got.String(), fmt.Sprintf("got r%d\n", round)) {
			var hdr [8]byte
			_, err := io.ReadFull(att.Reader, hdr[:])
			require.NoError(t, err, "round %d: %q", round, got.String())
			require.Equal(t, byte(1), hdr[0])
			_, err = io.CopyN(&got, att.Reader, int64(binary.BigEndian.Uint32(hdr[4:])))
			require.NoError(t, err)
		}
		require.NoError(t, att.CloseWrite())
		att.Close()
	}
	in, err := cli.ContainerInspect(ctx, "echoer", client.ContainerInspectOptions{})
	require.NoError(t, err)
	require.True(t, in.Container.State.Running, "a detaching client closed the container's stdin")
	_, err = cli.ContainerRemove(ctx, "echoer", client.ContainerRemoveOptions{Force: true})
	require.NoError(t, err)

	// Logs follow: they end when the container exits.
	created, err = cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "talker",
		Config: &container.Config{Image: "busybox", Cmd: []string{"sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.2; done"}}})
	require.NoError(t, err)
	_, err = cli.ContainerStart(ctx, "talker", client.ContainerStartOptions{})
	require.NoError(t, err)
	logs, err := cli.ContainerLogs(ctx, "talker", client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	require.NoError(t, err)
	stdout.Reset()
	start := time.Now()
	_, err = stdcopy.StdCopy(&stdout, io.Discard, logs)
	require.NoError(t, err)
	logs.Close()
	require.Equal(t, "line 1\nline 2\nline 3\n", stdout.String())
	require.Less(t, time.Since(start), 10*time.Second)

	// A running container: 304 on start, 409 on rm, 409 on rmi of its
	// image; kill of a stopped one is 409.
	created, err = cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "sleeper",
		Config: &container.Config{Image: "busybox", Cmd: []string{"sleep", "60"}}})
	require.NoError(t, err)
	_, err = cli.ContainerStart(ctx, "sleeper", client.ContainerStartOptions{})
	require.NoError(t, err)
	code, _, _ = status("POST", "/containers/sleeper/start", "")
	require.Equal(t, 304, code)
	_, err = cli.ContainerRemove(ctx, "sleeper", client.ContainerRemoveOptions{})
	require.True(t, cerrdefs.IsConflict(err), "%v", err)
	require.Contains(t, err.Error(), "Stop the container before attempting removal or force remove")
	_, err = cli.ImageRemove(ctx, "busybox", client.ImageRemoveOptions{})
	require.True(t, cerrdefs.IsConflict(err), "%v", err)
	require.Contains(t, err.Error(), "conflict: unable to")
	_, err = cli.ContainerKill(ctx, "talker", client.ContainerKillOptions{})
	require.True(t, cerrdefs.IsConflict(err), "%v", err)
	require.Contains(t, err.Error(), "is not running")
	// removed: the answer comes once rm -f took it away.
	wait = cli.ContainerWait(ctx, "sleeper", client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	_, err = cli.ContainerRemove(ctx, "sleeper", client.ContainerRemoveOptions{Force: true})
	require.NoError(t, err)
	select {
	case res := <-wait.Result:
		require.Equal(t, int64(137), res.StatusCode)
	case err := <-wait.Error:
		t.Fatal(err)
	}
	// Filters: by name, by status, by ID prefix; limit.
	list := func(query string) []string {
		code, body, _ := status("GET", "/v1.43/containers/json?"+query, "")
		require.Equal(t, 200, code, body)
		return regexp.MustCompile(`"Names":\["/([a-z]+)"\]`).FindAllString(body, -1)
	}
	require.Len(t, list("all=1"), 2)
	require.Equal(t, []string{`"Names":["/talker"]`}, list(`all=1&filters={"name":{"talk":true}}`))
	require.Equal(t, []string{`"Names":["/cat"]`}, list(`filters={"status":["exited"],"id":["`+catID[:8]+`"]}`))
	require.Len(t, list("limit=1"), 1)
	require.Empty(t, list(""), "none runs")
	code, body, _ = status("GET", `/containers/json?filters={"before":["x"]}`, "")
	require.Equal(t, 400, code, body)

	// removed, on a container that never starts: answered by its rm.
	created, err = cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: "never", Config: &container.Config{Image: "busybox"}})
	require.NoError(t, err)
	wait = cli.ContainerWait(ctx, "never", client.ContainerWaitOptions{Condition: container.WaitConditionRemoved})
	_, err = cli.ContainerRemove(ctx, "never", client.ContainerRemoveOptions{})
	require.NoError(t, err)
	select {
	case res := <-wait.Result:
		require.Equal(t, int64(0), res.StatusCode)
	case err := <-wait.Error:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatal("wait removed: no answer after the rm")
	}

	// Search: the registry's catalog, as minidocker search does.
	host := strings.TrimPrefix(w.registry.URL(), "http://")
	code, body, _ = status("GET", "/v1.43/images/search?term="+host+"/busy&limit=5", "")
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `"name":"`+host+`/library/busybox"`)
	require.NotContains(t, body, "httpd")
	if _, err := exec.LookPath("docker"); err == nil {
		require.Contains(t, d.dockerOK("search", host+"/library"), host+"/library/httpd")
	}

	for _, n := range []string{"cat", "talker"} {
		_, err = cli.ContainerRemove(ctx, n, client.ContainerRemoveOptions{})
		require.NoError(t, err)
	}
	_, err = cli.ImageRemove(ctx, "busybox", client.ImageRemoveOptions{})
	require.NoError(t, err)
}
