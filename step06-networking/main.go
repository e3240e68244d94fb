// Command step06-networking runs a stored (or pulled) image like step 5,
// on a network of its own: a bridge, a veth pair, NAT, and published ports.
//
//	sudo go run ./step06-networking run [--name NAME] [-p [HOSTIP:]HOSTPORT:PORT[/udp]]... [--network bridge|none|host] IMAGE [CMD...]
//	sudo go run ./step06-networking teardown
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"minidocker/internal/names"
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
	"minidocker/step06-networking/connect"
	"minidocker/step06-networking/netflags"
	"minidocker/step06-networking/portmap"
)

const name = "step06-networking"

func main() {
	namespaces.Init(rootfs.Stage)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var f rootfs.RunFlags
	var lim limits.Flags
	var reg fetch.Flags
	var netf connect.Flags
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	runflags.Declare(fs, &f, stepcli.DataRoot())
	limitflags.Declare(fs, &lim)
	fetchflags.Declare(fs, &reg)
	netflags.Declare(fs, &netf)
	cname := fs.String("name", "", "a `name` for the container: in its /etc/hosts, and unique among running ones")
	run := stepcli.Command{Name: name, Verb: "run", Usage: "run [--name NAME] [-p [HOSTIP:]HOSTPORT:PORT[/PROTO]]... [--network bridge|none|host] [step 5's flags] IMAGE [CMD...]", Flags: fs,
		Run: func(args []string) (int, error) {
			res, err := lim.Resources()
			if err != nil {
				return 0, err
			}
			mounts, vars, err := f.Parse()
			if err != nil {
				return 0, err
			}
			plan, err := netf.Plan()
			if err != nil {
				return 0, err
			}
			release, err := claimName(f.Root, *cname)
			if err != nil {
				return 0, err
			}
			defer release()
			s, err := store.Open(f.Root)
			if err != nil {
				return 0, err
			}
			img, err := reg.GetOrPull(ctx, s, args[0], os.Stderr)
			if err != nil {
				return 0, err
			}
			stop() // from here on signals go to the container (step 1)

			id := rootfs.NewID()
			names := []string{id[:12]}
			if f.Hostname != "" {
				names[0] = f.Hostname
			}
			if *cname != "" {
				names = append(names, *cname)
			}
			dir := rootfs.ContainerDir(f.Root, id)
			netMounts, err := plan.Files(filepath.Join(dir, "net"), names...)
			if err != nil {
				os.RemoveAll(dir)
				return 0, err
			}
			cfg, cleanup, err := rootfs.NewContainer(f.Root, id, s.Layers(), s.Runnable(img), f.Overrides(args[1:], vars), append(netMounts, mounts...))
			if err != nil {
				os.RemoveAll(dir)
				return 0, err
			}
			defer cleanup()
			f.Apply(&cfg)
			plan.Namespaces(&cfg)

			opts := namespaces.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
				// The init is in its cgroups and its network namespace, and
				// waits for its config: connect it now.
				Created: func(pid int) error {
					ep, err := plan.Attach(context.Background(), id, pid, filepath.Join(dir, "net"), names...)
					if err == nil && ep != nil {
						fmt.Fprintf(os.Stderr, "%s: %s on %s", name, ep.IP, ep.Bridge)
						if len(ep.Ports) > 0 {
							fmt.Fprintf(os.Stderr, ", %s", portmap.Format(ep.Ports))
						}
						fmt.Fprintln(os.Stderr)
					}
					return err
				}}
			r, err := limits.Run(cfg, opts, cgroups.Config{ID: id, Parent: lim.Parent, Resources: res})
			// Whatever happened, and before the exit code goes back.
			err = errors.Join(err, plan.Release(id))
			r.Report(os.Stderr, name, false)
			return r.Status.ExitCode(), err
		}}

	var tf connect.Flags
	tfs := flag.NewFlagSet("", flag.ContinueOnError)
	netflags.Declare(tfs, &tf)
	teardown := stepcli.Command{Name: name, Verb: "teardown", Usage: "teardown [--bridge NAME]", Flags: tfs, ArgsOptional: true,
		Run: func([]string) (int, error) {
			plan, err := tf.Plan()
			if err != nil {
				return 0, err
			}
			return 0, plan.Net.Teardown()
		}}

	os.Exit(stepcli.Main(name, os.Args[1:], os.Stderr, run, teardown))
}

// claimName makes name the name of one running container, or says who has
// it, as docker run --name does. The claim is a file created with O_EXCL:
// two runs at once cannot both get it.
func claimName(root, name string) (release func(), err error) {
	if name == "" {
		return func() {}, nil
	}
	if !names.Valid(name) {
		return nil, fmt.Errorf("Invalid container name (%s), only %s are allowed", name, names.Chars)
	}
	dir := filepath.Join(root, "names")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, name)
	fd, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, os.ErrExist) && !alive(p) {
		// Its run was killed before it could release the name.
		os.Remove(p)
		fd, err = os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	}
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf(`Conflict. The container name "/%s" is already in use by a running container`, name)
	}
	if err != nil {
		return nil, err
	}
	fmt.Fprintln(fd, os.Getpid())
	fd.Close()
	return func() { os.Remove(p) }, nil
}

// alive reports whether the run that claimed a name (its PID is in the
// file) still runs.
func alive(claim string) bool {
	data, err := os.ReadFile(claim)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return len(data) == 0 // being written right now
	}
	return syscall.Kill(pid, 0) == nil || errors.Is(syscall.Kill(pid, 0), syscall.EPERM)
}
