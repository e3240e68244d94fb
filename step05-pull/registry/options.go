package registry

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Defaults of the options.
const (
	// DefaultConcurrency is how many layers download at once: Docker's
	// max-concurrent-downloads.
	DefaultConcurrency = 3
	// DefaultRetryAttempts is how often a request or a blob download is
	// tried before giving up: Docker's max-download-attempts.
	DefaultRetryAttempts = 5
	// DefaultRetryBackoff is the wait before the second attempt; it doubles
	// before each further one.
	DefaultRetryBackoff = 500 * time.Millisecond
	// DockerConfigEnv names the directory of config.json, as for the docker
	// CLI; without it the file is ~/.docker/config.json.
	DockerConfigEnv = "DOCKER_CONFIG"
	// UserAgent is sent with every request.
	UserAgent = "minidocker/0.1"
	// DefaultConnectTimeout bounds a TCP connect to a registry.
	DefaultConnectTimeout = 30 * time.Second
	// DefaultHeaderTimeout bounds the wait for a response's headers.
	DefaultHeaderTimeout = 30 * time.Second
	// DefaultIdleTimeout bounds each wait for the next byte of a body; a
	// body that keeps flowing is never cut, however long it takes.
	DefaultIdleTimeout = 60 * time.Second
)

// Option configures a Client; options that can be wrong return an error
// from New.
type Option func(*options) error

type options struct {
	transport    http.RoundTripper
	platform     ocispec.Platform
	auths        map[string]credential // by normalised host, from WithAuth
	dockerConfig *string               // nil: the default path
	insecure     map[string]bool
	mirrors      []*url.URL
	concurrency  int
	attempts     int
	backoff      time.Duration
	trace        io.Writer

	connectTimeout, headerTimeout, idleTimeout time.Duration
}

func defaultOptions() options {
	return options{
		platform:    ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH},
		auths:       map[string]credential{},
		insecure:    map[string]bool{},
		concurrency: DefaultConcurrency,
		attempts:    DefaultRetryAttempts,
		backoff:     DefaultRetryBackoff,

		connectTimeout: DefaultConnectTimeout,
		headerTimeout:  DefaultHeaderTimeout,
		idleTimeout:    DefaultIdleTimeout,
	}
}

// WithTransport sends every request through rt, whose own dialer then
// decides the connect timeout. Default: http.DefaultTransport's settings
// with the connect timeout of WithTimeouts.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) error {
		if rt == nil {
			return errors.New("transport is nil")
		}
		o.transport = rt
		return nil
	}
}

// WithPlatform picks the manifest for platform s, "os/arch[/variant]"
// ("linux/arm64", "linux/arm/v7"), from multi-platform images, like
// "docker pull --platform". Default: the host's runtime.GOOS/runtime.GOARCH.
func WithPlatform(s string) Option {
	return func(o *options) error {
		p, err := ParsePlatform(s)
		if err != nil {
			return err
		}
		o.platform = p
		return nil
	}
}

// WithPlatformSpec is WithPlatform for an already parsed platform.
func WithPlatformSpec(p ocispec.Platform) Option {
	return func(o *options) error {
		if p.OS == "" || p.Architecture == "" {
			return fmt.Errorf("invalid platform %+v: os and architecture are required", p)
		}
		o.platform = p
		return nil
	}
}

// WithAuth uses username and password for host ("docker.io",
// "localhost:5000"): sent to the token server on a Bearer challenge, or to
// the registry on a Basic one. It wins over the Docker config file.
// Default: no credentials besides those in the Docker config file.
func WithAuth(host, username, password string) Option {
	return func(o *options) error {
		if host == "" {
			return errors.New("auth: empty host")
		}
		o.auths[normaliseHost(host)] = credential{username: username, password: password}
		return nil
	}
}

