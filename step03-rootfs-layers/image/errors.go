package image

import "errors"

var (
	// ErrUnknownFormat means the path holds neither a docker save archive
	// nor an OCI image layout.
	ErrUnknownFormat = errors.New("neither a docker save archive (manifest.json) nor an OCI image layout (index.json)")
	// ErrDigestMismatch means a blob's bytes do not hash to its digest.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrNoCommand means neither the image nor the command line gives a command.
	ErrNoCommand = errors.New("no command specified")
)
