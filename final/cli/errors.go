package cli

import (
	"errors"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
	"minidocker/step01-process/process"
)

// The one place where the engine's errors become the docker CLI's output.
// The engine words its errors as dockerd does ("No such container: web",
// "Conflict. The container name …") and gives each a kind (errdefs); the
// docker CLI prints the text after "Error: " and exits 1, with these
// exceptions, which are all here:
//
//   - a kind that means "nothing to do" is success: docker start of a
//     running container and docker stop of a stopped one (dockerd answers
//     304 Not Modified);
//   - run exits 125 when the container could not be created or started,
//     126 or 127 when its command could not be run (the engine's
//     StartError carries which), and the container's own code otherwise;
//   - flag and argument errors exit 125 with the usage hint (cobra's, see
//     command).

// exitStatus is the exit code and the message (after "Error: ", "" for
// none) of a command that returned err.
func exitStatus(err error) (int, string) {
	if err == nil || errdefs.IsNotModified(err) {
		return 0, ""
	}
	code := 1
	if ee, ok := errors.AsType[*exitError](err); ok {
		code, err = ee.code, ee.err
	}
	if err == nil {
		return code, ""
	}
	return code, message(err)
}

// message is an error as the docker CLI prints it.
func message(err error) string { return err.Error() }

// done reports whether err means the work is done: nil, or NotModified.
func done(err error) bool { return err == nil || errdefs.IsNotModified(err) }

// runFailed is run's error before its container ran: Docker's 126 or 127
// when the command could not be run, 125 otherwise.
func runFailed(err error) error {
	if se, ok := errors.AsType[*engine.StartError](err); ok {
		return &exitError{code: se.Code, err: err}
	}
	return &exitError{code: process.ExitToolFailed, err: err}
}
