package layers

import "errors"

var (
	// ErrEscape means a tar entry would be written outside the layer directory.
	ErrEscape = errors.New("path escapes layer directory")
	// ErrDiffIDMismatch means the uncompressed layer does not hash to its diffID.
	ErrDiffIDMismatch = errors.New("diffID mismatch")
	// ErrTrustedXattr is the warning for an xattr of the trusted.*
	// namespace in a layer: never applied (see ApplyWarn).
	ErrTrustedXattr = errors.New("trusted.* xattrs are not applied from images")
)
