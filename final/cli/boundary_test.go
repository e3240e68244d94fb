package cli

import (
	"testing"

	"minidocker/internal/testkit"
)

// TestOnlyTheEngine keeps the CLI a front end (DESIGN.md, "the engine is
// the only door"): it parses flags, calls the engine and prints. It must
// not reach a container's files, locks, cgroups or processes itself, so it
// may not import the packages that do, nor call what opens files or
// signals PIDs.
func TestOnlyTheEngine(t *testing.T) {
	forbiddenImports := map[string]string{
		"golang.org/x/sys/unix":                   "system calls",
		"os/exec":                                 "processes",
		"net/http":                                "registries (the engine's Search and Pull)",
		"minidocker/final/jsonlog":                "the log files (engine.Logs)",
		"minidocker/internal/flock":               "locks",
		"minidocker/step04-cgroups/cgroups":       "cgroups",
		"minidocker/step05-pull/store":            "the image store (engine.Images, RemoveImage)",
		"minidocker/step05-pull/registry":         "registries (engine.Pull)",
		"minidocker/step06-networking/network":    "the bridge and its books",
		"minidocker/step02-namespaces/namespaces": "the init",
	}
	// archive.go opens the files save -o writes and load -i reads: the
	// user's own, named on the command line, written and read by the client
	// as the docker CLI does (through a daemon they are on the client's
	// side); never a container's or the store's.
	userFiles := func(file string) bool { return file == "archive.go" }
	testkit.FrontEnd(t, forbiddenImports, testkit.HostCalls, userFiles, 5)
}
