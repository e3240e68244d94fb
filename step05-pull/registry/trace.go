package registry

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// tracer writes each exchange to w, like curl -v: request lines start
// with '>', response lines with '<'. An exchange is written in one Write
// once its answer has arrived, so concurrent downloads do not interleave.
type tracer struct {
	rt http.RoundTripper
	mu sync.Mutex
	w  io.Writer
}

var _ http.RoundTripper = (*tracer)(nil)

func (t *tracer) RoundTrip(req *http.Request) (*http.Response, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s %s\n", req.Method, redact(req.URL))
	if auth := req.Header.Get("Authorization"); auth != "" {
		scheme, _, _ := strings.Cut(auth, " ")
		fmt.Fprintf(&b, "> Authorization: %s <redacted>\n", scheme)
	}
	// The headers worth showing in a lesson; Authorization shows its scheme
	// only, never the token or the password.
	writeHeaders(&b, ">", req.Header, "Accept", "Range")
	resp, err := t.rt.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(&b, "< error: %v\n", err)
	} else {
		fmt.Fprintf(&b, "< %s\n", resp.Status)
		writeHeaders(&b, "<", resp.Header, "Www-Authenticate", "Docker-Content-Digest",
			"Content-Type", "Content-Length", "Content-Range", "Location")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(t.w, b.String())
	return resp, err
}

func writeHeaders(b *strings.Builder, prefix string, h http.Header, names ...string) {
	for _, name := range names {
		for _, v := range h.Values(name) {
			fmt.Fprintf(b, "%s %s: %s\n", prefix, name, v)
		}
	}
}
