package jsonlog

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

var testTime = time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)

func TestEntryAppendJSON(t *testing.T) {
	tests := []struct {
		name  string
		entry Entry
		want  string
	}{
		{
			name:  "line",
			entry: Entry{Log: []byte("hello\n"), Stream: Stdout, Time: testTime},
			want:  `{"log":"hello\n","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}`,
		},
		{
			name:  "quotes and backslash",
			entry: Entry{Log: []byte(`say "hi" \ bye`), Stream: Stderr, Time: testTime},
			want:  `{"log":"say \"hi\" \\ bye","stream":"stderr","time":"2026-11-22T10:00:00.123456789Z"}`,
		},
		{
			name:  "html characters escaped like moby",
			entry: Entry{Log: []byte("<b>&</b>"), Stream: Stdout, Time: testTime},
			want:  `{"log":"\u003cb\u003e\u0026\u003c/b\u003e","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}`,
		},
		{
			name:  "control characters: only \\n and \\r get short escapes",
			entry: Entry{Log: []byte("a\tb\x01c\x1f\r\n\b\f"), Stream: Stdout, Time: testTime},
			want:  `{"log":"a\u0009b\u0001c\u001f\r\n\u0008\u000c","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}`,
		},
		{
			name:  "unicode kept, DEL kept",
			entry: Entry{Log: []byte("é ψ 🚀 \x7f"), Stream: Stdout, Time: testTime},
			want:  "{\"log\":\"é ψ 🚀 \x7f\",\"stream\":\"stdout\",\"time\":\"2026-11-22T10:00:00.123456789Z\"}",
		},
		{
			name:  "line and paragraph separators",
			entry: Entry{Log: []byte("\u2028 \u2029"), Stream: Stdout, Time: testTime},
			want:  `{"log":"\u2028 \u2029","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}`,
		},
		{
			name:  "invalid UTF-8 becomes U+FFFD",
			entry: Entry{Log: []byte("a\xafb\xff"), Stream: Stdout, Time: testTime},
			want:  `{"log":"a\ufffdb\ufffd","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}`,
		},
		{
			name:  "trailing zeros of the time dropped",
			entry: Entry{Log: []byte("x"), Stream: Stdout, Time: time.Date(2017, 9, 1, 1, 1, 1, 100000000, time.UTC)},
			want:  `{"log":"x","stream":"stdout","time":"2017-09-01T01:01:01.1Z"}`,
		},
		{
			name:  "whole second",
			entry: Entry{Log: []byte("x"), Stream: Stdout, Time: time.Date(2017, 9, 1, 1, 1, 1, 0, time.UTC)},
			want:  `{"log":"x","stream":"stdout","time":"2017-09-01T01:01:01Z"}`,
		},
		{
			name:  "time in another zone written in UTC",
			entry: Entry{Log: []byte("x"), Stream: Stdout, Time: time.Date(2026, 11, 22, 12, 0, 0, 1, time.FixedZone("CEST", 2*3600))},
			want:  `{"log":"x","stream":"stdout","time":"2026-11-22T10:00:00.000000001Z"}`,
		},
		{
			name:  "empty fields left out, as moby's omitempty",
			entry: Entry{},
			want:  `{"time":"0001-01-01T00:00:00Z"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(tc.entry.AppendJSON(nil))
			if got != tc.want {
				t.Errorf("AppendJSON() =\n%s\nwant\n%s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("AppendJSON() = %s: not valid JSON", got)
			}
		})
	}
}

// TestParseMobyLines reads lines as Docker writes them, attrs included.
func TestParseMobyLines(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Entry
	}{
		{
			name: "stdout",
			line: `{"log":"hello\n","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}` + "\n",
			want: Entry{Log: []byte("hello\n"), Stream: Stdout, Time: testTime},
		},
		{
			name: "escapes",
			line: `{"log":"\u003chtml\u003e \u0026 \u0009\"q\"\\\r\n","stream":"stderr","time":"2026-11-22T10:00:00.5Z"}`,
			want: Entry{Log: []byte("<html> & \t\"q\"\\\r\n"), Stream: Stderr, Time: time.Date(2026, 11, 22, 10, 0, 0, 500000000, time.UTC)},
		},
		{
			name: "attrs from --log-opt labels",
			line: `{"log":"x\n","stream":"stdout","attrs":{"tag":"web"},"time":"2026-11-22T10:00:00.123456789Z"}`,
			want: Entry{Log: []byte("x\n"), Stream: Stdout, Time: testTime},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.line))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.line, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.line, diff)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	for _, line := range []string{`{"log":"x`, `not json`, `{"log":1}`} {
		if _, err := Parse([]byte(line)); !errors.Is(err, ErrInvalidEntry) {
			t.Errorf("Parse(%q) = %v, want ErrInvalidEntry", line, err)
		}
	}
}

// FuzzEntryRoundTrip checks that what we write, encoding/json and Parse
// read back as the same text (after the U+FFFD replacement of invalid
// UTF-8, which Docker does too).
func FuzzEntryRoundTrip(f *testing.F) {
	for _, s := range []string{"hello\n", "<>&\"\\", "\x00\x01\t\r\n", "é🚀\u2028", "\xff\xfe", strings.Repeat("ab", 100)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, log []byte) {
		e := Entry{Log: log, Stream: Stderr, Time: testTime}
		line := e.AppendJSON(nil)
		if len(log) == 0 {
			return
		}
		got, err := Parse(line)
		if err != nil {
			t.Fatalf("Parse(%s): %v", line, err)
		}
		want := []byte(strings.ToValidUTF8(string(log), "\uFFFD"))
		if !utf8.Valid(log) {
			// ToValidUTF8 folds a run of bad bytes into one U+FFFD; the
			// encoder replaces each byte. Compare byte-wise replacement.
			want = want[:0]
			for i := 0; i < len(log); {
				r, size := utf8.DecodeRune(log[i:])
				want = utf8.AppendRune(want, r)
				i += size
			}
		}
		if string(got.Log) != string(want) || got.Stream != Stderr || !got.Time.Equal(testTime) {
			t.Errorf("Parse(AppendJSON(%q)) = %q, %q, %v", log, got.Log, got.Stream, got.Time)
		}
	})
}
