// Command step03-rootfs-layers runs an image stored on disk (a docker save
// archive or an OCI layout): its layers stacked with overlayfs under a
// writable layer of the container's own, and pivot_root into them.
//
//	sudo go run ./step03-rootfs-layers run --image PATH [-v SRC:DST[:ro]]... [--hostname H] -- [CMD...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"minidocker/internal/stepcli"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/image"
	"minidocker/step03-rootfs-layers/layers"
	"minidocker/step03-rootfs-layers/rootfs"
)

func main() {
	namespaces.Init(rootfs.Stage)

	var f stepcli.ContainerFlags
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	imagePath := fs.String("image", "", "the image: a docker save archive or an OCI layout (`PATH`)")
	f.Register(fs)

	cmd := stepcli.Command{
		Name:         "step03-rootfs-layers",
		Usage:        "run --image PATH [-v SRC:DST[:ro]]... [--hostname H] [-e KEY=VAL]... [-w DIR] [--user U] -- [CMD...]",
		Flags:        fs,
		ArgsOptional: true,
		Run: func(args []string) (int, error) {
			if *imagePath == "" {
				return 0, errors.New(`"--image" is required`)
			}
			mounts, vars, err := Parse(&f)
			if err != nil {
				return 0, err
			}
			img, err := image.Load(*imagePath)
			if err != nil {
				return 0, err
			}
			cfg, cleanup, err := Prepare(&f, img, args, vars, mounts)
			if err != nil {
				return 0, err
			}
			defer cleanup()
			status, err := namespaces.Run(cfg, namespaces.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
			return status.ExitCode(), err
		},
	}
	os.Exit(cmd.Main(os.Args[1:], os.Stderr))
}

// Parse checks the shared flags: volumes and -e values.
func Parse(f *stepcli.ContainerFlags) ([]rootfs.Mount, []string, error) {
	mounts, err := rootfs.ParseVolumes(f.Volumes)
	if err != nil {
		return nil, nil, err
	}
	vars, err := process.ParseEnv(f.Env, os.LookupEnv)
	if err != nil {
		return nil, nil, fmt.Errorf(`invalid argument for "-e" flag: %w`, err)
	}
	if os.Geteuid() != 0 {
		return nil, nil, errors.New("mounts and namespaces need root: run it with sudo")
	}
	return mounts, vars, nil
}

// Prepare lays out a new container of img under the data root and returns
// its init config and the clean-up that removes it (this demo's containers
// are removed at exit, like docker run --rm).
func Prepare(f *stepcli.ContainerFlags, img *image.Image, args, vars []string, mounts []rootfs.Mount) (namespaces.Config, func(), error) {
	store, err := layers.NewStore(filepath.Join(f.Root, "layers"))
	if err != nil {
		return namespaces.Config{}, nil, err
	}
	id := stepcli.NewID()
	dir := filepath.Join(f.Root, "containers", id)
	cleanup := func() { os.RemoveAll(dir) }
	cfg, err := rootfs.Prepare(store, img, dir, image.Overrides{Args: args, Env: vars, Dir: f.Dir, User: f.User}, mounts)
	if err != nil {
		cleanup()
		return cfg, nil, err
	}
	cfg.Namespaces, cfg.Hostname, cfg.Init = namespaces.Default, f.Hostname, f.Init
	if cfg.Hostname == "" {
		cfg.Hostname = id[:12]
	}
	return cfg, cleanup, nil
}
