package jsonlog

import "errors"

// ErrInvalidEntry means a line of a log file is not a json-file log entry.
var ErrInvalidEntry = errors.New("invalid log entry")
