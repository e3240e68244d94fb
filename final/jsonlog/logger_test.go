package jsonlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func fixedClock() time.Time { return testTime }

// line is the golden form of one stdout entry at testTime.
func line(escapedLog string) string {
	return `{"log":"` + escapedLog + `","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}` + "\n"
}

func TestStreamGolden(t *testing.T) {
	long := strings.Repeat("x", MaxLineSize)
	tests := []struct {
		name   string
		writes []string
		close  bool
		want   string
	}{
		{
			name:   "one line",
			writes: []string{"hello\n"},
			want:   line(`hello\n`),
		},
		{
			name:   "several lines in one write",
			writes: []string{"a\nb\n\nc\n"},
			want:   line(`a\n`) + line(`b\n`) + line(`\n`) + line(`c\n`),
		},
		{
			name:   "a line across writes",
			writes: []string{"par", "ti", "al\nnext", "\n"},
			want:   line(`partial\n`) + line(`next\n`),
		},
		{
			name:   "nothing before the newline arrives",
			writes: []string{"no newline yet"},
			want:   "",
		},
		{
			name:   "unterminated end written as is on close",
			writes: []string{"done\nno newline"},
			close:  true,
			want:   line(`done\n`) + line(`no newline`),
		},
		{
			name:   "close with nothing pending writes nothing",
			writes: []string{"done\n", ""},
			close:  true,
			want:   line(`done\n`),
		},
		{
			name:   "escapes",
			writes: []string{"say \"hi\" \\ <a&b> \t é 🚀 \x01\r\n"},
			want:   line(`say \"hi\" \\ \u003ca\u0026b\u003e \u0009 é 🚀 \u0001\r\n`),
		},
		{
			name:   "longest whole line",
			writes: []string{long[1:] + "\n"},
			want:   line(long[1:] + `\n`),
		},
		{
			name:   "16 KiB line: a full piece, then its newline alone",
			writes: []string{long + "\n"},
			want:   line(long) + line(`\n`),
		},
		{
			name:   "long line split at 16 KiB",
			writes: []string{long + long + "tail\nnext\n"},
			want:   line(long) + line(long) + line(`tail\n`) + line(`next\n`),
		},
		{
			name:   "long line split across small writes",
			writes: []string{long[:100], long[100:], "yz", "\n"},
			want:   line(long) + line(`yz\n`),
		},
		{
			name:   "long unterminated line on close",
			writes: []string{long + "end"},
			close:  true,
			want:   line(long) + line(`end`),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := New(&buf, fixedClock).Stream(Stdout)
			for _, s := range tc.writes {
				n, err := w.Write([]byte(s))
				require.NoError(t, err)
				require.Equal(t, len(s), n)
			}
			if tc.close {
				require.NoError(t, w.Close())
			}
			if got := buf.String(); got != tc.want {
				t.Errorf("log file =\n%.300s\nwant\n%.300s", got, tc.want)
			}
		})
	}
}

// TestStreamPartialTime checks that the pieces of a long line carry the
// time of the first piece, and whole lines the time they were complete.
func TestStreamPartialTime(t *testing.T) {
	tick := testTime
	clock := func() time.Time { tick = tick.Add(time.Second); return tick }
	var buf bytes.Buffer
	w := New(&buf, clock).Stream(Stderr)
	_, err := io.WriteString(w, strings.Repeat("y", 2*MaxLineSize)+"end\nnext\n")
	require.NoError(t, err)

	var got []string
	for _, l := range strings.SplitAfter(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		e, err := Parse([]byte(l))
		require.NoError(t, err, "parse %q", l)
		got = append(got, fmt.Sprintf("%d %s", len(e.Log), e.Time.Format(time.TimeOnly)))
	}
	want := []string{"16384 10:00:01", "16384 10:00:01", "4 10:00:01", "5 10:00:02"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("entries (length time) = %v, want %v", got, want)
	}
}

