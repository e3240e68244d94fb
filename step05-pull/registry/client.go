package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"minidocker/step05-pull/reference"
)

// Client talks to registries. It is safe for concurrent use; it remembers
// per host whether HTTPS or HTTP worked, the auth challenge and the tokens.
type Client struct {
	opts  options
	creds map[string]credential // WithAuth over the Docker config file
	http  *http.Client

	mu    sync.Mutex
	hosts map[string]*hostState
}

// hostState is what the client learned about one registry host.
type hostState struct {
	host string

	mu        sync.Mutex
	scheme    string     // "https" or "http" once GET /v2/ answered
	challenge *challenge // nil: the registry wants no auth
	tokens    map[string]string
}

// endpoint is a registry to ask: the reference's own, or a mirror.
type endpoint struct {
	host   string // host[:port] to connect to
	scheme string // fixed for mirrors; "" lets ping choose
	mirror bool
}

// New returns a Client configured by opts; see each option for its default.
func New(opts ...Option) (*Client, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("registry client: %w", err)
		}
	}
	path := dockerConfigPath()
	if o.dockerConfig != nil {
		path = *o.dockerConfig
	}
	creds := map[string]credential{}
	if path != "" {
		fromFile, err := loadDockerConfig(path)
		if err != nil {
			return nil, fmt.Errorf("registry client: %w", err)
		}
		for k, v := range fromFile {
			creds[k] = v
		}
	}
	for k, v := range o.auths {
		creds[k] = v
	}
	rt := o.transport
	if rt == nil {
		rt = transport(o.connectTimeout)
	}
	if o.trace != nil {
		rt = &tracer{rt: rt, w: o.trace}
	}
	c := &Client{
		opts:  o,
		creds: creds,
		http: &http.Client{
			Transport: rt,
			// send follows redirects itself: see there.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		hosts: map[string]*hostState{},
	}
	return c, nil
}

// endpoints lists whom to ask for ref: the mirrors first for Docker Hub
// images, then the registry itself.
func (c *Client) endpoints(ref reference.Reference) []endpoint {
	var eps []endpoint
	if ref.IsDockerHub() {
		for _, m := range c.opts.mirrors {
			eps = append(eps, endpoint{host: m.Host, scheme: m.Scheme, mirror: true})
		}
	}
	return append(eps, endpoint{host: ref.Host()})
}

func (c *Client) hostState(host string) *hostState {
	c.mu.Lock()
	defer c.mu.Unlock()
	hs, ok := c.hosts[host]
	if !ok {
		hs = &hostState{host: host, tokens: map[string]string{}}
		c.hosts[host] = hs
	}
	return hs
}

// ping sends GET /v2/ to learn the scheme and the auth challenge of ep.
// HTTPS first; plain HTTP after it fails for hosts that may use it
// (Docker's rule).
func (c *Client) ping(ctx context.Context, ep endpoint) (*hostState, error) {
	hs := c.hostState(ep.host)
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.scheme != "" {
		return hs, nil
	}
	schemes := []string{"https"}
	switch {
	case ep.scheme != "":
		schemes = []string{ep.scheme}
	case c.mayUseHTTP(ep.host):
		schemes = append(schemes, "http")
	}
	var errs []error
	for _, scheme := range schemes {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+ep.host+"/v2/", nil)
		if err != nil {
			return nil, fmt.Errorf("ping %s: %w", ep.host, err)
		}
		req.Header.Set("User-Agent", UserAgent)
		resp, err := c.send(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("ping %s: %w", ep.host, err)
			}
			errs = append(errs, err)
			continue
		}
		switch resp.StatusCode {
		case http.StatusOK:
			drain(resp)
		case http.StatusUnauthorized:
			ch, ok := parseChallenge(resp.Header)
			drain(resp)
			if !ok {
				return nil, fmt.Errorf("ping %s: 401 without a Bearer or Basic challenge", ep.host)
			}
			hs.challenge = &ch
		default:
			return nil, fmt.Errorf("ping %s: %w", ep.host, responseError(resp))
		}
		hs.scheme = scheme
		return hs, nil
	}
	return nil, fmt.Errorf("ping %s: %w", ep.host, errors.Join(errs...))
}

// do sends GET path to ep with hdr and the right Authorization, answering a
// 401 once with a fresh token and retrying connection errors and 5xx with
// back-off. The caller checks the status and closes the body.
func (c *Client) do(ctx context.Context, ep endpoint, repo, path string, hdr http.Header) (*http.Response, error) {
	return c.request(ctx, ep, call{method: http.MethodGet, target: path, scope: "repository:" + repo + ":pull", hdr: hdr})
}

