package layers

import (
	"fmt"
	"path"
	"strings"
)

// The whiteout prefixes of the OCI image-spec (layer.md), from AUFS.
const (
	WhiteoutPrefix = ".wh."
	WhiteoutOpaque = ".wh..wh..opq"
	// OverlayOpaqueXattr marks a directory opaque for overlayfs.
	OverlayOpaqueXattr = "trusted.overlay.opaque"
)

// Kind is what a tar entry means for the layer.
type Kind int

const (
	Regular  Kind = iota // an ordinary entry: create it
	Whiteout             // .wh.NAME: NAME of lower layers is deleted
	Opaque               // DIR/.wh..wh..opq: DIR hides the lower layers' DIR
)

func (k Kind) String() string {
	return [...]string{"regular", "whiteout", "opaque"}[k]
}

// Classify says what the entry at name (already cleaned) means, and the
// path it applies to: the deleted NAME for a whiteout, the directory for an
// opaque marker, name itself otherwise.
func Classify(name string) (Kind, string) {
	// exercise:begin 03-whiteout Look at the base name: .wh..wh..opq makes its directory Opaque, .wh.NAME is a Whiteout of NAME in the same directory, anything else is Regular (itself)
	dir, base := path.Split(name)
	switch {
	case base == WhiteoutOpaque:
		return Opaque, path.Clean(dir)
	case strings.HasPrefix(base, WhiteoutPrefix):
		return Whiteout, path.Join(dir, strings.TrimPrefix(base, WhiteoutPrefix))
	}
	return Regular, name
	// exercise:end
}

// CleanName turns a tar entry name into a path relative to the layer
// directory. "./a/b/" becomes "a/b". An absolute name is taken relative to
// the layer's root, as Docker and containerd do ("/etc/passwd" is
// "etc/passwd", "/../x" is "x"); a relative name that leaves the directory
// ("../x", "a/../../x") is refused: a layer only ever describes paths under
// its own root.
func CleanName(name string) (string, error) {
	if path.IsAbs(name) {
		// path.Clean drops ".." at the root: "/../x" is "/x".
		if rel := strings.TrimPrefix(path.Clean(name), "/"); rel != "" {
			return rel, nil
		}
		return ".", nil
	}
	clean := path.Clean(name)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("entry %q: %w", name, ErrEscape)
	}
	return clean, nil
}
