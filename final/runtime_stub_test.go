//go:build linux

package main

import (
	"os"
	"os/exec"
	"testing"

	"minidocker/internal/testkit"
)

// ociRuntimeBinary is the runc-compatible binary the engine tests hand to
// dockerd, containerd and podman. A stand-in until minidocker's runtime mode
// lands: Debian's runc, or $MINIDOCKER_TEST_OCI_RUNTIME (to see the tests
// fail with a runtime that does not work, e.g. /bin/false).
func ociRuntimeBinary(t testing.TB) string {
	t.Helper()
	if path := os.Getenv("MINIDOCKER_TEST_OCI_RUNTIME"); path != "" {
		return path
	}
	path, err := exec.LookPath("runc")
	testkit.RequireFeature(t, err == nil, "runc (Debian's runc; run scripts/setup.sh)")
	return path
}
