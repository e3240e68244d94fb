package namespaces

import (
	"os"
	"testing"
)

// TestMain lets the test binary be a container's init: Start re-executes
// /proc/self/exe, which here is this test binary.
func TestMain(m *testing.M) {
	Init()
	os.Exit(m.Run())
}
