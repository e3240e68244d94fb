//go:build !linux

package main

// becomeSubreaper and sweepOrphans do nothing off Linux, where the steps'
// privileged tests do not run.
func becomeSubreaper() error { return nil }

func sweepOrphans() {}

func testCgroups() map[string]bool { return nil }

func sweepCgroups(map[string]bool) {}
