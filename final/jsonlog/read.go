package jsonlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// TailAll is ReadOptions.Tail for "every entry" (docker logs --tail all).
const TailAll = -1

// PollInterval is how often Follow looks for appended entries.
const PollInterval = 50 * time.Millisecond

// blockSize is how much Read reads at a time, forwards and backwards.
const blockSize = 32 * 1024

// ReadOptions are docker logs' flags.
type ReadOptions struct {
	// Tail is how many entries from the end to print (--tail N); TailAll
	// prints them all. The zero value prints none, as --tail 0 does.
	Tail int
	// Timestamps prefixes each text with its time in TimestampFormat and a
	// space (-t).
	Timestamps bool
	// Since skips entries older than it (--since); zero means no limit.
	Since time.Time
	// Until stops at the first entry newer than it (--until); zero means no
	// limit.
	Until time.Time
}

// errUntil ends a read at ReadOptions.Until.
var errUntil = errors.New("past until")

// Read writes the entries of the log r to stdout and stderr by their
// stream, as docker logs does without -f. An unterminated last line is an
// entry still being written and is left out.
func Read(r io.ReadSeeker, opts ReadOptions, stdout, stderr io.Writer) error {
	start, err := tailOffset(r, opts.Tail)
	if err != nil {
		return err
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("seek log to %d: %w", start, err)
	}
	d := newDecoder(opts, stdout, stderr, start)
	if err := d.readFrom(r); err != nil {
		if errors.Is(err, errUntil) {
			return nil
		}
		return err
	}
	return nil
}

// Follow prints the log at path like Read, then keeps printing entries as
// they are appended (docker logs -f), polling every PollInterval. It
// returns nil once done is closed (the container exited and its output was
// copied) and every entry written before that was printed, or ctx.Err()
// when ctx ends first. A nil done follows until ctx ends.
func Follow(ctx context.Context, path string, opts ReadOptions, stdout, stderr io.Writer, done <-chan struct{}) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	start, err := tailOffset(f, opts.Tail)
	if err != nil {
		return err
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return fmt.Errorf("seek %s to %d: %w", path, start, err)
	}
	d := newDecoder(opts, stdout, stderr, start)
	ticker := time.NewTicker(PollInterval)
	defer ticker.Stop()
	for {
		// Look at done before reading: whatever was written before the
		// container was reported done is then in this read.
		exited := isClosed(done)
		if err := d.readFrom(f); err != nil {
			if errors.Is(err, errUntil) {
				return nil
			}
			return fmt.Errorf("follow %s: %w", path, err)
		}
		if exited {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
		case <-ticker.C:
		}
	}
}

func isClosed(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// tailOffset returns where the last n complete entries of r begin (0 when
// n < 0 or r has fewer), reading backwards from the end in blocks. The
// entries are the lines ending at the last n newlines; what follows the
// last newline is not an entry yet.
func tailOffset(r io.ReadSeeker, n int) (int64, error) {
	if n < 0 {
		return 0, nil
	}
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("seek log end: %w", err)
	}
	buf := make([]byte, blockSize)
	seen := 0 // newlines seen; the (n+1)th from the end ends the entry before ours
	for pos := end; pos > 0; {
		size := min(int64(len(buf)), pos)
		pos -= size
		if _, err := r.Seek(pos, io.SeekStart); err != nil {
			return 0, fmt.Errorf("seek log to %d: %w", pos, err)
		}
		block := buf[:size]
		if _, err := io.ReadFull(r, block); err != nil {
			return 0, fmt.Errorf("read log at %d: %w", pos, err)
		}
		for i := len(block) - 1; i >= 0; i-- {
			if block[i] != '\n' {
				continue
			}
			seen++
			if seen == n+1 {
				return pos + int64(i) + 1, nil
			}
		}
	}
	return 0, nil
}

// decoder turns a byte stream of entries into writes to stdout and stderr.
// It keeps an unterminated line until the rest of it arrives.
type decoder struct {
	opts           ReadOptions
	stdout, stderr io.Writer
	offset         int64  // file offset of pending[0], for error messages
	pending        []byte // bytes read but not yet decoded (no newline in them)
	out            []byte // one output write: timestamp prefix + text
}

func newDecoder(opts ReadOptions, stdout, stderr io.Writer, offset int64) *decoder {
	return &decoder{opts: opts, stdout: stdout, stderr: stderr, offset: offset}
}

// readFrom reads r to its current end and writes every complete entry.
func (d *decoder) readFrom(r io.Reader) error {
	for {
		if cap(d.pending)-len(d.pending) < blockSize/2 {
			grown := make([]byte, len(d.pending), 2*cap(d.pending)+blockSize)
			copy(grown, d.pending)
			d.pending = grown
		}
		n, err := r.Read(d.pending[len(d.pending):cap(d.pending)])
		if n > 0 {
			d.pending = d.pending[:len(d.pending)+n]
			if err := d.decodeLines(); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) || (n == 0 && err == nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read log: %w", err)
		}
	}
}

// decodeLines writes the complete lines of d.pending and keeps the rest.
func (d *decoder) decodeLines() error {
	start := 0
	for {
		i := bytes.IndexByte(d.pending[start:], '\n')
		if i < 0 {
			break
		}
		line := d.pending[start : start+i]
		if err := d.write(line); err != nil {
			return fmt.Errorf("decode log entry at offset %d: %w", d.offset+int64(start), err)
		}
		start += i + 1
	}
	n := copy(d.pending, d.pending[start:])
	d.pending = d.pending[:n]
	d.offset += int64(start)
	return nil
}

func (d *decoder) write(line []byte) error {
	if len(bytes.TrimSpace(line)) == 0 {
		return nil
	}
	e, err := Parse(line)
	if err != nil {
		return err
	}
	if !d.opts.Since.IsZero() && e.Time.Before(d.opts.Since) {
		return nil
	}
	if !d.opts.Until.IsZero() && e.Time.After(d.opts.Until) {
		return errUntil
	}
	d.out = d.out[:0]
	if d.opts.Timestamps {
		d.out = e.Time.UTC().AppendFormat(d.out, TimestampFormat)
		d.out = append(d.out, ' ')
	}
	d.out = append(d.out, e.Log...)
	w := d.stdout
	if e.Stream == Stderr {
		w = d.stderr
	}
	if _, err := w.Write(d.out); err != nil {
		return fmt.Errorf("write %s: %w", e.Stream, err)
	}
	return nil
}
