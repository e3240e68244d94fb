package jsonlog

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"
)

// Stream names, as stored in an entry's "stream" field.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// MaxLineSize is the longest text one entry carries. A longer line is split
// into entries of this size without a newline, as Docker's copier does with
// its 16 KiB buffer.
const MaxLineSize = 16 * 1024

// timeFormat is how the "time" field is written: RFC 3339 with up to nine
// fractional digits, trailing zeros dropped (Go's RFC3339Nano, which moby
// uses).
const timeFormat = time.RFC3339Nano

// TimestampFormat is the "-t" prefix of docker logs: nine digits always, so
// that the columns line up (moby's jsonmessage.RFC3339NanoFixed).
const TimestampFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Entry is one line of a json-file log.
type Entry struct {
	// Log is the text, with its trailing newline unless it is a fragment of a
	// long line or the unterminated end of a stream.
	Log []byte
	// Stream is Stdout or Stderr.
	Stream string
	// Time is when the line was read from the container.
	Time time.Time
}

// AppendJSON appends e as moby's encoder writes it, without the newline
// that ends the entry in a file: {"log":...,"stream":...,"time":...}. Empty
// Log and Stream are left out, as moby's omitempty does. The time is written
// in UTC.
func (e *Entry) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	if len(e.Log) > 0 {
		dst = append(dst, `"log":`...)
		dst = appendString(dst, e.Log)
		dst = append(dst, ',')
	}
	if e.Stream != "" {
		dst = append(dst, `"stream":`...)
		dst = appendString(dst, []byte(e.Stream))
		dst = append(dst, ',')
	}
	dst = append(dst, `"time":"`...)
	dst = e.Time.UTC().AppendFormat(dst, timeFormat)
	return append(dst, `"}`...)
}

// MarshalJSON returns AppendJSON(nil).
func (e *Entry) MarshalJSON() ([]byte, error) {
	return e.AppendJSON(nil), nil
}

var _ json.Marshaler = (*Entry)(nil)

// appendString writes s as a JSON string the way moby's
// ffjsonWriteJSONBytesAsString does. It differs from encoding/json in two
// ways a golden test can see: \t, \b and \f become \u0009, \u0008 and \u000c
// (only \n and \r get short escapes), and the escaping is done on bytes that
// need not be valid UTF-8.
func appendString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			default:
				// HTML-safe like encoding/json: <, > and & as \u003c, \u003e, \u0026.
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but not valid JavaScript: escaped like encoding/json.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// wireEntry is the decoding side: Docker's own files may also carry
// "attrs" (from --log-opt labels=...), which we read past.
type wireEntry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// Parse decodes one line of a json-file log, with or without its trailing
// newline. It reads lines written by Docker as well as by Logger.
func Parse(line []byte) (Entry, error) {
	var w wireEntry
	if err := json.Unmarshal(line, &w); err != nil {
		return Entry{}, fmt.Errorf("%w: %w", ErrInvalidEntry, err)
	}
	return Entry{Log: []byte(w.Log), Stream: w.Stream, Time: w.Time}, nil
}