// WithDockerConfig reads credentials from the "auths" section of the Docker
// config file at path; "" reads none. Default: $DOCKER_CONFIG/config.json,
// else ~/.docker/config.json, ignored when missing. Credential helpers
// (credsStore, credHelpers) are not supported.
func WithDockerConfig(path string) Option {
	return func(o *options) error {
		o.dockerConfig = &path
		return nil
	}
}

// WithInsecure lets hosts ("myregistry:5000", "10.0.0.2") fall back to plain
// HTTP, like Docker's --insecure-registry. localhost, 127.0.0.0/8 and ::1
// always may. Default: no other host.
func WithInsecure(hosts ...string) Option {
	return func(o *options) error {
		for _, h := range hosts {
			if h == "" || strings.Contains(h, "/") {
				return fmt.Errorf("insecure registry %q: want host or host:port", h)
			}
			o.insecure[strings.ToLower(h)] = true
		}
		return nil
	}
}

// WithMirror adds a registry mirror for Docker Hub, like Docker's
// "registry-mirrors": docker.io images are first asked of the mirror (in the
// order the mirrors were added), then of Docker Hub itself. rawURL is
// "https://mirror.example" or "http://127.0.0.1:5001"; a plain-HTTP mirror
// is trusted because it was named explicitly. Default: no mirror.
func WithMirror(rawURL string) Option {
	return func(o *options) error {
		u, err := url.Parse(rawURL)
		if err != nil {
			return fmt.Errorf("mirror %q: %w", rawURL, err)
		}
		if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("mirror %q: want http(s)://host[:port]", rawURL)
		}
		o.mirrors = append(o.mirrors, &url.URL{Scheme: u.Scheme, Host: u.Host})
		return nil
	}
}

// WithConcurrency sets how many layers download at once (n ≥ 1).
// Default: DefaultConcurrency (3).
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("concurrency %d: must be at least 1", n)
		}
		o.concurrency = n
		return nil
	}
}

// WithRetry tries requests and blob downloads up to attempts times in all,
// waiting backoff before the second attempt and twice as long before each
// further one. Connection errors, cut downloads and 5xx answers are retried;
// other 4xx answers, 429 included, are not. Default: DefaultRetryAttempts (5)
// and DefaultRetryBackoff (500ms).
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(o *options) error {
		if attempts < 1 || backoff < 0 {
			return fmt.Errorf("retry %d, %v: want at least one attempt and a non-negative back-off", attempts, backoff)
		}
		o.attempts, o.backoff = attempts, backoff
		return nil
	}
}

// WithTimeouts bounds how long a registry may stay silent: connect, the TCP
// connection; header, from a request to its response's headers; idle, each
// wait for the next byte of a body (a manifest, a config, a layer). None
// is a total deadline: a big layer that keeps flowing takes as long as it
// takes. A timeout is an error matching ErrTimeout, retried like a cut
// connection (WithRetry). 0 disables one. Default: DefaultConnectTimeout
// (30s), DefaultHeaderTimeout (30s), DefaultIdleTimeout (60s).
func WithTimeouts(connect, header, idle time.Duration) Option {
	return func(o *options) error {
		if connect < 0 || header < 0 || idle < 0 {
			return fmt.Errorf("timeouts %v, %v, %v: must not be negative", connect, header, idle)
		}
		o.connectTimeout, o.headerTimeout, o.idleTimeout = connect, header, idle
		return nil
	}
}

// WithTrace writes every HTTP exchange to w: the request line, the
// interesting headers each way (Accept, Range, the Authorization scheme but
// never its value; WWW-Authenticate, Docker-Content-Digest, Content-Type,
// Content-Length, Content-Range, Location) and the status. Default: none.
func WithTrace(w io.Writer) Option {
	return func(o *options) error {
		o.trace = w
		return nil
	}
}

// dockerConfigPath is where the Docker config file is by default.
func dockerConfigPath() string {
	if dir := os.Getenv(DockerConfigEnv); dir != "" {
		return filepath.Join(dir, "config.json")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".docker", "config.json")
}
