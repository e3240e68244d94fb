package layers

import (
	"errors"
	"time"
)

// DiffOptions tune Diff.
type DiffOptions struct {
	// Epoch, when set, clamps every time in the tar to at most Epoch, as
	// SOURCE_DATE_EPOCH asks of reproducible builds: two builds of the same
	// files a minute apart then give the same bytes, so the same diffID.
	Epoch *time.Time
}

// ErrOverlayFeature is returned by Diff for an upper directory that
// overlayfs' redirect_dir or metacopy features wrote.
var ErrOverlayFeature = errors.New("overlay redirect_dir or metacopy in use")
