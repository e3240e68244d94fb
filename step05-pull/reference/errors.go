package reference

import "github.com/distribution/reference"

// ErrInvalidFormat is returned for every string that is not a reference. Its
// text is Docker's: "invalid reference format". It is the sentinel of
// github.com/distribution/reference, so errors.Is works with either.
var ErrInvalidFormat = reference.ErrReferenceInvalidFormat
