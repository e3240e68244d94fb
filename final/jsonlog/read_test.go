package jsonlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testLog is a small log written by Docker: stdout and stderr mixed,
// times one second apart, the second a whole second (no fraction).
const testLog = `{"log":"one\n","stream":"stdout","time":"2026-11-22T10:00:01.5Z"}
{"log":"two \u003cerr\u003e\n","stream":"stderr","time":"2026-11-22T10:00:02Z"}
{"log":"three\n","stream":"stdout","attrs":{"tag":"web"},"time":"2026-11-22T10:00:03.000000001Z"}
{"log":"four","stream":"stderr","time":"2026-11-22T10:00:04.123456789Z"}
`

func TestRead(t *testing.T) {
	at := func(sec int) time.Time { return time.Date(2026, 11, 22, 10, 0, sec, 0, time.UTC) }
	tests := []struct {
		name       string
		log        string
		opts       ReadOptions
		wantStdout string
		wantStderr string
	}{
		{
			name:       "all",
			log:        testLog,
			opts:       ReadOptions{Tail: TailAll},
			wantStdout: "one\nthree\n",
			wantStderr: "two <err>\nfour",
		},
		{
			name:       "timestamps with nine digits always",
			log:        testLog,
			opts:       ReadOptions{Tail: TailAll, Timestamps: true},
			wantStdout: "2026-11-22T10:00:01.500000000Z one\n2026-11-22T10:00:03.000000001Z three\n",
			wantStderr: "2026-11-22T10:00:02.000000000Z two <err>\n2026-11-22T10:00:04.123456789Z four",
		},
		{
			name:       "tail 2",
			log:        testLog,
			opts:       ReadOptions{Tail: 2},
			wantStdout: "three\n",
			wantStderr: "four",
		},
		{
			name: "tail 0",
			log:  testLog,
			opts: ReadOptions{Tail: 0},
		},
		{
			name:       "tail more than there is",
			log:        testLog,
			opts:       ReadOptions{Tail: 100},
			wantStdout: "one\nthree\n",
			wantStderr: "two <err>\nfour",
		},
		{
			name:       "since",
			log:        testLog,
			opts:       ReadOptions{Tail: TailAll, Since: at(2)},
			wantStdout: "three\n",
			wantStderr: "two <err>\nfour",
		},
		{
			name:       "until",
			log:        testLog,
			opts:       ReadOptions{Tail: TailAll, Until: at(3)},
			wantStdout: "one\n",
			wantStderr: "two <err>\n",
		},
		{
			name:       "tail then since",
			log:        testLog,
			opts:       ReadOptions{Tail: 3, Since: at(3)},
			wantStdout: "three\n",
			wantStderr: "four",
		},
		{
			name:       "an unterminated last line is still being written",
			log:        testLog + `{"log":"fi`,
			opts:       ReadOptions{Tail: 1},
			wantStderr: "four",
		},
		{
			name:       "empty lines skipped",
			log:        "\n" + testLog + "\n",
			opts:       ReadOptions{Tail: TailAll},
			wantStdout: "one\nthree\n",
			wantStderr: "two <err>\nfour",
		},
		{
			name: "empty file",
			log:  "",
			opts: ReadOptions{Tail: 5},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := Read(strings.NewReader(tc.log), tc.opts, &stdout, &stderr)
			require.NoError(t, err)
			if got := stdout.String(); got != tc.wantStdout {
				t.Errorf("stdout = %q, want %q", got, tc.wantStdout)
			}
			if got := stderr.String(); got != tc.wantStderr {
				t.Errorf("stderr = %q, want %q", got, tc.wantStderr)
			}
		})
	}
}

func TestReadInvalid(t *testing.T) {
	log := testLog + "garbage\n"
	err := Read(strings.NewReader(log), ReadOptions{Tail: TailAll}, io.Discard, io.Discard)
	if !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("Read(garbage) = %v, want ErrInvalidEntry", err)
	}
	if want := fmt.Sprintf("offset %d", len(testLog)); !strings.Contains(err.Error(), want) {
		t.Errorf("Read(garbage) = %v, want it to name %q", err, want)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	io.ReadSeeker
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadSeeker.Read(p)
	c.n += int64(n)
	return n, err
}

// bigLog returns n entries "line i\n" alternating stdout and stderr.
func bigLog(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	l := New(&buf, fixedClock)
	for i := range n {
		stream := Stdout
		if i%2 == 1 {
			stream = Stderr
		}
		require.NoError(tb, l.Log(&Entry{Log: fmt.Appendf(nil, "line %d\n", i), Stream: stream, Time: testTime}))
	}
	return buf.Bytes()
}