// call is one request to a registry: GET of a manifest or a blob, or one
// of a push's HEAD, POST, PATCH and PUT.
type call struct {
	method string
	target string // a path on the endpoint, or an absolute URL (an upload's Location)
	scope  string // the token scope it needs: repository:NAME:pull[,push]
	hdr    http.Header
	// body, when not nil, is sent once: a streamed upload cannot be sent
	// again, so such a call is neither retried nor repeated after a 401
	// (the push takes its token with a bodiless request first).
	body   io.Reader
	length int64 // of body; -1 when unknown (chunked)
}

// request sends c to ep with the right Authorization, answering a 401 once
// with a fresh token and retrying connection errors and 5xx with back-off,
// unless it has a body. The caller checks the status and closes the body.
func (c *Client) request(ctx context.Context, ep endpoint, cl call) (*http.Response, error) {
	hs, err := c.ping(ctx, ep)
	if err != nil {
		return nil, err
	}
	target := cl.target
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		target = hs.scheme + "://" + ep.host + target
	}
	refreshed := false
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, cl.method, target, cl.body)
		if err != nil {
			return nil, err
		}
		if cl.body != nil {
			req.ContentLength = cl.length
		}
		for k, v := range cl.hdr {
			req.Header[k] = v
		}
		req.Header.Set("User-Agent", UserAgent)
		if err := c.authorize(ctx, hs, req, cl.scope, refreshed); err != nil {
			return nil, err
		}
		resp, err := c.send(req)
		if cl.body != nil {
			return resp, err
		}
		if err == nil && resp.StatusCode == http.StatusUnauthorized && !refreshed {
			// The token expired, or the registry wants another one: take the
			// new challenge and fetch a token once more.
			if ch, ok := parseChallenge(resp.Header); ok {
				hs.mu.Lock()
				hs.challenge = &ch
				hs.mu.Unlock()
				drain(resp)
				refreshed = true
				attempt--
				continue
			}
		}
		if !c.retryable(ctx, resp, err) || attempt >= c.opts.attempts {
			return resp, err
		}
		if resp != nil {
			drain(resp)
		}
		if err := sleep(ctx, c.backoff(attempt)); err != nil {
			return nil, err
		}
	}
}

// retryable says whether a request that got resp or err may succeed later:
// connection errors and 5xx answers, not 4xx (429 included: Docker does not
// retry it either) and not a refused plain-HTTP URL.
func (c *Client) retryable(ctx context.Context, resp *http.Response, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		return !errors.Is(err, ErrInsecure)
	}
	switch resp.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff is the wait after failed attempt n (1-based): backoff, 2×, 4×…
func (c *Client) backoff(n int) time.Duration {
	return c.opts.backoff << min(n-1, 16)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxRedirects is how many redirects one request may follow (Go's own limit).
const maxRedirects = 10

// send performs req and follows redirects by hand. Go's http.Client keeps
// the Authorization header when a redirect goes to the same host name on
// another port; a registry token must reach only the registry, so it is
// dropped whenever the scheme or host:port changes. Every URL, the first
// and each Location, must pass checkScheme before anything is sent.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	for hops := 0; ; hops++ {
		if err := c.checkScheme(req.URL); err != nil {
			return nil, err
		}
		resp, err := c.roundTrip(req)
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			return resp, nil
		}
		loc, err := resp.Location()
		drain(resp)
		if err != nil {
			return nil, fmt.Errorf("%s %s: redirect: %w", req.Method, redact(req.URL), err)
		}
		if hops == maxRedirects {
			return nil, fmt.Errorf("%s %s: stopped after %d redirects", req.Method, redact(req.URL), maxRedirects)
		}
		next := req.Clone(req.Context())
		next.URL, next.Host = loc, ""
		if loc.Scheme != req.URL.Scheme || loc.Host != req.URL.Host {
			next.Header.Del("Authorization")
		}
		req = next
	}
}

// checkScheme refuses a plain-HTTP URL unless its host may use HTTP.
func (c *Client) checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if c.mayUseHTTP(u.Host) || c.isHTTPMirror(u.Host) {
			return nil
		}
		return fmt.Errorf("%w: %s (only localhost and insecure registries may use http)", ErrInsecure, redact(u))
	}
	return fmt.Errorf("unsupported URL scheme %q in %s", u.Scheme, redact(u))
}

// mayUseHTTP is Docker's rule: loopback hosts and those named with
// WithInsecure (as host:port or host).
func (c *Client) mayUseHTTP(hostport string) bool {
	hostport = strings.ToLower(hostport)
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if c.opts.insecure[hostport] || c.opts.insecure[host] || host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (c *Client) isHTTPMirror(host string) bool {
	for _, m := range c.opts.mirrors {
		if m.Scheme == "http" && strings.EqualFold(m.Host, host) {
			return true
		}
	}
	return false
}

// drain reads a little of what is left of resp's body, so the connection
// can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// redact prints u without user information.
func redact(u *url.URL) string { return u.Redacted() }
