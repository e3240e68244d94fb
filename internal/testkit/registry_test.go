package testkit

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, url, token string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, nil // a cut connection
	}
	return resp, body
}

func token(t *testing.T, r *Registry, scope string) string {
	t.Helper()
	resp, body := get(t, r.URL()+"/token?service="+RegistryService+"&scope="+scope, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "token: %s", body)
	var tok struct{ Token string }
	require.NoError(t, json.Unmarshal(body, &tok))
	return tok.Token
}

func TestRegistryAuth(t *testing.T) {
	r := NewRegistry(t, RegistryOptions{Auth: true})
	img, err := random.Image(100, 1)
	require.NoError(t, err)
	d := r.Push(t, "app:1.0", img)
	manifest := r.URL() + "/v2/app/manifests/" + d.String()

	resp, _ := get(t, r.URL()+"/v2/", "")
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Bearer realm="`+r.URL()+`/token"`) {
		t.Errorf("GET /v2/ without a token = %s %q, want 401 with a Bearer challenge", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	resp, _ = get(t, manifest, token(t, r, "repository:other:pull"))
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="repository:app:pull",error="insufficient_scope"`) {
		t.Errorf("GET manifest with another repository's token = %s %q, want 401 insufficient_scope", resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	resp, _ = get(t, manifest, token(t, r, "repository:app:pull"))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET manifest with a token = %s, want 200", resp.Status)
	}
}

func TestRegistryHooks(t *testing.T) {
	r := NewRegistry(t, RegistryOptions{})
	img, err := random.Image(10_000, 1)
	require.NoError(t, err)
	r.Push(t, "app:1.0", img)
	layers, err := img.Layers()
	require.NoError(t, err)
	blob, err := layers[0].Digest()
	require.NoError(t, err)
	url := r.URL() + "/v2/app/blobs/" + blob.String()

	r.Fail("/blobs/", http.StatusTooManyRequests, 1)
	resp, body := get(t, url, "")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(string(body), `"TOOMANYREQUESTS"`) {
		t.Errorf("first GET after Fail(429, 1) = %s %s", resp.Status, body)
	}
	resp, good := get(t, url, "")
	if resp.StatusCode != http.StatusOK || int64(len(good)) != mustSize(t, layers[0].Size) {
		t.Errorf("second GET = %s with %d bytes, want 200 and the blob", resp.Status, len(good))
	}

	r.CutBlob(blob, 100)
	resp, body = get(t, url, "")
	if resp.StatusCode != http.StatusOK || body != nil {
		t.Errorf("GET of a cut blob = %s, %d bytes read without error, want a broken body", resp.Status, len(body))
	}

	r.TamperBlob(blob)
	_, tampered := get(t, url, "")
	if len(tampered) != len(good) || string(tampered) == string(good) {
		t.Errorf("tampered blob: %d bytes, equal %v; want the same length and different bytes", len(tampered), string(tampered) == string(good))
	}
	var paths []string
	for _, req := range r.Requests() {
		if req.Path == "/v2/app/blobs/"+blob.String() && req.Method == http.MethodGet {
			paths = append(paths, req.Path)
		}
	}
	if len(paths) != 4 {
		t.Errorf("recorded %d blob GETs, want 4", len(paths))
	}
}

func mustSize(t *testing.T, f func() (int64, error)) int64 {
	t.Helper()
	n, err := f()
	require.NoError(t, err)
	return n
}
