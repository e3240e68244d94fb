package depcheck

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var stepRE = regexp.MustCompile(`^minidocker/step(\d\d)-`)

// stepOf returns the step number of an import path, or 0 if it is not in a step.
func stepOf(pkg string) int {
	m := stepRE.FindStringSubmatch(pkg)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// allowed reports whether pkg may import dep.
func allowed(pkg, dep string) bool {
	if !strings.HasPrefix(dep, "minidocker/") {
		return true
	}
	if dep == "minidocker/final" || strings.HasPrefix(dep, "minidocker/final/") {
		return strings.HasPrefix(pkg, "minidocker/final")
	}
	from, to := stepOf(pkg), stepOf(dep)
	switch {
	case to == 0: // internal/
		return true
	case strings.HasPrefix(pkg, "minidocker/internal/"):
		return to == 1
	case from == 0: // final
		return true
	default:
		return to <= from
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		pkg, dep string
		want     bool
	}{
		{"minidocker/step03-rootfs-layers/rootfs", "minidocker/step02-namespaces/namespaces", true},
		{"minidocker/step03-rootfs-layers/rootfs", "minidocker/step03-rootfs-layers/layers", true},
		{"minidocker/step02-namespaces/namespaces", "minidocker/step03-rootfs-layers/layers", false},
		{"minidocker/step05-pull/store", "minidocker/final/state", false},
		{"minidocker/final/cli", "minidocker/step06-networking/network", true},
		{"minidocker/internal/testkit", "minidocker/step05-pull/registry", false},
		{"minidocker/internal/stepcli", "minidocker/step01-process/process", true},
		{"minidocker/step01-process", "fmt", true},
	}
	for _, tc := range tests {
		if got := allowed(tc.pkg, tc.dep); got != tc.want {
			t.Errorf("allowed(%q, %q) = %v, want %v", tc.pkg, tc.dep, got, tc.want)
		}
	}
}

// TestImportDirection lists every package of the module with its imports
// (test imports included) and fails on any import that goes backwards.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-test=false",
		"-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}`,
		"minidocker/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 3 {
		t.Fatalf("go list found only %d packages; the check would prove nothing", len(lines))
	}
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg := fields[0]
		for _, dep := range fields[1:] {
			if !allowed(pkg, dep) {
				t.Errorf("%s imports %s: imports must only go forward (DESIGN.md)", pkg, dep)
			}
		}
	}
}
