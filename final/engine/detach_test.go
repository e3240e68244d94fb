package engine

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestParseDetachKeys(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte
		err  bool
	}{
		{DefaultDetachKeys, []byte{16, 17}, false},
		{"ctrl-a,x", []byte{1, 'x'}, false},
		{"ctrl-@", []byte{0}, false},
		{"ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", []byte{27, 28, 29, 30, 31}, false},
		{"CTRL-Z", []byte{26}, false},
		{"X", []byte{'X'}, false},
		{"ctrl-1", nil, true},
		{"ctrl-ab", nil, true},
		{"", nil, true},
		{"a,,b", nil, true},
		{"enter", nil, true},
	} {
		got, err := ParseDetachKeys(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseDetachKeys(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); !tc.err && diff != "" {
			t.Errorf("ParseDetachKeys(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestDetachReader(t *testing.T) {
	keys := []byte{16, 17} // ctrl-p, ctrl-q
	for _, tc := range []struct {
		name, in, want string
		detached       bool
	}{
		{"plain input", "ls -l\n", "ls -l\n", false},
		{"the sequence", "ls\x10\x11after", "ls", true},
		{"a broken sequence goes on", "a\x10b\x10\x10\x11", "a\x10b\x10", true},
		{"a held key at the end of input", "a\x10", "a\x10", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One byte per Read: the sequence split over reads.
			d := NewDetachReader(iotest.OneByteReader(strings.NewReader(tc.in)), keys)
			got, err := io.ReadAll(d)
			if tc.detached != errors.Is(err, ErrDetached) {
				t.Fatalf("err = %v, want detached %v", err, tc.detached)
			}
			if string(got) != tc.want {
				t.Errorf("read %q, want %q", got, tc.want)
			}
			select {
			case <-d.Detached():
				if !tc.detached {
					t.Error("Detached closed without the keys")
				}
			default:
				if tc.detached {
					t.Error("Detached not closed")
				}
			}
		})
	}
}
