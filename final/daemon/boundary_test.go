package daemon

import (
	"testing"

	"minidocker/internal/testkit"
)

// TestOnlyTheEngine keeps the daemon a front end, as the CLI is
// (cli/boundary_test.go): it translates HTTP to engine calls and must not
// reach a container's files, locks, cgroups or processes itself. Only
// listen.go, the daemon's own socket, may touch files.
func TestOnlyTheEngine(t *testing.T) {
	forbiddenImports := map[string]string{
		"golang.org/x/sys/unix":             "system calls",
		"os/exec":                           "processes",
		"minidocker/final/jsonlog":          "the log files (engine.Logs)",
		"minidocker/internal/flock":         "locks",
		"minidocker/step04-cgroups/cgroups": "cgroups",
		"minidocker/step05-pull/store":      "the image store (engine.Images, RemoveImage)",
		// step05-pull/registry is allowed: its Progress is engine.PullProgress's event type.
		"minidocker/step06-networking/network":    "the bridge and its books",
		"minidocker/step02-namespaces/namespaces": "the init",
	}
	testkit.FrontEnd(t, forbiddenImports, testkit.HostCalls, func(f string) bool { return f == "listen.go" }, 4)
}