func TestStreamWriteAfterClose(t *testing.T) {
	w := New(io.Discard, nil).Stream(Stdout)
	require.NoError(t, w.Close())
	if _, err := w.Write([]byte("x\n")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close = %v, want os.ErrClosed", err)
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("no space left on device")
}

// TestStreamKeepsDraining checks that a failing log file does not stop the
// copy from the container's pipe: Write succeeds, Err reports.
func TestStreamKeepsDraining(t *testing.T) {
	fw := &failingWriter{}
	l := New(fw, fixedClock)
	n, err := io.Copy(l.Stream(Stdout), strings.NewReader("a\nb\nc\n"))
	require.NoError(t, err, "io.Copy into a stream whose file fails")
	require.EqualValues(t, 6, n)
	if fw.n != 3 {
		t.Errorf("underlying writes = %d, want 3", fw.n)
	}
	if err := l.Err(); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("Err() = %v, want the write error", err)
	}
}

// entryCheckingWriter fails the test if a Write call is not exactly one
// whole entry: a reader of the file would then see half a line.
type entryCheckingWriter struct {
	t            *testing.T
	bytes.Buffer // Logger serializes the Write calls
}

func (w *entryCheckingWriter) Write(p []byte) (int, error) {
	if bytes.IndexByte(p, '\n') != len(p)-1 {
		w.t.Errorf("Write(%.80q): not one newline-terminated entry", p)
	}
	if _, err := Parse(p); err != nil {
		w.t.Errorf("Write(%.80q): %v", p, err)
	}
	return w.Buffer.Write(p)
}

// TestConcurrentStreams copies two streams at once, as the monitor does,
// in random chunk sizes, and checks that each stream reads back whole.
func TestConcurrentStreams(t *testing.T) {
	out := &entryCheckingWriter{t: t}
	l := New(out, nil)
	want := map[string]string{}
	var wg sync.WaitGroup
	for i, name := range []string{Stdout, Stderr} {
		var text strings.Builder
		rng := rand.New(rand.NewPCG(uint64(i), 42))
		for j := range 2000 {
			fmt.Fprintf(&text, "%s line %d %s\n", name, j, strings.Repeat("z", rng.IntN(200)))
		}
		text.WriteString(strings.Repeat("L", 3*MaxLineSize) + "\nlast without newline")
		want[name] = text.String()
		wg.Go(func() {
			w := l.Stream(name)
			data := []byte(want[name])
			for len(data) > 0 {
				n := min(len(data), 1+rng.IntN(4096))
				if _, err := w.Write(data[:n]); err != nil {
					t.Errorf("Write: %v", err)
					return
				}
				data = data[n:]
			}
			if err := w.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	wg.Wait()
	require.NoError(t, l.Err())

	var stdout, stderr bytes.Buffer
	require.NoError(t, Read(bytes.NewReader(out.Bytes()), ReadOptions{Tail: TailAll}, &stdout, &stderr))
	if stdout.String() != want[Stdout] {
		t.Errorf("stdout read back differs: %d bytes, want %d", stdout.Len(), len(want[Stdout]))
	}
	if stderr.String() != want[Stderr] {
		t.Errorf("stderr read back differs: %d bytes, want %d", stderr.Len(), len(want[Stderr]))
	}
	// Every line of the file is an entry.
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if _, err := Parse(sc.Bytes()); err != nil {
			t.Fatalf("line %.80q: %v", sc.Text(), err)
		}
	}
}

func BenchmarkStreamWrite(b *testing.B) {
	l := New(io.Discard, fixedClock)
	w := l.Stream(Stdout)
	text := []byte(strings.Repeat("0123456789", 8) + "\n") // an 81-byte line
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Write(text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamWriteFile(b *testing.B) {
	f, err := os.OpenFile(b.TempDir()+"/x-json.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	require.NoError(b, err)
	b.Cleanup(func() { f.Close() })
	w := New(f, nil).Stream(Stdout)
	text := []byte(strings.Repeat("0123456789", 8) + "\n")
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := w.Write(text); err != nil {
			b.Fatal(err)
		}
	}
}
