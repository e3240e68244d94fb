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
	"minidocker/step04-cgroups/cgroups"
	"minidocker/step04-cgroups/limits"
)

func main() {
	namespaces.Init(rootfs.Stage)

	var f rootfs.RunFlags
	var lim limits.Flags
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	imagePath := fs.String("image", "", "the image: a docker save archive or an OCI layout (`PATH`)")
	rootfsFlags(fs, &f, stepcli.DataRoot())
	limitsFlags(fs, &lim)
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

// rootfsFlags declares step 3's docker-run-like flags into f; root is the
// default data directory.
func rootfsFlags(fs *flag.FlagSet, f *rootfs.RunFlags, root string) {
	fs.Var((*stepcli.Strings)(&f.Volumes), "v", "bind mount a volume `SRC:DST[:ro]` (repeatable)")
	fs.Var((*stepcli.Strings)(&f.Env), "e", "set an environment variable `KEY=VAL` (repeatable)")
	fs.StringVar(&f.Dir, "w", "", "working `DIR`ectory inside the container (default: the image's)")
	fs.StringVar(&f.User, "user", "", "run as `USER[:GROUP]` from the image's /etc/passwd (default: the image's)")
	fs.StringVar(&f.Hostname, "hostname", "", "the container's host `name` (default: the short container ID)")
	fs.BoolVar(&f.Init, "init", false, "run a minimal init as PID 1")
	fs.StringVar(&f.Root, "root", root, "data `DIR`ectory for images, layers and containers")
}

// limitsFlags declares step 4's resource flags into f: -m/--memory,
// --cpus, --cpu-shares, --pids-limit and --cgroup-parent.
func limitsFlags(fs *flag.FlagSet, f *limits.Flags) {
	fs.StringVar(&f.Memory, "m", "", "memory limit (`SIZE`: 64m, 1g, bytes)")
	fs.StringVar(&f.Memory, "memory", "", "memory limit (same as -m)")
	fs.StringVar(&f.CPUs, "cpus", "", "number of CPUs (`N`, e.g. 0.5)")
	fs.Uint64Var(&f.CPUShares, "cpu-shares", 0, "CPU shares, a relative `weight` (default 1024)")
	fs.Int64Var(&f.PidsLimit, "pids-limit", 0, "the most processes the container may have (`N`)")
	fs.StringVar(&f.Parent, "cgroup-parent", "", "create the container's cgroup beneath this `path` (\"a/b\": beneath our own cgroup, \"/a/b\": from the root)")
}
