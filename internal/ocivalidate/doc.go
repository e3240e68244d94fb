// Package ocivalidate runs the OCI runtime-spec validation suite of
// github.com/opencontainers/runtime-tools (its validation/ programs) against
// a runtime with runc's command line, and keeps what passes from regressing.
// It holds only tests and their TAP reader; README.md has the table of what
// runc passes here and why the rest fails.
//
// # The idea
//
// Each validation program is a small main that writes a bundle (a busybox
// rootfs and a config.json made with runtime-tools' generate package), drives
// $RUNTIME through create, start, state, kill and delete, and prints TAP
// ("ok 3 - …", "not ok 4 - …", "1..N"). The "inside" programs make
// runtimetest the container's process: it checks from within what the
// config asked for (hostname, mounts, capabilities, rlimits, devices) and
// prints one TAP line per check.
//
// # The gate
//
// passing.txt lists, per program, "all" (it completes: exit 0, every test ok
// or skipped) or the numbers of its tests that pass. TestRuntimeValidation
// fails when a listed item does not pass, printing the program's TAP, and
// logs what passes but is not listed.
//
// # What goes wrong
//
// The suite calls the runtime with no --root (runc's default, /run/runc, is
// the host's): the test hands it a wrapper that adds one per program. Some
// programs run a container in the runtime's own mount namespace, and the
// runtime then mounts its /proc, /dev and /sys in ours: each program gets a
// private mount namespace. Programs that set an absolute cgroupsPath would
// move the container out of our own cgroup: they are not run.
//
// # See also
//
// runtime-spec runtime.md (the lifecycle and the operations) and config.md;
// runtime-tools validation/util/test.go; runc's man pages runc-create(8) and
// runc-state(8).
package ocivalidate
