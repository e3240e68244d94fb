// Command step03-rootfs-layers runs an image stored on disk (a docker save
// archive or an OCI layout): its layers stacked with overlayfs under a
// writable layer of the container's own, and pivot_root into them.
//
//	sudo go run ./step03-rootfs-layers run --image PATH [-v SRC:DST[:ro]]... [--hostname H] -- [CMD...]
package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"

	"minidocker/internal/stepcli"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/image"
	"minidocker/step03-rootfs-layers/layers"
	"minidocker/step03-rootfs-layers/rootfs"
	"minidocker/step03-rootfs-layers/runflags"
)

func main() {
	namespaces.Init(rootfs.Stage)

	var f rootfs.RunFlags
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	imagePath := fs.String("image", "", "the image: a docker save archive or an OCI layout (`PATH`)")
	runflags.Declare(fs, &f, stepcli.DataRoot())

	cmd := stepcli.Command{
		Name:         "step03-rootfs-layers",
		Usage:        "run --image PATH [-v SRC:DST[:ro]]... [--hostname H] [-e KEY=VAL]... [-w DIR] [--user U] -- [CMD...]",
		Flags:        fs,
		ArgsOptional: true,
		Run: func(args []string) (int, error) {
			if *imagePath == "" {
				return 0, errors.New(`"--image" is required`)
			}
			mounts, vars, err := f.Parse()
			if err != nil {
				return 0, err
			}
			img, err := image.Load(*imagePath)
			if err != nil {
				return 0, err
			}
			store, err := layers.NewStore(filepath.Join(f.Root, "layers"))
			if err != nil {
				return 0, err
			}
			cfg, cleanup, err := rootfs.NewContainer(f.Root, rootfs.NewID(), store, img, f.Overrides(args, vars), mounts)
			if err != nil {
				return 0, err
			}
			defer cleanup()
			f.Apply(&cfg)
			status, err := namespaces.Run(cfg, namespaces.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
			return status.ExitCode(), err
		},
	}
	os.Exit(cmd.Main(os.Args[1:], os.Stderr))
}
