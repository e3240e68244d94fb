package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
)

var (
	// ErrAccessDenied is a 401 or 403 from the registry or its token server:
	// the repository is private, does not exist (Docker Hub says 401 then),
	// or the credentials are wrong.
	ErrAccessDenied = errors.New("access denied")
	// ErrNotFound is a 404: unknown repository, manifest or blob.
	ErrNotFound = errors.New("not found")
	// ErrTooManyRequests is a 429: the registry's rate limit.
	ErrTooManyRequests = errors.New("too many requests")
	// ErrDigestMismatch means content does not hash to the digest that names it.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch means a blob is longer or shorter than its descriptor says.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrNoMatchingManifest means an index has no manifest for the platform.
	ErrNoMatchingManifest = errors.New("no matching manifest")
	// ErrInsecure means a plain-HTTP URL for a host that may only use HTTPS;
	// no request was sent.
	ErrInsecure = errors.New("plain HTTP is not allowed")
	// ErrUnsupportedMediaType means a manifest type this client cannot read
	// (schema 1, or something that is not a manifest).
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrInvalidDigest means a digest read from a registry (in an index, a
	// manifest or an image config) is not well formed; the error is an
	// *InvalidDigestError.
	ErrInvalidDigest = errors.New("invalid digest")
)

// InvalidDigestError is a digest from the registry that go-digest's
// Validate refused: "invalid diff_id "sha256:ab" in image config:
// invalid checksum digest length". Nothing is fetched or stored under it:
// a digest becomes a URL path, a directory name and a slice index, and an
// unchecked "sha256:ab" once crashed pull with an index out of range.
type InvalidDigestError struct {
	What   string        // "diff_id", "layer digest", "config digest", "manifest digest"
	Where  string        // "image config", "manifest sha256:…", "index sha256:…"
	Digest digest.Digest // as the registry sent it
	Err    error         // go-digest's reason
}

func (e *InvalidDigestError) Error() string {
	return fmt.Sprintf("invalid %s %q in %s: %v", e.What, string(e.Digest), e.Where, e.Err)
}

func (e *InvalidDigestError) Unwrap() []error { return []error{ErrInvalidDigest, e.Err} }

// checkDigest is nil if d is well formed, else an *InvalidDigestError.
func checkDigest(d digest.Digest, what, where string) error {
	if err := d.Validate(); err != nil {
		return &InvalidDigestError{What: what, Where: where, Digest: d, Err: err}
	}
	return nil
}

// ResponseError is a registry's error answer: the HTTP status and the
// distribution spec's body {"errors":[{"code":…,"message":…}]}.
// errors.Is matches it against ErrAccessDenied (401, 403), ErrNotFound (404)
// and ErrTooManyRequests (429).
type ResponseError struct {
	Method     string
	URL        string
	StatusCode int
	Errors     []ErrorCode
}

// ErrorCode is one entry of a registry error body. Code is one of the spec's
// codes: BLOB_UNKNOWN, MANIFEST_UNKNOWN, NAME_UNKNOWN, UNAUTHORIZED, DENIED,
// TOOMANYREQUESTS, …
type ErrorCode struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error formats the body as Docker does: the code in lower case with spaces,
// a colon, the message ("manifest unknown: manifest unknown",
// "toomanyrequests: You have reached your pull rate limit…").
func (e *ResponseError) Error() string {
	if len(e.Errors) == 0 {
		return fmt.Sprintf("%s %s: unexpected status %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	}
	parts := make([]string, 0, len(e.Errors))
	for _, c := range e.Errors {
		parts = append(parts, strings.ToLower(strings.ReplaceAll(c.Code, "_", " "))+": "+c.Message)
	}
	return strings.Join(parts, "; ")
}

// Is maps the status to this package's sentinels.
func (e *ResponseError) Is(target error) bool {
	switch target {
	case ErrAccessDenied:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrTooManyRequests:
		return e.StatusCode == http.StatusTooManyRequests
	}
	return false
}

// HasCode reports whether the body carries the error code code.
func (e *ResponseError) HasCode(code string) bool {
	for _, c := range e.Errors {
		if c.Code == code {
			return true
		}
	}
	return false
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// responseError reads resp's body into a ResponseError and closes it.
func responseError(resp *http.Response) *ResponseError {
	defer resp.Body.Close()
	e := &ResponseError{
		Method:     resp.Request.Method,
		URL:        redact(resp.Request.URL),
		StatusCode: resp.StatusCode,
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Errors  []ErrorCode `json:"errors"`
		Details string      `json:"details"` // Docker Hub's token server
	}
	if json.Unmarshal(data, &body) == nil {
		e.Errors = body.Errors
		if len(e.Errors) == 0 && body.Details != "" {
			e.Errors = []ErrorCode{{Code: "UNAUTHORIZED", Message: body.Details}}
		}
	}
	if len(e.Errors) == 0 && resp.StatusCode == http.StatusTooManyRequests {
		// Keep Docker's prefix even when the body is not the spec's JSON.
		msg := strings.TrimSpace(string(data))
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		e.Errors = []ErrorCode{{Code: "TOOMANYREQUESTS", Message: msg}}
	}
	return e
}

func mismatch(sentinel error, want, got any) error {
	return fmt.Errorf("%w: expected %v, got %v", sentinel, want, got)
}
