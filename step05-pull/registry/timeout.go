package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ErrTimeout means a registry stopped answering: no connection, no
// response headers, or no byte of a body, within the client's timeouts
// (WithTimeouts). The error is a *TimeoutError.
var ErrTimeout = errors.New("registry timeout")

// TimeoutError says which timeout a registry ran into:
//
//	registry 127.0.0.1:5000 sent no byte for 300ms (idle-read timeout)
type TimeoutError struct {
	Host  string        // host:port
	What  string        // "sent no response headers", "sent no byte"
	After time.Duration // the timeout
	Kind  string        // "response-header", "idle-read"
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("registry %s %s for %v (%s timeout)", e.Host, e.What, e.After, e.Kind)
}

func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Timeout makes it a net.Error timeout, as the transport's own are.
func (e *TimeoutError) Timeout() bool { return true }

// A registry can fail in two ways: say no (an error status, a refused
// connection), which the code above handles, or say nothing. A client that
// waits for ever on a silent peer hangs the pull, and with it the command
// that holds the terminal. No total deadline fits every blob: a 2 GB layer
// on a slow link may take an hour and is fine as long as bytes keep coming.
// So three timeouts, each bounding a silence, never a transfer:
//
//   - connect: the TCP handshake (net.Dialer.Timeout);
//   - response headers: from sending a request to its status line;
//   - idle read: any one read of a body that waits that long for a byte.
//
// The last two are timers that cancel the request's context when they
// fire; context.Cause then tells our timeout from the caller's cancel.

// transport is http.DefaultTransport's settings with our connect timeout.
func transport(connect time.Duration) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	t.DialContext = d.DialContext
	return t
}

// roundTrip sends req once, with the response-header timeout, and gives
// the response a body that enforces the idle-read timeout.
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	host := req.URL.Host
	var headerTimer *time.Timer
	if d := c.opts.headerTimeout; d > 0 {
		headerTimer = time.AfterFunc(d, func() {
			cancel(&TimeoutError{Host: host, What: "sent no response headers", After: d, Kind: "response-header"})
		})
	}
	resp, err := c.http.Do(req.WithContext(ctx))
	if headerTimer != nil && !headerTimer.Stop() && err == nil {
		// It fired just as the headers arrived: the body is cancelled.
		resp.Body.Close()
		err = context.Cause(ctx)
	}
	if err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrTimeout) {
			err = fmt.Errorf("%s %s: %w", req.Method, redact(req.URL), cause)
		}
		cancel(nil)
		return nil, err
	}
	body := &idleBody{body: resp.Body, ctx: ctx, cancel: cancel, idle: c.opts.idleTimeout}
	if body.idle > 0 {
		body.timer = time.AfterFunc(time.Hour, func() {
			cancel(&TimeoutError{Host: host, What: "sent no byte", After: body.idle, Kind: "idle-read"})
		})
		body.timer.Stop()
	}
	resp.Body = body
	return resp, nil
}

// idleBody is a response body whose every Read must see a byte (or the
// end) within idle. Only the time spent inside Read counts: a caller busy
// writing what it read to disk is not an idle registry.
type idleBody struct {
	body   io.ReadCloser
	ctx    context.Context
	cancel context.CancelCauseFunc
	idle   time.Duration
	timer  *time.Timer // nil: no idle timeout
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.timer != nil {
		b.timer.Reset(b.idle)
	}
	n, err := b.body.Read(p)
	if b.timer != nil {
		b.timer.Stop()
	}
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); errors.Is(cause, ErrTimeout) {
			err = cause
		}
	}
	return n, err
}

func (b *idleBody) Close() error {
	if b.timer != nil {
		b.timer.Stop()
	}
	err := b.body.Close()
	b.cancel(nil)
	return err
}
