package apiclient

import (
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
)

// fakeDaemon answers the Engine API on a unix socket with the status and
// message routes gives for "METHOD /path" (the version prefix cut off).
func fakeDaemon(t *testing.T, routes map[string]func(w http.ResponseWriter)) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		path := r.URL.Path
		if strings.HasPrefix(path, "/v1.") {
			path = path[strings.Index(path[1:], "/")+1:]
		}
		if path == "/_ping" {
			w.Write([]byte("OK"))
			return
		}
		fn, ok := routes[r.Method+" "+path]
		if !ok {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.Error(w, `{"message":"page not found"}`, http.StatusNotFound)
			return
		}
		fn(w)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "unix://" + sock
}

func answer(status int, msg string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if msg != "" {
			w.Write([]byte(`{"message":"` + msg + `"}`))
		}
	}
}

// The daemon's statuses become the engine's kinds, with the daemon's
// message as the text the CLI prints after "Error: ".
func TestErrorKinds(t *testing.T) {
	host := fakeDaemon(t, map[string]func(http.ResponseWriter){
		"DELETE /containers/x":        answer(404, "No such container: x"),
		"DELETE /containers/web":      answer(409, "You cannot remove a running container web"),
		"POST /containers/web/stop":   answer(304, ""),
		"POST /containers/web/kill":   answer(400, "Invalid signal: 99"),
		"POST /containers/boom/kill":  answer(500, "something broke"),
		"POST /containers/busy/start": answer(503, "try later"),
	})
	c, err := New(host)
	require.NoError(t, err)

	err = c.RemoveContainer("x", false)
	require.True(t, errdefs.IsNotFound(err), "%v", err)
	require.Equal(t, "No such container: x", err.Error())
	err = c.RemoveContainer("web", false)
	require.True(t, errdefs.IsConflict(err), "%v", err)
	require.Equal(t, "You cannot remove a running container web", err.Error())
	require.NoError(t, c.Stop("web", time.Second), "304: nothing to do is success")
	err = c.Kill("web", 99)
	require.True(t, errdefs.IsInvalidParameter(err), "%v", err)
	err = c.Kill("boom", 9)
	require.True(t, errdefs.IsSystem(err), "%v", err)
	require.Equal(t, "something broke", err.Error())
	err = c.StartDetached("busy")
	require.True(t, errdefs.IsUnavailable(err), "%v", err)
}

// A start the runtime refused carries docker run's exit code.
func TestStartErrorCodes(t *testing.T) {
	host := fakeDaemon(t, map[string]func(http.ResponseWriter){
		"POST /containers/a/start": answer(400, `failed to create shim: OCI runtime create failed: exec: \"nosuch\": executable file not found in $PATH: unknown`),
		"POST /containers/b/start": answer(400, `OCI runtime create failed: exec: \"/etc\": permission denied: unknown`),
		"POST /containers/c/start": answer(404, "No such container: c"),
	})
	c, err := New(host)
	require.NoError(t, err)
	for ref, code := range map[string]int{"a": 127, "b": 126} {
		err := c.StartDetached(ref)
		se, ok := err.(*engine.StartError)
		require.True(t, ok, "%s: %T %v", ref, err, err)
		require.Equal(t, code, se.Code, ref)
	}
	require.True(t, errdefs.IsNotFound(c.StartDetached("c")))
}

func TestNewRefusesOtherSchemes(t *testing.T) {
	_, err := New("/var/run/docker.sock")
	require.ErrorContains(t, err, "expected unix:///path")
}
