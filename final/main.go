// Command minidocker is the course's mini-Docker: pull, images, run, ps,
// stop, start, logs, rm, rmi, inspect. See final/README.md.
//
//	go build -o bin/minidocker ./final
package main

import (
	"os"
	"path/filepath"

	"minidocker/final/cli"
	"minidocker/final/engine"
	"minidocker/final/ociruntime"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/rootfs"
)

func main() {
	// The container's init: this binary started again in new namespaces
	// (step 2), which sets up the filesystem (step 3) and execs.
	namespaces.Init(rootfs.Stage)
	// Whatever descriptors we inherited beyond stdio (a shell's 7</secret)
	// must not reach a monitor or a container: mark them close-on-exec.
	process.CloseExecFrom(3)
	// A container's monitor: this binary started again by run or start.
	if len(os.Args) >= 4 && os.Args[1] == engine.MonitorArg {
		os.Exit(engine.Monitor(os.Args[2], os.Args[3], os.Args[4:]...))
	}
	// docker exec's helper: joins a running container (step 2's Join).
	if len(os.Args) == 2 && os.Args[1] == engine.ExecArg {
		os.Exit(engine.ExecMain())
	}
	// The OCI runtime's exec helper, the same join.
	if len(os.Args) == 2 && os.Args[1] == ociruntime.ExecArg {
		os.Exit(ociruntime.ExecMain())
	}
	// Called by the name minidocker-runtime (a symlink to this binary, as
	// engines want a runc-like program): runc's command line.
	if filepath.Base(os.Args[0]) == ociruntime.Name {
		os.Exit(ociruntime.Main(os.Args[1:]))
	}
	os.Exit(cli.Main(os.Args[1:]))
}
