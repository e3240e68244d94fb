package engine

// The filters (docker ps/images --filter, the prunes' label= and until=),
// in one place for the CLI, the daemon and the prunes.

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"minidocker/final/errdefs"
	"minidocker/step05-pull/store"
)

// Filters are docker's --filter values by key ("label" -> ["a=b"]), as
// the CLI collects them and the API's filters parameter carries them.
type Filters map[string][]string

// ParseFilters reads --filter KEY=VALUE arguments ("label!=k" has the key
// "label!"); keys other than allowed are refused as docker refuses them.
func ParseFilters(args []string, allowed ...string) (Filters, error) {
	f := Filters{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return nil, errdefs.InvalidParameter(fmt.Errorf("bad format of filter (expected name=value)"))
		}
		f[k] = append(f[k], v)
	}
	return f, f.check(allowed...)
}

func (f Filters) check(allowed ...string) error {
	for _, k := range slices.Sorted(maps.Keys(f)) {
		if !slices.Contains(allowed, k) {
			return errdefs.InvalidParameter(fmt.Errorf("invalid filter '%s'", k))
		}
	}
	return nil
}

// pruneFilter is a prune's filters, read: until= (created before), label=
// (all of them), label!= (not all of them), dangling= (images).
type pruneFilter struct {
	until     time.Time // zero: no limit
	labels    []string
	notLabels []string
	dangling  bool // images: only those without a tag (the default)
}

// pruneFilters checks and reads a prune's filters at now.
func pruneFilters(f Filters, now time.Time, allowed ...string) (pruneFilter, error) {
	p := pruneFilter{labels: f["label"], notLabels: f["label!"], dangling: true}
	if err := f.check(allowed...); err != nil {
		return p, err
	}
	for _, v := range f["until"] {
		t, err := Timestamp(v, now)
		if err != nil {
			return p, errdefs.InvalidParameter(err)
		}
		if p.until.IsZero() || t.Before(p.until) {
			p.until = t
		}
	}
	for _, v := range f["dangling"] {
		switch strings.ToLower(v) {
		case "true", "1":
			p.dangling = true
		case "false", "0":
			p.dangling = false
		default:
			return p, errdefs.InvalidParameter(fmt.Errorf("invalid filter 'dangling=%s'", v))
		}
	}
	return p, nil
}

// match reports whether an object created at created with labels is
// one the prune may remove.
func (p pruneFilter) match(created time.Time, labels map[string]string) bool {
	if !p.until.IsZero() && !created.Before(p.until) {
		return false
	}
	if !MatchLabels(labels, p.labels) {
		return false
	}
	// label!=: kept when it has them all, as dockerd reads it.
	return len(p.notLabels) == 0 || !MatchLabels(labels, p.notLabels)
}

// Timestamp reads a time as docker's --filter until= and --since take it:
// a duration before now ("10m", "24h"), an RFC 3339 date or date-time
// ("2024-01-02", "2024-01-02T15:04:05Z"), or Unix seconds ("1700000000",
// "1700000000.5").
func Timestamp(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "eE+") {
		whole := int64(secs)
		return time.Unix(whole, int64((secs-float64(whole))*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("failed to parse value as time or duration: %q", v)
}

// ImageFilter is docker images' --filter: dangling=true|false and label=
// (AND'd), the keys minidocker has.
type ImageFilter struct {
	dangling *bool
	labels   []string
}

// NewImageFilter checks f's keys and values.
func NewImageFilter(f Filters) (ImageFilter, error) {
	var out ImageFilter
	if err := f.check("dangling", "label"); err != nil {
		return out, err
	}
	if len(f["dangling"]) > 0 {
		p, err := pruneFilters(Filters{"dangling": f["dangling"]}, time.Now(), "dangling")
		if err != nil {
			return out, err
		}
		out.dangling = &p.dangling
	}
	out.labels = f["label"]
	return out, nil
}

// Match reports whether img passes the filter.
func (f ImageFilter) Match(img *store.Image) bool {
	if f.dangling != nil && dangling(img) != *f.dangling {
		return false
	}
	return MatchLabels(img.Config.Config.Labels, f.labels)
}

// dangling: an image no tag names any more (a newer pull moved its tag
// away, or it was only ever pulled by digest), shown as <none>:<none>.
func dangling(img *store.Image) bool { return len(img.RepoTags) == 0 }
