// Command step04-cgroups runs an image like step 3, with Docker's resource
// limits: -m, --cpus, --cpu-shares, --pids-limit.
//
//	sudo go run ./step04-cgroups run --image PATH [-m 64m] [--cpus 0.5] [--pids-limit 20] [--stats] -- [CMD...]
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
	"minidocker/step04-cgroups/cgroups"
	"minidocker/step04-cgroups/limitflags"
	"minidocker/step04-cgroups/limits"
)

func main() {
	namespaces.Init(rootfs.Stage)

	var f rootfs.RunFlags
	var lim limits.Flags
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	imagePath := fs.String("image", "", "the image: a docker save archive or an OCI layout (`PATH`)")
	runflags.Declare(fs, &f, stepcli.DataRoot())
	limitflags.Declare(fs, &lim)
	stats := fs.Bool("stats", false, "print the container's resource usage when it exits")

	cmd := stepcli.Command{
		Name:         "step04-cgroups",
		Usage:        "run --image PATH [-m SIZE] [--cpus N] [--cpu-shares W] [--pids-limit N] [--stats] [step 3's flags] -- [CMD...]",
		Flags:        fs,
		ArgsOptional: true,
		Run: func(args []string) (int, error) {
			res, err := lim.Resources()
			if err != nil {
				return 0, err
			}
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
			id := rootfs.NewID()
			cfg, cleanup, err := rootfs.NewContainer(f.Root, id, store, img, f.Overrides(args, vars), mounts)
			if err != nil {
				return 0, err
			}
			defer cleanup()
			f.Apply(&cfg)
			opts := namespaces.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
			r, err := limits.Run(cfg, opts, cgroups.Config{ID: id, Parent: lim.Parent, Resources: res})
			r.Report(os.Stderr, "step04-cgroups", *stats)
			return r.Status.ExitCode(), err
		},
	}
	os.Exit(cmd.Main(os.Args[1:], os.Stderr))
}
