package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// TestDaemonTCPOnlyWhenAsked: -H tcp://127.0.0.1:PORT serves the API there,
// with dockerd's warning that anyone reaching the port is root here.
func TestDaemonTCPOnlyWhenAsked(t *testing.T) {
	w := newWorld(t)
	port := testkit.FreePort(t)
	cmd := exec.Command(w.bin, "daemon", "-H", fmt.Sprintf("tcp://127.0.0.1:%d", port))
	cmd.Env = append(os.Environ(), w.env...)
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	eventually(t, "the daemon's /_ping on TCP", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/_ping", port))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200 && resp.Header.Get("Api-Version") != ""
	})
	require.True(t, strings.Contains(log.String(), "Binding to IP address without --tlsverify is insecure"), "no warning in: %s", log.String())

	r := w.md("daemon", "-H", "udp://127.0.0.1:1")
	require.NotEqual(t, 0, r.Code)
	require.Contains(t, r.Stderr, "want unix:///path or tcp://HOST:PORT")
}
