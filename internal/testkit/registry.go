package testkit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RegistryOptions configures NewRegistry. The zero value is an open
// registry, like a fresh "docker run registry:2".
type RegistryOptions struct {
	// Auth puts the registry behind a token server that behaves like
	// Docker Hub's: GET /v2/ and every repository request without a token
	// are answered 401 with "WWW-Authenticate: Bearer realm=<URL>/token,
	// service=…", and a token is good only for the scopes it was issued for.
	Auth bool
	// Basic uses a Basic challenge (as a registry behind htpasswd does)
	// instead of tokens. Requires Username.
	Basic bool
	// Username and Password are the only valid credentials when set. With
	// Auth, a client without credentials still gets a token, as on Docker
	// Hub, but one that grants nothing, so the repository answers 401.
	Username, Password string
}

// RegistryService is the "service" of the token server's challenge.
const RegistryService = "minidocker-test-registry"

// Registry is an in-process registry (go-containerregistry's pkg/registry)
// on 127.0.0.1, with optional Docker-Hub-like auth and hooks that make it
// misbehave on purpose. Everything it serves is in memory.
type Registry struct {
	opts   RegistryOptions
	server *httptest.Server
	inner  http.Handler

	mu       sync.Mutex
	tokens   map[string]map[string]bool // token -> "repository:<path>:<action>" granted
	fails    []*failRule
	tampered map[string]bool
	cuts     map[string]int64
	redirect string
	requests []Request
	raw      map[string]rawManifest // path -> what GET answers, bypassing the registry
	drips    map[string]drip        // blob digest -> how slowly to send it
	stalls   []stall
}

type drip struct {
	chunk int
	every time.Duration
}

type stall struct {
	match string
	wait  time.Duration
}

// Request is what the registry saw of one request.
type Request struct {
	Method, Path, Query string
	// Authorization is the header's scheme ("Bearer", "Basic") or "".
	Authorization string
	Range         string
}

type failRule struct {
	match  string
	status int
	times  int // < 0: forever
}

// NewRegistry starts a registry for the test; it stops in t.Cleanup.
func NewRegistry(t testing.TB, opts RegistryOptions) *Registry {
	t.Helper()
	if opts.Basic && opts.Username == "" {
		t.Fatal("testkit.NewRegistry: Basic needs a Username")
	}
	r := &Registry{
		opts:     opts,
		inner:    ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))),
		tokens:   map[string]map[string]bool{},
		tampered: map[string]bool{},
		cuts:     map[string]int64{},
		raw:      map[string]rawManifest{},
		drips:    map[string]drip{},
	}
	r.server = httptest.NewServer(r)
	t.Cleanup(r.server.Close)
	return r
}

// Host is the registry's host:port, for references: Host()+"/repo:tag".
func (r *Registry) Host() string { return strings.TrimPrefix(r.server.URL, "http://") }

// URL is "http://" + Host.
func (r *Registry) URL() string { return r.server.URL }

// Push writes img (a v1.Image or a v1.ImageIndex) as repoTag ("app:1.0",
// "app@sha256:…" is not allowed) with go-containerregistry's client, and
// returns its digest.
func (r *Registry) Push(t testing.TB, repoTag string, img any) v1.Hash {
	t.Helper()
	var auth authn.Authenticator = authn.Anonymous
	if r.opts.Username != "" {
		auth = &authn.Basic{Username: r.opts.Username, Password: r.opts.Password}
	}
	return push(t, r.Host(), repoTag, img, auth)
}

// Fail answers the next times requests whose path contains match with
// status and a registry error body (times < 0: every one). The rule applies
// after authentication, as on a real registry: 404 (MANIFEST_UNKNOWN or
// BLOB_UNKNOWN), 429 (TOOMANYREQUESTS with Docker Hub's message), 5xx.
func (r *Registry) Fail(match string, status, times int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fails = append(r.fails, &failRule{match: match, status: status, times: times})
}

// TamperBlob makes every GET of blob d return its content with one byte
// changed (same length), as a broken mirror or a disk error would.
func (r *Registry) TamperBlob(d v1.Hash) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tampered[d.String()] = true
}

// CutBlob makes the next GET of blob d announce the full length, send only
// after bytes and drop the connection.
func (r *Registry) CutBlob(d v1.Hash, after int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cuts[d.String()] = after
}

