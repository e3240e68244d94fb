// Package ociruntime is minidocker as an OCI runtime: a program with runc's
// command line, which the engines people deploy (containerd and its shim,
// dockerd, podman's conmon, and Kubernetes through them) call to run a
// container from a bundle: a directory with a config.json in the OCI
// runtime spec's format and the root filesystem it names.
//
//	dockerd ──> containerd ──> containerd-shim-runc-v2 ──> minidocker-runtime create / start / kill / delete
//	                                                        └── the same init as minidocker run (steps 2-4)
//
// The engine has done what steps 5 and 6 do (pull, unpack, network); the
// runtime does what steps 2 to 4 do, with the engine's choices written in
// the bundle instead of docker run's flags: config.json's process is the
// command, its user, capabilities, rlimits; root and mounts are the
// filesystem; linux.namespaces, linux.resources and linux.cgroupsPath the
// isolation and the limits; linux.seccomp, maskedPaths and readonlyPaths
// the confinement. Convert turns a spec into the init's configuration;
// every field it does not support is refused by name, never ignored.
//
// A container's life is split in two as runc splits it: "create" sets
// everything up and leaves the init waiting on a FIFO in the state
// directory (status "created": the engine may now attach its network, run
// hooks, read the PID); "start" opens the FIFO, and the init executes the
// command (status "running"). Nothing of minidocker stays running beside
// the container: the engine's shim is the init's parent (a child
// subreaper) and collects its exit status; the state directory holds
// state.json, the FIFO until start, and a lock. The status is derived
// each time, never stored: the FIFO there means created, an init that
// is gone (or a zombie, or a reused PID) means stopped.
package ociruntime
