package testkit

import (
	"os"
	"testing"
)

// RequireRootEnv is the environment variable that turns every privileged
// skip into a failure. make test and CI set it to 1: nothing privileged may
// silently skip there.
const RequireRootEnv = "MINIDOCKER_TEST_REQUIRE_ROOT"

// Strict reports whether skips of required features are forbidden
// (RequireRootEnv=1).
func Strict() bool { return os.Getenv(RequireRootEnv) == "1" }

// RequireRoot skips t unless the test runs as root. With
// MINIDOCKER_TEST_REQUIRE_ROOT=1 (set by make test and CI) it fails instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	requireRoot(t, os.Geteuid(), Strict())
}

func requireRoot(t testing.TB, euid int, strict bool) {
	t.Helper()
	if euid == 0 {
		return
	}
	const why = "needs root (mount, namespaces, cgroups); run: sudo make test"
	if strict {
		t.Fatal(why + " (" + RequireRootEnv + "=1 forbids skipping)")
		return
	}
	t.Skip(why)
}

// RequireFeature skips t when ok is false, naming the missing feature; under
// MINIDOCKER_TEST_REQUIRE_ROOT=1 it fails instead, because CI must have every
// feature that is gated this way (overlayfs, veth, nftables, a binary that
// scripts/setup.sh installs).
func RequireFeature(t testing.TB, ok bool, feature string) {
	t.Helper()
	if ok {
		return
	}
	why := "requires " + feature
	if Strict() {
		t.Fatal(why + " (" + RequireRootEnv + "=1 forbids skipping; run scripts/setup.sh)")
	}
	t.Skip(why)
}
