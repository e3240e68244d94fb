package engine

// Detach keys: with a pty, the client's keystrokes go raw to the
// container, Ctrl-C included, so leaving it running needs a key sequence
// of its own, Docker's Ctrl-P Ctrl-Q by default (--detach-keys to change
// it). The sequence is watched in the input stream: its bytes are held
// back while they match, passed on when the match breaks, and the whole
// sequence ends the input with ErrDetached instead of reaching the
// container.

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// DefaultDetachKeys is Docker's sequence, Ctrl-P Ctrl-Q.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// ErrDetached is the end of an input that read the detach keys; its text
// is what the docker CLI prints then.
var ErrDetached = errors.New("read escape sequence")

// ParseDetachKeys reads Docker's format: keys separated by commas, each a
// single character ("a", "X") or "ctrl-" and one of a-z, @, [, \, ], ^, _
// (the control characters 0 to 31: ctrl-@ is 0, ctrl-a 1, ctrl-[ 27).
func ParseDetachKeys(s string) ([]byte, error) {
	var keys []byte
	for _, k := range strings.Split(s, ",") {
		if len(k) == 1 {
			keys = append(keys, k[0])
			continue
		}
		c, ok := strings.CutPrefix(strings.ToLower(k), "ctrl-")
		switch {
		case !ok || len(c) != 1:
		case c[0] >= 'a' && c[0] <= 'z':
			keys = append(keys, c[0]-'a'+1)
			continue
		case strings.Contains(`@[\]^_`, c):
			keys = append(keys, c[0]-'@')
			continue
		}
		return nil, fmt.Errorf("invalid detach keys (%s): unknown character %q", s, k)
	}
	return keys, nil
}

// DetachReader passes its input on until it reads the detach keys; then
// Read returns ErrDetached and Detached is closed.
type DetachReader struct {
	r        io.Reader
	keys     []byte
	matched  int    // how many bytes of keys were just read (held back)
	out      []byte // what to give the next Reads
	buf      []byte
	err      error
	detached chan struct{}
	once     sync.Once
}

// NewDetachReader watches r for keys (ParseDetachKeys).
func NewDetachReader(r io.Reader, keys []byte) *DetachReader {
	return &DetachReader{r: r, keys: keys, buf: make([]byte, 32<<10), detached: make(chan struct{})}
}

// Detached is closed once the keys were read.
func (d *DetachReader) Detached() <-chan struct{} { return d.detached }

func (d *DetachReader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.r.Read(d.buf)
		for _, b := range d.buf[:n] {
			if b == d.keys[d.matched] {
				d.matched++
				if d.matched == len(d.keys) {
					d.err = ErrDetached
					d.once.Do(func() { close(d.detached) })
					break
				}
				continue
			}
			// Not the sequence after all: what was held back goes on.
			d.out = append(d.out, d.keys[:d.matched]...)
			d.matched = 0
			if b == d.keys[0] {
				d.matched = 1
				continue
			}
			d.out = append(d.out, b)
		}
		if err != nil && d.err == nil {
			d.out = append(d.out, d.keys[:d.matched]...)
			d.matched, d.err = 0, err
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}