// RedirectBlobs answers every blob GET with "307 Location: base+path", as
// Docker Hub sends blobs to its CDN. "" stops redirecting.
func (r *Registry) RedirectBlobs(base string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.redirect = base
}

// Requests returns what the registry saw so far, in order.
func (r *Registry) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.requests...)
}

func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.record(req)
	if req.URL.Path == "/token" {
		r.serveToken(w, req)
		return
	}
	if !r.authorized(w, req) {
		return
	}
	if r.fail(w, req) {
		return
	}
	if !r.stall(req) {
		return // the client gave up
	}
	r.mu.Lock()
	raw, isRaw := r.raw[req.URL.Path]
	r.mu.Unlock()
	if isRaw && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
		w.Header().Set("Content-Type", string(raw.mediaType))
		w.Header().Set("Content-Length", strconv.Itoa(len(raw.data)))
		w.WriteHeader(http.StatusOK)
		if req.Method == http.MethodGet {
			_, _ = w.Write(raw.data)
		}
		return
	}
	digest, isBlobGet := blobGet(req)
	if !isBlobGet {
		r.inner.ServeHTTP(w, req)
		return
	}
	r.mu.Lock()
	dr, dripping := r.drips[digest]
	r.mu.Unlock()
	if dripping {
		r.drip(w, req, dr)
		return
	}
	r.mu.Lock()
	redirect, tampered := r.redirect, r.tampered[digest]
	cut, isCut := r.cuts[digest]
	if isCut && req.Header.Get("Range") == "" {
		delete(r.cuts, digest)
	} else {
		isCut = false
	}
	r.mu.Unlock()
	switch {
	case redirect != "":
		http.Redirect(w, req, redirect+req.URL.Path, http.StatusTemporaryRedirect)
	case tampered || isCut:
		rec := httptest.NewRecorder()
		r.inner.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if rec.Code != http.StatusOK || len(body) == 0 {
			copyRecorded(w, rec)
			return
		}
		if tampered {
			body[len(body)/2] ^= 0xff
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Header().Set("Docker-Content-Digest", digest)
		w.WriteHeader(http.StatusOK)
		if isCut {
			_, _ = w.Write(body[:min(cut, int64(len(body)))])
			w.(http.Flusher).Flush()
			// Aborting the handler makes net/http close the connection
			// without finishing the body: the client sees an unexpected EOF.
			panic(http.ErrAbortHandler)
		}
		_, _ = w.Write(body)
	default:
		r.inner.ServeHTTP(w, req)
	}
}

func (r *Registry) record(req *http.Request) {
	auth, _, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, Request{
		Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery,
		Authorization: auth, Range: req.Header.Get("Range"),
	})
}

