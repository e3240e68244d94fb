package registry

import (
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ParsePlatform parses "os/arch[/variant]" ("linux/amd64", "linux/arm/v7").
// The architecture names of uname -m are accepted too (x86_64, aarch64).
func ParsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, fmt.Errorf("invalid platform %q: want os/arch[/variant]", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	}
	if len(parts) == 3 {
		if parts[2] == "" {
			return ocispec.Platform{}, fmt.Errorf("invalid platform %q: empty variant", s)
		}
		p.Variant = parts[2]
	}
	return p, nil
}

// FormatPlatform is the "os/arch[/variant]" form Docker prints.
func FormatPlatform(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// matchPlatform picks from an index's manifests the one for want. Entries
// without a platform (attestations carry "unknown/unknown") never match. A
// wanted variant must be equal, arm64 treating "" and "v8" as the same; no
// wanted variant takes the first entry of the os and architecture.
func matchPlatform(want ocispec.Platform, manifests []ocispec.Descriptor) (ocispec.Descriptor, bool) {
	for _, m := range manifests {
		p := m.Platform
		if p == nil || p.OS != want.OS || p.Architecture != want.Architecture {
			continue
		}
		if want.Variant == "" || normaliseVariant(p.Architecture, p.Variant) == normaliseVariant(want.Architecture, want.Variant) {
			return m, true
		}
	}
	return ocispec.Descriptor{}, false
}

func normaliseVariant(arch, variant string) string {
	if arch == "arm64" && variant == "" {
		return "v8"
	}
	return variant
}
