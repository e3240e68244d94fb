// Command step05-pull pulls images from a registry (Docker Hub, a mirror, or
// any OCI registry) into a content-addressed store, lists and removes them,
// and runs them with steps 3 and 4.
//
//	go run ./step05-pull pull [--platform os/arch] IMAGE
//	go run ./step05-pull images [-q]
//	go run ./step05-pull rmi [-f] IMAGE...
//	sudo go run ./step05-pull run [-m SIZE] [--cpus N] [-e K=V] [-v SRC:DST] IMAGE [CMD...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"minidocker/internal/stepcli"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/rootfs"
	"minidocker/step03-rootfs-layers/runflags"
	"minidocker/step04-cgroups/cgroups"
	"minidocker/step04-cgroups/limitflags"
	"minidocker/step04-cgroups/limits"
	"minidocker/step05-pull/fetch"
	"minidocker/step05-pull/fetchflags"
	"minidocker/step05-pull/store"
)

const name = "step05-pull"

func main() {
	namespaces.Init(rootfs.Stage)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var pullFlags fetch.Flags
	pullFS := flag.NewFlagSet("", flag.ContinueOnError)
	pullRoot := pullFS.String("root", stepcli.DataRoot(), "data `DIR`ectory")
	fetchflags.Declare(pullFS, &pullFlags)
	pull := stepcli.Command{Name: name, Verb: "pull", Usage: "pull [--platform os/arch] [--registry-mirror URL] [--trace] IMAGE", Flags: pullFS,
		Run: func(args []string) (int, error) {
			if len(args) != 1 {
				return 0, errors.New(`"pull" requires exactly 1 argument`)
			}
			s, err := store.Open(*pullRoot)
			if err != nil {
				return 0, err
			}
			_, err = pullFlags.Pull(ctx, s, args[0], os.Stdout)
			return 0, err
		}}

	imagesFS := flag.NewFlagSet("", flag.ContinueOnError)
	imagesRoot := imagesFS.String("root", stepcli.DataRoot(), "data `DIR`ectory")
	quiet := imagesFS.Bool("q", false, "only show image IDs")
	images := stepcli.Command{Name: name, Verb: "images", Usage: "images [-q]", Flags: imagesFS, ArgsOptional: true,
		Run: func(args []string) (int, error) {
			s, err := store.Open(*imagesRoot)
			if err != nil {
				return 0, err
			}
			list, err := s.Images()
			if err != nil {
				return 0, err
			}
			fetch.PrintImages(os.Stdout, list, fetch.ImagesFormat{Quiet: *quiet}, time.Now())
			return 0, nil
		}}

	rmiFS := flag.NewFlagSet("", flag.ContinueOnError)
	rmiRoot := rmiFS.String("root", stepcli.DataRoot(), "data `DIR`ectory")
	force := rmiFS.Bool("f", false, "remove the image even if it has several tags")
	rmi := stepcli.Command{Name: name, Verb: "rmi", Usage: "rmi [-f] IMAGE...", Flags: rmiFS,
		Run: func(args []string) (int, error) {
			s, err := store.Open(*rmiRoot)
			if err != nil {
				return 0, err
			}
			// Like docker rmi: every argument is tried, each error printed,
			// and the exit code says whether any failed.
			var failed error
			for _, arg := range args {
				lines, err := s.Remove(arg, *force, nil)
				for _, l := range lines {
					fmt.Println(l)
				}
				if err != nil {
					fmt.Fprintf(os.Stderr, "Error response from daemon: %v\n", err)
					failed = errors.New("not every image was removed")
				}
			}
			if failed != nil {
				return 1, nil
			}
			return 0, nil
		}}

	var runFlags rootfs.RunFlags
	var lim limits.Flags
	var runRegistry fetch.Flags
	runFS := flag.NewFlagSet("", flag.ContinueOnError)
	runflags.Declare(runFS, &runFlags, stepcli.DataRoot())
	limitflags.Declare(runFS, &lim)
	fetchflags.Declare(runFS, &runRegistry)
	stats := runFS.Bool("stats", false, "print the container's resource usage when it exits")
	run := stepcli.Command{Name: name, Verb: "run", Usage: "run [-m SIZE] [--cpus N] [-e K=V] [-v SRC:DST[:ro]] [--stats] IMAGE [CMD...]", Flags: runFS,
		Run: func(args []string) (int, error) {
			res, err := lim.Resources()
			if err != nil {
				return 0, err
			}
			mounts, vars, err := runFlags.Parse()
			if err != nil {
				return 0, err
			}
			s, err := store.Open(runFlags.Root)
			if err != nil {
				return 0, err
			}
			img, err := runRegistry.GetOrPull(ctx, s, args[0], os.Stderr)
			if err != nil {
				return 0, err
			}
			stop() // from here on signals go to the container (step 1)
			id := rootfs.NewID()
			cfg, cleanup, err := rootfs.NewContainer(runFlags.Root, id, s.Layers(), s.Runnable(img), runFlags.Overrides(args[1:], vars), mounts)
			if err != nil {
				return 0, err
			}
			defer cleanup()
			runFlags.Apply(&cfg)
			opts := namespaces.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
			r, err := limits.Run(cfg, opts, cgroups.Config{ID: id, Parent: lim.Parent, Resources: res})
			r.Report(os.Stderr, name, *stats)
			return r.Status.ExitCode(), err
		}}

	os.Exit(stepcli.Main(name, os.Args[1:], os.Stderr, pull, images, rmi, run))
}
