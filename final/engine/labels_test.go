package engine

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"minidocker/final/errdefs"
)

func TestMatchLabels(t *testing.T) {
	labels := map[string]string{"app": "web", "tier": "", "env": "a=b"}
	tests := []struct {
		name    string
		filters []string
		want    bool
	}{
		{"none", nil, true},
		{"key", []string{"app"}, true},
		{"key and value", []string{"app=web"}, true},
		{"empty value", []string{"tier="}, true},
		{"value with =", []string{"env=a=b"}, true},
		{"other value", []string{"app=db"}, false},
		{"missing key", []string{"nope"}, false},
		{"all must match", []string{"app=web", "nope"}, false},
		{"both match", []string{"app", "tier"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MatchLabels(labels, tc.filters); got != tc.want {
				t.Errorf("MatchLabels(%v) = %v, want %v", tc.filters, got, tc.want)
			}
		})
	}
}

func TestMergeAndFormatLabels(t *testing.T) {
	got := mergeLabels(map[string]string{"maintainer": "x", "tier": "image"}, map[string]string{"tier": "user"})
	require.Equal(t, map[string]string{"maintainer": "x", "tier": "user"}, got)
	require.Nil(t, mergeLabels(nil, nil))
	require.Equal(t, "maintainer=x,tier=user", FormatLabels(got))
}

func TestParseLabels(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "l")
	require.NoError(t, os.WriteFile(file, []byte("# comment\n\n  a=file\nb\nc=1=2\n"), 0o644))
	got, err := ParseLabels([]string{file}, []string{"a=flag", "d"})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "flag", "b": "", "c": "1=2", "d": ""}, got)

	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("ok=1\nnot ok=2\n"), 0o644))
	_, err = ParseLabels([]string{bad}, nil)
	require.EqualError(t, err, bad+": line 2: variable 'not ok' contains whitespaces")
	_, err = ParseLabels([]string{filepath.Join(dir, "none")}, nil)
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = ParseLabels(nil, []string{"=x"})
	require.EqualError(t, err, "invalid label '=x': empty name")
	got, err = ParseLabels(nil, nil)
	require.NoError(t, err)
	require.Nil(t, got)
}

func TestTimestamp(t *testing.T) {
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"10m", now.Add(-10 * time.Minute)},
		{"24h", now.Add(-24 * time.Hour)},
		{"2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"2024-01-02T03:04:05.5+01:00", time.Date(2024, 1, 2, 2, 4, 5, 5e8, time.UTC)},
		{"1700000000", time.Unix(1700000000, 0)},
		{"1700000000.25", time.Unix(1700000000, 25e7)},
	}
	for _, tc := range tests {
		got, err := Timestamp(tc.in, now)
		require.NoError(t, err, tc.in)
		if !got.Equal(tc.want) {
			t.Errorf("Timestamp(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"soon", "", "1e9", "-"} {
		_, err := Timestamp(bad, now)
		require.Error(t, err, bad)
	}
}

func TestPruneFilters(t *testing.T) {
	now := time.Now()
	f, err := pruneFilters(Filters{"until": {"1h", "2h"}, "label": {"a"}, "label!": {"keep=yes"}}, now, "until", "label", "label!")
	require.NoError(t, err)
	old := now.Add(-3 * time.Hour)
	require.True(t, f.match(old, map[string]string{"a": "1"}))
	require.False(t, f.match(now.Add(-90*time.Minute), map[string]string{"a": "1"}), "the earliest until= wins")
	require.False(t, f.match(old, map[string]string{"b": "1"}), "label=a is missing")
	require.False(t, f.match(old, map[string]string{"a": "1", "keep": "yes"}), "label!=keep=yes")
	require.True(t, f.match(old, map[string]string{"a": "1", "keep": "no"}))
	require.True(t, f.dangling, "images: dangling only by default")

	f, err = pruneFilters(Filters{"dangling": {"false"}}, now, "dangling")
	require.NoError(t, err)
	require.False(t, f.dangling)
	_, err = pruneFilters(Filters{"dangling": {"maybe"}}, now, "dangling")
	require.EqualError(t, err, "invalid filter 'dangling=maybe'")
	_, err = pruneFilters(Filters{"name": {"x"}}, now, "until", "label")
	require.EqualError(t, err, "invalid filter 'name'")
	require.True(t, errdefs.IsInvalidParameter(err))
	_, err = ParseFilters([]string{"label"}, "label")
	require.EqualError(t, err, "bad format of filter (expected name=value)")
}
