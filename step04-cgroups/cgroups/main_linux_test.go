package cgroups

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/rootfs"
)

// TestMain lets the test binary be the processes the tests put in a
// cgroup: MDK_CGTEST=alloc:<MB> waits for a byte on stdin (the go-ahead,
// sent once the process is placed), then allocates and touches that much
// memory; MDK_CGTEST=spin:<seconds> burns CPU for that long;
// MDK_CGTEST=devices:<path> is devicesHelper.
func TestMain(m *testing.M) {
	namespaces.Init(rootfs.Stage) // the container tests' init
	if mode := os.Getenv("MDK_CGTEST"); mode != "" {
		os.Exit(helper(mode))
	}
	os.Exit(m.Run())
}

func helper(mode string) int {
	kind, arg, _ := strings.Cut(mode, ":")
	if kind == "devices" {
		buf := make([]byte, 1)
		os.Stdin.Read(buf) // placed in the cgroup: go
		return devicesHelper(arg)
	}
	n, err := strconv.Atoi(arg)
	if err != nil {
		return 2
	}
	buf := make([]byte, 1)
	os.Stdin.Read(buf) // placed in the cgroup: go
	switch kind {
	case "alloc":
		var keep [][]byte
		for range n {
			b := make([]byte, 1<<20)
			for i := 0; i < len(b); i += 4096 {
				b[i] = 1
			}
			keep = append(keep, b)
		}
		fmt.Println("allocated", len(keep), "MB")
	case "spin":
		end := time.Now().Add(time.Duration(n) * time.Second)
		x := 0
		for time.Now().Before(end) {
			x++
		}
		fmt.Println(strconv.Itoa(x % 2))
	}
	return 0
}
