package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExitStatusExitCode(t *testing.T) {
	tests := []struct {
		name   string
		status ExitStatus
		want   int
	}{
		{"exit 0", ExitStatus{Code: 0}, 0},
		{"exit 3", ExitStatus{Code: 3}, 3},
		{"exit 255", ExitStatus{Code: 255}, 255},
		{"SIGKILL", ExitStatus{Signal: syscall.SIGKILL}, 137},
		{"SIGTERM", ExitStatus{Signal: syscall.SIGTERM}, 143},
		{"SIGINT", ExitStatus{Signal: syscall.SIGINT}, 130},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.status.ExitCode(); got != tc.want {
				t.Errorf("%+v.ExitCode() = %d, want %d", tc.status, got, tc.want)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	host := map[string]string{"HOME": "/home/x", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := host[k]; return v, ok }
	tests := []struct {
		name    string
		vars    []string
		want    []string
		wantErr error
	}{
		{"nothing gives only PATH", nil, []string{"PATH=" + DefaultPath}, nil},
		{"KEY=VAL", []string{"A=1", "B=two words"}, []string{"PATH=" + DefaultPath, "A=1", "B=two words"}, nil},
		{"value with =", []string{"A=x=y"}, []string{"PATH=" + DefaultPath, "A=x=y"}, nil},
		{"empty value", []string{"A="}, []string{"PATH=" + DefaultPath, "A="}, nil},
		{"later replaces earlier", []string{"A=1", "A=2"}, []string{"PATH=" + DefaultPath, "A=2"}, nil},
		{"PATH can be replaced", []string{"PATH=/bin"}, []string{"PATH=/bin"}, nil},
		{"bare KEY copied from host", []string{"HOME"}, []string{"PATH=" + DefaultPath, "HOME=/home/x"}, nil},
		{"bare KEY set but empty on host", []string{"EMPTY"}, []string{"PATH=" + DefaultPath, "EMPTY="}, nil},
		{"bare KEY unset on host is dropped", []string{"NOPE"}, []string{"PATH=" + DefaultPath}, nil},
		{"no name", []string{"=x"}, nil, ErrInvalidEnv},
		{"empty", []string{""}, nil, ErrInvalidEnv},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Env(tc.vars, lookup)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Env(%q) error = %v, want %v", tc.vars, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Env(%q) mismatch (-want +got):\n%s", tc.vars, diff)
			}
		})
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exe := write("tool", 0o755)
	plain := write("data", 0o644)
	other := t.TempDir()
	tests := []struct {
		name, file, path string
		want             string
		wantErr          error
	}{
		{"found in PATH", "tool", other + ":" + dir, exe, nil},
		{"first PATH entry wins", "tool", dir + ":" + other, exe, nil},
		{"not in PATH", "tool", other, "", ErrNotFound},
		{"not executable", "data", dir, "", ErrCannotInvoke},
		{"absolute path", exe, "", exe, nil},
		{"absolute, missing", filepath.Join(dir, "missing"), dir, "", ErrNotFound},
		{"absolute, not executable", plain, "", "", ErrCannotInvoke},
		{"a directory", dir, "", "", ErrCannotInvoke},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LookPath(tc.file, tc.path)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("LookPath(%q, %q) error = %v, want %v", tc.file, tc.path, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("LookPath(%q, %q) = %q, want %q", tc.file, tc.path, got, tc.want)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"not found", fmt.Errorf("exec %q: %w", "x", ErrNotFound), 127},
		{"cannot invoke", fmt.Errorf("exec %q: %w", "x", ErrCannotInvoke), 126},
		{"anything else", errors.New("boom"), 125},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ExitCode(tc.err); got != tc.want {
				t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}
