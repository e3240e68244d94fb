package state

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound means no container has this ID, name or ID prefix
	// (docker: "Error: No such container: web").
	ErrNotFound = errors.New("no such container")
	// ErrAmbiguous means an ID prefix matches several containers; its text
	// is docker's: "multiple IDs found with provided prefix: ab".
	ErrAmbiguous = errors.New("multiple IDs found with provided prefix")
	// ErrNameConflict means the name is taken; the error is a *ConflictError.
	ErrNameConflict = errors.New("container name already in use")
	// ErrInvalidName means a name does not match ValidNameChars.
	ErrInvalidName = errors.New("invalid container name")
)

// ConflictError says which container holds a name. errors.Is(err,
// ErrNameConflict) matches it. The CLI prints docker's message from it:
//
//	Conflict. The container name "/web" is already in use by container "<ID>".
//	You have to remove (or rename) that container to be able to reuse that name.
type ConflictError struct {
	Name string // without the leading "/"
	ID   string // the full ID of the container that has it
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("container name %q is already in use by container %q", "/"+e.Name, e.ID)
}

// Unwrap returns ErrNameConflict.
func (e *ConflictError) Unwrap() error { return ErrNameConflict }