// TestTailAcrossBlocks compares --tail with the last lines of --tail all,
// for counts on both sides of the 32 KiB block boundaries, and checks that
// a short tail reads a short end of the file.
func TestTailAcrossBlocks(t *testing.T) {
	const total = 20000 // about 1.6 MB
	log := bigLog(t, total)
	var all bytes.Buffer
	require.NoError(t, Read(bytes.NewReader(log), ReadOptions{Tail: TailAll}, &all, &all))
	lines := strings.SplitAfter(all.String(), "\n")
	lines = lines[:len(lines)-1] // after the last newline

	for _, n := range []int{1, 3, 399, 400, 401, 5000, total - 1, total, total + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			cr := &countingReader{ReadSeeker: bytes.NewReader(log)}
			var got bytes.Buffer
			require.NoError(t, Read(cr, ReadOptions{Tail: n}, &got, &got))
			want := strings.Join(lines[max(0, len(lines)-n):], "")
			if got.String() != want {
				t.Errorf("Read(tail %d) = %d bytes, want %d", n, got.Len(), len(want))
			}
			if n <= 400 && cr.n > 3*blockSize+int64(n)*100 {
				t.Errorf("Read(tail %d) read %d bytes of %d", n, cr.n, len(log))
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe to read while Follow writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func openLog(t *testing.T) (path string, f *os.File) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "c-json.log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return path, f
}

type followResult struct{ err error }

func startFollow(t *testing.T, ctx context.Context, path string, opts ReadOptions, stdout, stderr io.Writer, done <-chan struct{}) <-chan followResult {
	t.Helper()
	ch := make(chan followResult, 1)
	go func() { ch <- followResult{Follow(ctx, path, opts, stdout, stderr, done)} }()
	return ch
}

func TestFollowUntilExit(t *testing.T) {
	path, f := openLog(t)
	l := New(f, nil)
	out, errw := l.Stream(Stdout), l.Stream(Stderr)
	_, err := io.WriteString(out, "before 1\nbefore 2\n")
	require.NoError(t, err)

	var stdout, stderr syncBuffer
	done := make(chan struct{})
	result := startFollow(t, t.Context(), path, ReadOptions{Tail: 1}, &stdout, &stderr, done)

	waitFor(t, "the tail", func() bool { return stdout.String() == "before 2\n" })
	_, err = io.WriteString(errw, "after 1\n")
	require.NoError(t, err)
	waitFor(t, "a new entry", func() bool { return stderr.String() == "after 1\n" })

	// The container writes its last lines and exits: they must be printed
	// even though done is closed right after the write.
	for i := range 100 {
		fmt.Fprintf(out, "last %d\n", i)
	}
	_, err = io.WriteString(out, "no newline")
	require.NoError(t, err)
	require.NoError(t, out.Close())
	require.NoError(t, errw.Close())
	close(done)

	select {
	case r := <-result:
		require.NoError(t, r.err)
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return after done was closed")
	}
	var want strings.Builder
	want.WriteString("before 2\n")
	for i := range 100 {
		fmt.Fprintf(&want, "last %d\n", i)
	}
	want.WriteString("no newline")
	if got := stdout.String(); got != want.String() {
		t.Errorf("stdout = %q, want %q", got, want.String())
	}
}

// TestFollowTornLine appends one entry in two writes, as a reader may see
// it mid-write: nothing is printed until the newline arrives.
func TestFollowTornLine(t *testing.T) {
	path, f := openLog(t)
	entry := string((&Entry{Log: []byte("whole\n"), Stream: Stdout, Time: testTime}).AppendJSON(nil)) + "\n"

	var stdout syncBuffer
	done := make(chan struct{})
	result := startFollow(t, t.Context(), path, ReadOptions{Tail: TailAll}, &stdout, io.Discard, done)

	_, err := f.WriteString(entry[:10])
	require.NoError(t, err)
	time.Sleep(3 * PollInterval)
	if got := stdout.String(); got != "" {
		t.Fatalf("printed %q from half an entry", got)
	}
	_, err = f.WriteString(entry[10:])
	require.NoError(t, err)
	waitFor(t, "the whole entry", func() bool { return stdout.String() == "whole\n" })
	close(done)
	require.NoError(t, (<-result).err)
}

func TestFollowCanceled(t *testing.T) {
	path, _ := openLog(t)
	ctx, cancel := context.WithCancel(t.Context())
	result := startFollow(t, ctx, path, ReadOptions{Tail: TailAll}, io.Discard, io.Discard, nil)
	time.Sleep(2 * PollInterval)
	cancel()
	select {
	case r := <-result:
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("Follow after cancel = %v, want context.Canceled", r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return after cancel")
	}
}

func TestFollowMissingFile(t *testing.T) {
	err := Follow(t.Context(), filepath.Join(t.TempDir(), "nope"), ReadOptions{}, io.Discard, io.Discard, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Follow(missing) = %v, want os.ErrNotExist", err)
	}
}

func BenchmarkRead(b *testing.B) {
	log := bigLog(b, 10000)
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		if err := Read(bytes.NewReader(log), ReadOptions{Tail: TailAll, Timestamps: true}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadTail10(b *testing.B) {
	log := bigLog(b, 100000) // about 8 MB
	for b.Loop() {
		if err := Read(bytes.NewReader(log), ReadOptions{Tail: 10}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
