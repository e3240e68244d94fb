package engine

// Labels: key=value metadata on containers (docker run --label) and images
// (a Dockerfile's LABEL, in the image config), read by the filters.

import (
	"bufio"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// mergeLabels is a container's labels as Docker makes them at create: the
// image's (its config's Labels, from the Dockerfile's LABEL), with the
// user's --label values over them.
func mergeLabels(image, user map[string]string) map[string]string {
	if len(image) == 0 && len(user) == 0 {
		return nil
	}
	out := maps.Clone(image)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, user)
	return out
}

// MatchLabels reports whether labels match every one of filters, each
// "KEY" (the label is set, to anything) or "KEY=VALUE": docker's label=
// filter, whose values are AND'd (a container must have them all).
func MatchLabels(labels map[string]string, filters []string) bool {
	for _, f := range filters {
		k, v, withValue := strings.Cut(f, "=")
		got, ok := labels[k]
		if !ok || withValue && got != v {
			return false
		}
	}
	return true
}

// FormatLabels is docker ps's {{.Labels}}: "k=v,k2=v2", by key.
func FormatLabels(labels map[string]string) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		kv = append(kv, k+"="+labels[k])
	}
	return strings.Join(kv, ",")
}

// ParseLabels is docker run's --label-file and --label, read as the docker
// CLI reads them, on the client's side (also with -H): the files first, a line at a time (blank lines and
// '#' comments skipped), then the flags, a later KEY over an earlier one;
// "KEY" alone is the empty value.
func ParseLabels(files, flags []string) (map[string]string, error) {
	var kvs []string
	for _, name := range files {
		lines, err := readLabelFile(name)
		if err != nil {
			return nil, err
		}
		kvs = append(kvs, lines...)
	}
	kvs = append(kvs, flags...)
	if len(kvs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("invalid label '%s': empty name", kv)
		}
		out[k] = v
	}
	return out, nil
}

func readLabelFile(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeftFunc(sc.Text(), unicode.IsSpace)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !utf8.ValidString(line) {
			return nil, fmt.Errorf("%s: line %d: invalid UTF-8", name, n)
		}
		if k, _, _ := strings.Cut(line, "="); strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("%s: line %d: variable '%s' contains whitespaces", name, n, k)
		}
		out = append(out, line)
	}
	return out, sc.Err()
}
