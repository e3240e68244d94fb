package daemon

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/final/engine"
)

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{{"1.24", "1.43", true}, {"1.43", "1.43", false}, {"1.9", "1.10", true}, {"1.44", "1.43", false}, {"2.0", "1.99", false}} {
		require.Equal(t, c.less, versionLess(c.a, c.b), "%s < %s", c.a, c.b)
	}
}

// The middleware needs no engine: versions, headers, unknown routes.
func TestMiddleware(t *testing.T) {
	s := New(nil, enginePullOptions(), nil)
	do := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w
	}
	w := do("GET", "/v1.43/_ping")
	require.Equal(t, 200, w.Code)
	require.Equal(t, "OK", w.Body.String())
	require.Equal(t, "1.43", w.Header().Get("Api-Version"))
	require.Equal(t, "linux", w.Header().Get("Ostype"))
	require.Equal(t, "no-cache", w.Header().Get("Pragma"))
	w = do("HEAD", "/_ping")
	require.Equal(t, 200, w.Code)
	require.Empty(t, w.Body.String())
	w = do("GET", "/v1.44/_ping")
	require.Equal(t, 400, w.Code)
	require.JSONEq(t, `{"message":"client version 1.44 is too new. Maximum supported API version is 1.43"}`, w.Body.String())
	w = do("GET", "/v1.12/_ping")
	require.Equal(t, 400, w.Code)
	require.Contains(t, w.Body.String(), "is too old")
	for _, p := range []string{"/nope", "/v1.43/containers", "/containers/x/frobnicate"} {
		w = do("GET", p)
		require.Equal(t, 404, w.Code, p)
		require.JSONEq(t, `{"message":"page not found"}`, w.Body.String(), p)
		require.Equal(t, "application/json", w.Header().Get("Content-Type"))
	}
	w = do("PUT", "/_ping") // a method no route has is 404 too, as dockerd answers
	require.Equal(t, 404, w.Code)
}

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	f := &frames{w: &buf}
	f.stream(1).Write([]byte("hi\n"))
	f.stream(2).Write([]byte("oops\n"))
	b := buf.Bytes()
	require.Equal(t, []byte{1, 0, 0, 0, 0, 0, 0, 3}, b[:8])
	require.Equal(t, "hi\n", string(b[8:11]))
	require.Equal(t, byte(2), b[11])
	require.Equal(t, uint32(5), binary.BigEndian.Uint32(b[15:19]))
	require.Equal(t, "oops\n", string(b[19:]))
}

func TestPortSpecs(t *testing.T) {
	got := portSpecs(map[string][]struct{ HostIp, HostPort string }{
		"80/tcp":   {{"", "8080"}},
		"53/udp":   {{"127.0.0.1", "5353"}},
		"9000/tcp": {{"", ""}},
		"7/tcp":    nil,
	})
	require.Equal(t, []string{"127.0.0.1:5353:53/udp", "7/tcp", "8080:80/tcp", "9000/tcp"}, got)
}

func TestFilters(t *testing.T) {
	req := func(q string) *http.Request {
		return httptest.NewRequest("GET", "/containers/json?filters="+q, nil)
	}
	f, err := filters(req(`{"name":{"web":true},"status":["running"]}`))
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"name": {"web"}, "status": {"running"}}, f)
	f, err = filters(req(`{"label":["a=b","c"]}`))
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"label": {"a=b", "c"}}, f)
	_, err = filters(req(`{"before":["a"]}`))
	require.ErrorContains(t, err, "invalid filter 'before'")
	_, err = filters(req(`{nope`))
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "invalid filter"))
}

func enginePullOptions() engine.PullOptions { return engine.PullOptions{} }
