package jsonlog

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Logger writes entries from any number of streams into one io.Writer
// (usually the container's <id>-json.log opened with O_APPEND). It is safe
// for concurrent use: each entry is one Write call made under a mutex.
type Logger struct {
	clock func() time.Time

	mu  sync.Mutex
	w   io.Writer
	buf []byte
	err error
}

// New returns a Logger writing to w. clock stamps each line; nil means
// time.Now. The caller keeps ownership of w and closes it after the
// streams are closed.
func New(w io.Writer, clock func() time.Time) *Logger {
	if clock == nil {
		clock = time.Now
	}
	return &Logger{w: w, clock: clock}
}

// Log writes e and its newline with one Write call. Log does not split or
// change e.Log; Stream does that for a byte stream.
func (l *Logger) Log(e *Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = e.AppendJSON(l.buf[:0])
	l.buf = append(l.buf, '\n')
	_, err := l.w.Write(l.buf)
	if err != nil {
		err = fmt.Errorf("write %s log entry: %w", e.Stream, err)
		if l.err == nil {
			l.err = err
		}
	}
	return err
}

// Err returns the first error a Write to the underlying writer returned,
// or nil. A Stream swallows write errors so that the copy from the
// container's pipe never stops (Docker drops log lines instead of
// blocking the container); Err is where they surface.
func (l *Logger) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Stream returns a writer that turns the bytes written to it into entries
// of the named stream (Stdout or Stderr): one entry per line, lines longer
// than MaxLineSize cut into MaxLineSize pieces. Bytes after the last
// newline wait for the next Write; Close writes them as a last entry
// without a newline. Each stream buffers on its own, so stdout and stderr
// never mix inside an entry.
func (l *Logger) Stream(name string) io.WriteCloser {
	return &streamWriter{l: l, name: name}
}

// streamWriter is Docker's copier (daemon/logger/copier.go) for one stream.
type streamWriter struct {
	l    *Logger
	name string

	mu        sync.Mutex
	pending   []byte    // bytes not yet written: no newline among the first MaxLineSize
	partialTS time.Time // time of the first fragment of a long line, zero otherwise
	closed    bool
}

var _ io.WriteCloser = (*streamWriter)(nil)

// Write always reports len(p), nil unless the stream is closed; see
// Logger.Err.
func (s *streamWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("write %s: %w", s.name, os.ErrClosed)
	}
	s.pending = append(s.pending, p...)
	start := 0
	for {
		rest := s.pending[start:]
		window := rest[:min(len(rest), MaxLineSize)]
		if i := bytes.IndexByte(window, '\n'); i >= 0 {
			s.emit(rest[:i+1], false)
			start += i + 1
			continue
		}
		if len(rest) >= MaxLineSize {
			s.emit(rest[:MaxLineSize], true)
			start += MaxLineSize
			continue
		}
		break
	}
	// Keep the remainder at the front; reuse the array while it is small.
	n := copy(s.pending, s.pending[start:])
	s.pending = s.pending[:n]
	return len(p), nil
}

// emit writes one entry. All pieces of a long line carry the time of the
// first piece, as Docker's partial messages do.
func (s *streamWriter) emit(text []byte, partial bool) {
	ts := s.partialTS
	if ts.IsZero() {
		ts = s.l.clock()
	}
	if partial {
		s.partialTS = ts
	} else {
		s.partialTS = time.Time{}
	}
	_ = s.l.Log(&Entry{Log: text, Stream: s.name, Time: ts}) // kept in l.err
}

// Close writes what is left without a newline, if anything. It does not
// close the Logger's writer.
func (s *streamWriter) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if len(s.pending) > 0 {
		s.emit(s.pending, true)
		s.pending = nil
	}
	return nil
}
