// Package errdefs sorts the engine's errors into the few kinds a front end
// needs to answer them: the CLI picks Docker's message and exit code from
// the kind, a daemon the HTTP status (HTTPStatus). It is moby's errdefs in
// small: an error is of a kind when it, or an error it wraps, has the
// kind's marker method; the outermost marked error decides.
//
//	errdefs.NotFound(fmt.Errorf("No such container: %s", ref))
//	errdefs.IsNotFound(err) // true, through any fmt.Errorf("…: %w", err)
package errdefs

import "net/http"

// The kinds, as marker interfaces: an error type of a kind has the method.
type (
	// ErrNotFound: no such container or image (404).
	ErrNotFound interface{ NotFound() }
	// ErrConflict: the request clashes with the current state: a name in
	// use, removing a running container, an image in use (409).
	ErrConflict interface{ Conflict() }
	// ErrInvalidParameter: the request itself is wrong: a bad name, flag
	// value or reference (400).
	ErrInvalidParameter interface{ InvalidParameter() }
	// ErrNotModified: nothing to do: start of a running container, stop of
	// a stopped one (304). Front ends take it as success.
	ErrNotModified interface{ NotModified() }
	// ErrUnavailable: something we depend on did not answer: a registry,
	// Docker Hub's search (503).
	ErrUnavailable interface{ Unavailable() }
	// ErrSystem: the host failed us (500), as is any error of no kind.
	ErrSystem interface{ System() }
)

type (
	errNotFound         struct{ error }
	errConflict         struct{ error }
	errInvalidParameter struct{ error }
	errNotModified      struct{ error }
	errUnavailable      struct{ error }
	errSystem           struct{ error }
)

func (errNotFound) NotFound()                 {}
func (errConflict) Conflict()                 {}
func (errInvalidParameter) InvalidParameter() {}
func (errNotModified) NotModified()           {}
func (errUnavailable) Unavailable()           {}
func (errSystem) System()                     {}

func (e errNotFound) Unwrap() error         { return e.error }
func (e errConflict) Unwrap() error         { return e.error }
func (e errInvalidParameter) Unwrap() error { return e.error }
func (e errNotModified) Unwrap() error      { return e.error }
func (e errUnavailable) Unwrap() error      { return e.error }
func (e errSystem) Unwrap() error           { return e.error }

// NotFound marks err as ErrNotFound (nil stays nil); its text is unchanged.
func NotFound(err error) error { return wrap(err, func(e error) error { return errNotFound{e} }) }

// Conflict marks err as ErrConflict.
func Conflict(err error) error { return wrap(err, func(e error) error { return errConflict{e} }) }

// InvalidParameter marks err as ErrInvalidParameter.
func InvalidParameter(err error) error {
	return wrap(err, func(e error) error { return errInvalidParameter{e} })
}

// NotModified marks err as ErrNotModified.
func NotModified(err error) error { return wrap(err, func(e error) error { return errNotModified{e} }) }

// Unavailable marks err as ErrUnavailable.
func Unavailable(err error) error { return wrap(err, func(e error) error { return errUnavailable{e} }) }

// System marks err as ErrSystem.
func System(err error) error { return wrap(err, func(e error) error { return errSystem{e} }) }

func wrap(err error, fn func(error) error) error {
	if err == nil {
		return nil
	}
	return fn(err)
}

// Kind is an error's kind, for a switch.
type Kind int

// The kinds; Unknown is an error of no kind (treated as System).
const (
	Unknown Kind = iota
	NotFoundKind
	ConflictKind
	InvalidParameterKind
	NotModifiedKind
	UnavailableKind
	SystemKind
)

// KindOf is the kind of the outermost marked error in err's chain (both
// Unwrap() error and Unwrap() []error are followed, depth first), or
// Unknown.
func KindOf(err error) Kind {
	for err != nil {
		switch err.(type) {
		case ErrNotFound:
			return NotFoundKind
		case ErrConflict:
			return ConflictKind
		case ErrInvalidParameter:
			return InvalidParameterKind
		case ErrNotModified:
			return NotModifiedKind
		case ErrUnavailable:
			return UnavailableKind
		case ErrSystem:
			return SystemKind
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if k := KindOf(e); k != Unknown {
					return k
				}
			}
			return Unknown
		default:
			return Unknown
		}
	}
	return Unknown
}

// IsNotFound reports whether err is of kind ErrNotFound.
func IsNotFound(err error) bool { return KindOf(err) == NotFoundKind }

// IsConflict reports whether err is of kind ErrConflict.
func IsConflict(err error) bool { return KindOf(err) == ConflictKind }

// IsInvalidParameter reports whether err is of kind ErrInvalidParameter.
func IsInvalidParameter(err error) bool { return KindOf(err) == InvalidParameterKind }

// IsNotModified reports whether err is of kind ErrNotModified.
func IsNotModified(err error) bool { return KindOf(err) == NotModifiedKind }

// IsUnavailable reports whether err is of kind ErrUnavailable.
func IsUnavailable(err error) bool { return KindOf(err) == UnavailableKind }

// IsSystem reports whether err is of kind ErrSystem, or of no kind.
func IsSystem(err error) bool {
	k := KindOf(err)
	return k == SystemKind || k == Unknown
}

// HTTPStatus is the status a daemon answers err with, as moby's
// httpstatus.FromError does: 404, 409, 400, 304, 503, and 500 for the rest.
// A nil error is 200.
func HTTPStatus(err error) int {
	if err == nil {
		return http.StatusOK
	}
	switch KindOf(err) {
	case NotFoundKind:
		return http.StatusNotFound
	case ConflictKind:
		return http.StatusConflict
	case InvalidParameterKind:
		return http.StatusBadRequest
	case NotModifiedKind:
		return http.StatusNotModified
	case UnavailableKind:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
