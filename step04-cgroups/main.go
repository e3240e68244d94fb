// Command step04-cgroups runs an image like step 3, with Docker's resource
// limits: -m, --cpus, --cpu-shares, --pids-limit.
//
//	sudo go run ./step04-cgroups run --image PATH [-m 64m] [--cpus 0.5] [--pids-limit 20] [--stats] -- [CMD...]
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
	"minidocker/step04-cgroups/cgroups"
)

func main() {
	namespaces.Init(rootfs.Stage)

	var f stepcli.ContainerFlags
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	imagePath := fs.String("image", "", "the image: a docker save archive or an OCI layout (`PATH`)")
	f.Register(fs)
	memory := fs.String("m", "", "memory limit (`SIZE`: 64m, 1g, bytes)")
	fs.StringVar(memory, "memory", "", "memory limit (same as -m)")
	cpus := fs.String("cpus", "", "number of CPUs (`N`, e.g. 0.5)")
	shares := fs.Uint64("cpu-shares", 0, "CPU shares, a relative `weight` (default 1024)")
	pids := fs.Int64("pids-limit", 0, "the most processes the container may have (`N`)")
	parent := fs.String("cgroup-parent", "", "create the container's cgroup beneath this `path` (default: our own cgroup)")
	stats := fs.Bool("stats", false, "print the container's resource usage when it exits")

	cmd := stepcli.Command{
		Name:         "step04-cgroups",
		Usage:        "run --image PATH [-m SIZE] [--cpus N] [--cpu-shares W] [--pids-limit N] [--stats] [step 3's flags] -- [CMD...]",
		Flags:        fs,
		ArgsOptional: true,
		Run: func(args []string) (int, error) {
			res, err := resources(*memory, *cpus, *shares, *pids)
			if err != nil {
				return 0, err
			}
			if *imagePath == "" {
				return 0, errors.New(`"--image" is required`)
			}
			mounts, err := rootfs.ParseVolumes(f.Volumes)
			if err != nil {
				return 0, err
			}
			vars, err := process.ParseEnv(f.Env, os.LookupEnv)
			if err != nil {
				return 0, fmt.Errorf(`invalid argument for "-e" flag: %w`, err)
			}
			if os.Geteuid() != 0 {
				return 0, errors.New("mounts, namespaces and cgroups need root: run it with sudo")
			}
			img, err := image.Load(*imagePath)
			if err != nil {
				return 0, err
			}
			store, err := layers.NewStore(filepath.Join(f.Root, "layers"))
			if err != nil {
				return 0, err
			}
			id := stepcli.NewID()
			dir := filepath.Join(f.Root, "containers", id)
			defer os.RemoveAll(dir)
			cfg, err := rootfs.Prepare(store, img, dir, image.Overrides{Args: args, Env: vars, Dir: f.Dir, User: f.User}, mounts)
			if err != nil {
				return 0, err
			}
			cfg.Namespaces, cfg.Hostname, cfg.Init = namespaces.Default, f.Hostname, f.Init
			if cfg.Hostname == "" {
				cfg.Hostname = id[:12]
			}
			return runLimited(cfg, id, *parent, res, *stats)
		},
	}
	os.Exit(cmd.Main(os.Args[1:], os.Stderr))
}

// resources parses the flags with Docker's rules and messages.
func resources(memory, cpus string, shares uint64, pids int64) (cgroups.Resources, error) {
	var r cgroups.Resources
	if memory != "" {
		n, err := cgroups.ParseMemory(memory)
		if err != nil {
			return r, fmt.Errorf(`invalid argument %q for "-m, --memory" flag: %w`, memory, err)
		}
		if err := cgroups.CheckMemory(n); err != nil {
			return r, err
		}
		r.Memory = n
	}
	if cpus != "" {
		q, err := cgroups.ParseCPUs(cpus)
		if err != nil {
			return r, fmt.Errorf(`invalid argument %q for "--cpus" flag: %w`, cpus, err)
		}
		r.CPUQuota = q
	}
	r.CPUShares, r.PidsLimit = shares, pids
	return r, nil
}

// runLimited creates the cgroups, starts the container in them (placed
// before the init reads its config, so the user's program never runs
// outside), waits, reports, and removes the cgroups.
func runLimited(cfg namespaces.Config, id, parent string, res cgroups.Resources, stats bool) (int, error) {
	cg, err := cgroups.New(cgroups.Config{ID: id, Parent: parent, Resources: res})
	if err != nil {
		return 0, err
	}
	defer func() {
		// Kills whatever is left (the init's orphans), waits, removes the
		// directories. A failure here is worth saying, not worth the exit code.
		if err := cg.Destroy(); err != nil {
			fmt.Fprintf(os.Stderr, "step04-cgroups: %v\n", err)
		}
	}()

	// cgroup v2: clone3 puts the init straight into the cgroup (attr).
	// cgroup v1 or hybrid: its PID goes into cgroup.procs while the init
	// waits for its config (apply).
	attr, apply := cgroups.Place(cg)
	opts := namespaces.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, SysProcAttr: attr, Created: apply}
	status, err := namespaces.Run(cfg, opts)
	if err != nil {
		return 0, err
	}
	s, serr := cg.Stats()
	if serr == nil && s.OOMKills > 0 {
		fmt.Fprintf(os.Stderr, "step04-cgroups: OOMKilled: the kernel killed the container for using more than %d bytes of memory\n", res.Memory)
	}
	if stats && serr == nil {
		fmt.Fprintf(os.Stderr, "memory peak %s, CPU %v, OOM kills %d (cgroup v%d)\n",
			humanBytes(s.MemoryPeak), s.CPUUsage.Round(1e6), s.OOMKills, cg.Version())
	}
	return status.ExitCode(), nil
}

func humanBytes(n uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
