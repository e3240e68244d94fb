package main

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// becomeSubreaper makes the processes a test leaves behind ours: when a
// test binary dies (a learner's stub panics) the shells and containers it
// started are re-parented to the nearest subreaper, this program, instead
// of init, and sweepOrphans can end them (prctl(2) PR_SET_CHILD_SUBREAPER).
func becomeSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// sweepOrphans kills and reaps the processes re-parented to us. It runs
// when no child of ours is running on purpose (after go test returned),
// so every child left is an orphan. Their own children come to us in
// turn: repeat until none is left.
func sweepOrphans() {
	self := os.Getpid()
	for range 50 {
		kids := childrenOf(self)
		if len(kids) == 0 {
			return
		}
		for _, pid := range kids {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		for _, pid := range kids {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(pid, &ws, 0, nil)
		}
	}
}

// childrenOf lists the PIDs whose parent is pid, from /proc/<pid>/stat.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) state ppid …": comm may hold spaces and ")".
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

// testCgroups lists the cgroups the steps' tests make, in every hierarchy
// (v1 and v2), a few levels below the mount: their shared "minidocker"
// directories and the ones inside ("mdk-test-<hex>" of the package tests,
// a container's 64-hex ID of the steps' demos). A test binary killed by a
// stub's panic never runs the clean-up that removes them.
func testCgroups() map[string]bool {
	out := map[string]bool{}
	for depth := range 5 {
		base := "/sys/fs/cgroup" + strings.Repeat("/*", depth) + "/minidocker"
		for _, pattern := range []string{base, base + "/*"} {
			dirs, _ := filepath.Glob(pattern)
			for _, d := range dirs {
				if fi, err := os.Stat(d); err == nil && fi.IsDir() {
					out[d] = true
				}
			}
		}
	}
	return out
}

// sweepCgroups removes the test cgroups that were not there before,
// deepest first. rmdir(2) removes only an empty cgroup (no process, no
// child), so nothing in use, and nothing that was there before, goes.
func sweepCgroups(before map[string]bool) {
	var made []string
	for d := range testCgroups() {
		if !before[d] {
			made = append(made, d)
		}
	}
	sort.Slice(made, func(i, j int) bool { return len(made[i]) > len(made[j]) })
	for _, d := range made {
		_ = unix.Rmdir(d)
	}
}