// serveToken is the token server: GET /token?service=…&scope=… with
// optional Basic credentials, answered with {"token": …}.
func (r *Registry) serveToken(w http.ResponseWriter, req *http.Request) {
	user, pass, hasCreds := req.BasicAuth()
	granted := map[string]bool{}
	switch {
	case hasCreds && (user != r.opts.Username || pass != r.opts.Password):
		// Docker Hub's answer to wrong credentials.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"details":"incorrect username or password"}` + "\n"))
		return
	case r.opts.Username != "" && !hasCreds:
		// Anonymous token that grants nothing.
	default:
		for _, scope := range req.URL.Query()["scope"] {
			for _, s := range strings.Fields(scope) {
				parts := strings.Split(s, ":")
				if len(parts) != 3 {
					continue
				}
				for _, action := range strings.Split(parts[2], ",") {
					granted[parts[0]+":"+parts[1]+":"+action] = true
				}
			}
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	r.mu.Lock()
	r.tokens[token] = granted
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": token, "access_token": token, "expires_in": 300})
}

// authorized checks the request's credentials, answering 401 with the
// challenge when they do not allow it.
func (r *Registry) authorized(w http.ResponseWriter, req *http.Request) bool {
	if !r.opts.Auth && !r.opts.Basic {
		return true
	}
	repo := repository(req.URL.Path)
	action := "pull"
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		action = "push"
	}
	scheme, cred, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	if r.opts.Basic {
		user, pass, ok := req.BasicAuth()
		if ok && user == r.opts.Username && pass == r.opts.Password {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="minidocker-test"`)
		registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
		return false
	}
	r.mu.Lock()
	granted, known := r.tokens[cred]
	r.mu.Unlock()
	valid := strings.EqualFold(scheme, "Bearer") && known
	if valid && (repo == "" || granted["repository:"+repo+":"+action]) {
		return true
	}
	challenge := fmt.Sprintf(`Bearer realm="%s/token",service="%s"`, r.server.URL, RegistryService)
	if repo != "" {
		challenge += fmt.Sprintf(`,scope="repository:%s:%s"`, repo, action)
		if valid {
			challenge += `,error="insufficient_scope"`
		}
	}
	w.Header().Set("WWW-Authenticate", challenge)
	registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
	return false
}

func (r *Registry) fail(w http.ResponseWriter, req *http.Request) bool {
	r.mu.Lock()
	var rule *failRule
	for _, f := range r.fails {
		if f.times != 0 && strings.Contains(req.URL.Path, f.match) {
			rule = f
			if f.times > 0 {
				f.times--
			}
			break
		}
	}
	r.mu.Unlock()
	if rule == nil {
		return false
	}
	code, msg := "UNKNOWN", http.StatusText(rule.status)
	switch rule.status {
	case http.StatusNotFound:
		code, msg = "BLOB_UNKNOWN", "blob unknown to registry"
		if strings.Contains(req.URL.Path, "/manifests/") {
			code, msg = "MANIFEST_UNKNOWN", "manifest unknown"
		}
	case http.StatusTooManyRequests:
		code, msg = "TOOMANYREQUESTS", "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"
	case http.StatusForbidden:
		code, msg = "DENIED", "requested access to the resource is denied"
	}
	registryError(w, rule.status, code, msg)
	return true
}

func registryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

// repository is <name> of /v2/<name>/{manifests,blobs,tags}/…, or "".
func repository(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return ""
	}
	for _, kind := range []string{"/manifests/", "/blobs/", "/tags/", "/referrers/"} {
		if i := strings.LastIndex(rest, kind); i > 0 {
			return rest[:i]
		}
	}
	return ""
}

// blobGet returns the digest of GET /v2/<name>/blobs/<digest>.
func blobGet(req *http.Request) (string, bool) {
	if req.Method != http.MethodGet {
		return "", false
	}
	i := strings.LastIndex(req.URL.Path, "/blobs/")
	if i < 0 || !strings.HasPrefix(req.URL.Path, "/v2/") {
		return "", false
	}
	d := req.URL.Path[i+len("/blobs/"):]
	if !strings.Contains(d, ":") {
		return "", false // uploads/…
	}
	return d, true
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// CDN is a second server, on another port, that serves a Registry's blobs
// without asking for credentials, as Docker Hub's CDN serves the URLs its
// registry redirects to. It records the requests it gets.
type CDN struct {
	server *httptest.Server

	mu       sync.Mutex
	requests []Request
}

// StartCDN starts the CDN and redirects every blob GET of r to it; it stops
// in t.Cleanup.
func (r *Registry) StartCDN(t testing.TB) *CDN {
	t.Helper()
	c := &CDN{}
	c.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		auth, _, _ := strings.Cut(req.Header.Get("Authorization"), " ")
		c.mu.Lock()
		c.requests = append(c.requests, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Authorization: auth, Range: req.Header.Get("Range")})
		c.mu.Unlock()
		if _, ok := blobGet(req); !ok {
			http.NotFound(w, req)
			return
		}
		r.inner.ServeHTTP(w, req)
	}))
	t.Cleanup(c.server.Close)
	r.RedirectBlobs(c.server.URL)
	return c
}

// URL is the CDN's base URL.
func (c *CDN) URL() string { return c.server.URL }

// Requests returns what the CDN saw so far, in order.
func (c *CDN) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Request(nil), c.requests...)
}

// Distribution is Debian's docker-registry (distribution 2.8) serving on
// 127.0.0.1 with its storage in a temporary directory.
type Distribution struct {
	host string
}

// DistributionBinary is the program DistributionRegistry runs
// (scripts/setup.sh installs Debian's docker-registry).
const DistributionBinary = "docker-registry"

// DistributionRegistry starts the real registry binary for interoperability
// tests; it is killed in t.Cleanup. Without the binary the test is skipped,
// or fails under MINIDOCKER_TEST_REQUIRE_ROOT=1.
func DistributionRegistry(t testing.TB) *Distribution {
	t.Helper()
	bin, err := exec.LookPath(DistributionBinary)
	RequireFeature(t, err == nil, "the "+DistributionBinary+" binary (apt-get install docker-registry)")
	dir := t.TempDir()
	host := "127.0.0.1:" + strconv.Itoa(FreePort(t))
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "storage"), host)
	configPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", configPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &Distribution{host: host}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer on %s: %v\n%s", bin, host, err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Host is the registry's host:port.
func (d *Distribution) Host() string { return d.host }

// Push writes img (a v1.Image or a v1.ImageIndex) as repoTag and returns its
// digest.
func (d *Distribution) Push(t testing.TB, repoTag string, img any) v1.Hash {
	t.Helper()
	return push(t, d.host, repoTag, img, authn.Anonymous)
}

func push(t testing.TB, host, repoTag string, img any, auth authn.Authenticator) v1.Hash {
	t.Helper()
	ref, err := name.NewTag(host+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatalf("push %s: %v", repoTag, err)
	}
	var d v1.Hash
	switch img := img.(type) {
	case v1.Image:
		err = remote.Write(ref, img, remote.WithAuth(auth))
		if err == nil {
			d, err = img.Digest()
		}
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, img, remote.WithAuth(auth))
		if err == nil {
			d, err = img.Digest()
		}
	default:
		err = fmt.Errorf("%T is neither a v1.Image nor a v1.ImageIndex", img)
	}
	if err != nil {
		t.Fatalf("push %s to %s: %v", repoTag, host, err)
	}
	return d
}

// PushRaw uploads blobs, then manifest (of mediaType) as repoTag, byte for
// byte: nothing is checked on this side, so a test can serve what a broken
// or hostile registry would (a malformed digest, say). It returns the
// manifest's digest.
func (r *Registry) PushRaw(t testing.TB, repoTag, mediaType string, manifest []byte, blobs ...[]byte) v1.Hash {
	t.Helper()
	ref, err := name.NewTag(r.Host()+"/"+repoTag, name.Insecure)
	if err != nil {
		t.Fatalf("push %s: %v", repoTag, err)
	}
	for _, b := range blobs {
		if err := remote.WriteLayer(ref.Repository, static.NewLayer(b, types.OCIUncompressedLayer)); err != nil {
			t.Fatalf("push blob to %s: %v", repoTag, err)
		}
	}
	if err := remote.Put(ref, rawManifest{mediaType: types.MediaType(mediaType), data: manifest}); err != nil {
		t.Fatalf("push manifest %s: %v", repoTag, err)
	}
	d, _, err := v1.SHA256(bytes.NewReader(manifest))
	if err != nil {
		t.Fatalf("push manifest %s: %v", repoTag, err)
	}
	return d
}

// DripBlob makes every GET of blob d (Range requests included) send its
// headers at once and then the body chunk bytes at a time, one chunk every
// every: a registry that is slow (a big chunk often) or nearly silent (one
// byte every 2 s). The handler stops when the client goes away.
func (r *Registry) DripBlob(d v1.Hash, chunk int, every time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drips[d.String()] = drip{chunk: max(chunk, 1), every: every}
}

// Stall makes requests whose path contains match wait for wait (or until
// the client goes away) before anything is answered: a registry that
// accepts the connection and says nothing.
func (r *Registry) Stall(match string, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stalls = append(r.stalls, stall{match: match, wait: wait})
}

// stall waits as Stall asked; false if the client went away meanwhile.
func (r *Registry) stall(req *http.Request) bool {
	r.mu.Lock()
	var wait time.Duration
	for _, s := range r.stalls {
		if strings.Contains(req.URL.Path, s.match) {
			wait = max(wait, s.wait)
		}
	}
	r.mu.Unlock()
	if wait == 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-req.Context().Done():
		return false
	}
}

func (r *Registry) drip(w http.ResponseWriter, req *http.Request, d drip) {
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	for len(body) > 0 {
		select {
		case <-req.Context().Done():
			return
		case <-time.After(d.every):
		}
		n := min(d.chunk, len(body))
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		body = body[n:]
	}
}

// ServeManifest answers GET /v2/<repo>/manifests/<tag> for repoTag with
// manifest, as is, without storing it: for what the registry itself would
// refuse to store (an index entry with a malformed digest, say).
func (r *Registry) ServeManifest(repoTag, mediaType string, manifest []byte) {
	repo, tag, _ := strings.Cut(repoTag, ":")
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw["/v2/"+repo+"/manifests/"+tag] = rawManifest{mediaType: types.MediaType(mediaType), data: manifest}
}

type rawManifest struct {
	mediaType types.MediaType
	data      []byte
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.data, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }
