package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"minidocker/final/engine"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/privileges"
	"minidocker/step03-rootfs-layers/rootfs"
	"minidocker/step04-cgroups/limits"
	"minidocker/step05-pull/fetch"
	"minidocker/step06-networking/connect"
	"minidocker/step06-networking/portmap"
)

func (a *app) runCmd() *cobra.Command {
	var (
		runf       rootfs.RunFlags
		lim        limits.Flags
		reg        fetch.Flags
		netf       connect.Flags
		detach     bool
		name       string
		autoRemove bool
		stdin, tty bool
		entrypoint string
		privileged bool
		readOnly   bool
		capAdd     []string
		capDrop    []string
		secOpts    []string
		labels     []string
		labelFiles []string
		restart    string
		mountFlags []engine.MountSpec
		tmpfs      = map[string]string{}
		aliases    []string
		detachKeys string
	)
	c := &cobra.Command{
		Use:   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		Short: "Create and run a new container from an image",
		Long: "Create a container from IMAGE (pulled first when it is not here) and run it: in the foreground with its\n" +
			"output on the terminal and its exit code as ours, or with -d in the background, printing its ID.",
		Args: minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			fail := runFailed
			res, err := lim.Resources()
			if err != nil {
				return fail(err)
			}
			runf.NamedVolumes = true // the engine keeps them (docker volume)
			mounts, vars, err := runf.Parse()
			mountSpecs := mountFlags
			if err != nil {
				return fail(err)
			}
			var ports []portmap.Mapping
			for _, spec := range netf.Publish {
				ms, err := portmap.Parse(spec)
				if err != nil {
					return fail(err)
				}
				ports = append(ports, ms...)
			}
			// A seccomp profile's file is read here, as the docker CLI does:
			// the container keeps its content.
			var priv privileges.Options
			secOpts, err := privileges.ParseSecurityOpts(secOpts, &priv)
			if err != nil {
				return fail(err)
			}
			lbls, err := engine.ParseLabels(labelFiles, labels)
			if err != nil {
				return fail(err)
			}
			policy, err := restartPolicy(restart, autoRemove)
			if err != nil {
				return fail(err)
			}
			o := engine.RunOptions{RestartPolicy: policy,
				ImageRef: args[0], Name: name, Args: args[1:], Env: vars,
				Dir: runf.Dir, User: runf.User, Hostname: runf.Hostname,
				Tty: tty, OpenStdin: stdin, AutoRemove: autoRemove, Init: runf.Init, Detach: detach,
				Mounts: mounts, MountSpecs: mountSpecs, Tmpfs: tmpfs, Network: netf.Network, Aliases: aliases, Ports: ports, DNS: netf.DNS,
				Memory: res.Memory, NanoCPUs: res.CPUQuota * 1e4, PidsLimit: res.PidsLimit,
				Privileged: privileged, CapAdd: capAdd, CapDrop: capDrop,
				SecurityOpt: secOpts, ReadonlyRootfs: readOnly, Labels: lbls,
			}
			if c.Flags().Changed("entrypoint") {
				o.Entrypoint = &entrypoint
			}
			keys, err := parseDetachKeys(detachKeys)
			if err != nil {
				return fail(err)
			}
			e, err := a.engine()
			if err != nil {
				return fail(err)
			}
			if err := e.Validate(o); err != nil {
				return fail(err) // a bad --network fails before any pull
			}
			o.Image, err = e.PullIfMissing(a.ctx, args[0], a.pullOptions(&reg), missingPrinter{pullPrinter(a.stderr), a.stderr, args[0]})
			if err != nil {
				return fail(err)
			}
			ctr, err := e.Create(o)
			if err != nil {
				return fail(err)
			}
			if detach {
				if err := e.StartDetached(ctr.ID); err != nil {
					return fail(err)
				}
				a.println(ctr.ID)
				return nil
			}
			return a.attached(e, ctr.ID, tty, stdin, keys)
		},
	}
	fs := c.Flags()
	fs.SetInterspersed(false) // flags after IMAGE belong to the command
	fs.BoolVarP(&detach, "detach", "d", false, "Run the container in the background and print its ID")
	fs.StringVar(&name, "name", "", "Assign a name to the container")
	fs.BoolVar(&autoRemove, "rm", false, "Automatically remove the container when it exits")
	fs.BoolVarP(&stdin, "interactive", "i", false, "Keep STDIN open")
	fs.BoolVarP(&tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fs.StringVar(&detachKeys, "detach-keys", "", "Override the key sequence for detaching a container (default \""+engine.DefaultDetachKeys+"\")")
	fs.StringVar(&entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	fs.BoolVar(&privileged, "privileged", false, "Give extended privileges to this container")
	fs.BoolVar(&readOnly, "read-only", false, "Mount the container's root filesystem as read only")
	fs.StringSliceVar(&capAdd, "cap-add", nil, "Add Linux capabilities")
	fs.StringSliceVar(&capDrop, "cap-drop", nil, "Drop Linux capabilities")
	fs.StringArrayVar(&secOpts, "security-opt", nil, "Security Options")
	fs.StringArrayVarP(&labels, "label", "l", nil, "Set meta data on a container (`KEY[=VALUE]`, repeatable)")
	fs.StringArrayVar(&labelFiles, "label-file", nil, "Read in a line delimited file of labels")
	fs.StringVar(&restart, "restart", engine.RestartNo, "Restart policy to apply when a container exits: no, on-failure[:max-retries], always, unless-stopped")
	// The flags of the steps' libraries (rootfs, limits, connect, fetch),
	// declared here with docker's long names; the libraries take the values.
	fs.StringArrayVarP(&runf.Volumes, "volume", "v", nil, "bind mount a volume `SRC:DST[:ro]` (repeatable)")
	fs.Func("mount", "Attach a filesystem mount to the container: `type=bind|volume|tmpfs,source=...,target=...[,readonly]` (repeatable)", func(v string) error {
		m, err := parseMount(v)
		if err == nil {
			mountFlags = append(mountFlags, m)
		}
		return err
	})
	fs.Func("tmpfs", "Mount a tmpfs directory: `PATH[:OPTIONS]` (repeatable)", func(v string) error {
		parseTmpfs(v, tmpfs)
		return nil
	})
	fs.StringArrayVarP(&runf.Env, "env", "e", nil, "set an environment variable `KEY=VAL` (repeatable)")
	fs.StringVarP(&runf.Dir, "workdir", "w", "", "working `DIR`ectory inside the container (default: the image's)")
	fs.StringVar(&runf.Hostname, "hostname", "", "the container's host `name` (default: the short container ID)")
	fs.BoolVar(&runf.Init, "init", false, "run a minimal init as PID 1")
	fs.StringVarP(&lim.Memory, "memory", "m", "", "memory limit (`SIZE`: 64m, 1g, bytes)")
	fs.StringVar(&lim.CPUs, "cpus", "", "number of CPUs (`N`, e.g. 0.5)")
	fs.Int64Var(&lim.PidsLimit, "pids-limit", 0, "the most processes the container may have (`N`)")
	registryFlags(fs, &reg, true)
	fs.StringVar(&netf.Network, "network", connect.Bridge, "connect the container to a `network`: bridge, none, host, container:NAME or a network of docker network create")
	fs.StringArrayVar(&aliases, "network-alias", nil, "Add network-scoped alias for the container")
	fs.StringArrayVarP(&netf.Publish, "publish", "p", nil, "publish a container's port to the host: `[HOSTIP:][HOSTPORT:]PORT[/PROTO]` (repeatable)")
	fs.Func("dns", "a DNS `server` for the container's resolv.conf (repeatable; default: the host's, minus loopback ones)", func(v string) error {
		if err := connect.CheckDNS(v); err != nil {
			return err
		}
		netf.DNS = append(netf.DNS, v)
		return nil
	})
	fs.StringVarP(&runf.User, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	return c
}

// attached runs the container in the foreground, as a client of its
// monitor's control socket (the engine's Start with attach options): our
// stdin (with -i), stdout and stderr are copied through it. With -t our
// terminal is put in raw mode so that every key goes to the container's
// pty; its size goes with the attach, before the command starts, and each
// SIGWINCH sends the new one. Other signals we get go to the container, as
// docker run's --sig-proxy does. The container's exit code becomes ours.
// With -it, the detach keys leave it running, and we return at once.
func (a *app) attached(e engine.Backend, id string, tty, stdin bool, keys []byte) error {
	err := a.foreground(tty, func(size *engine.Size) (engine.Session, error) {
		o := engine.AttachOptions{Stdout: a.stdout, Stderr: a.stderr, StdinOnce: true, Size: size, DetachKeys: keys}
		if stdin {
			o.Stdin = os.Stdin
		}
		return e.StartAttached(id, o)
	}, runFailed)
	if errors.Is(err, engine.ErrDetached) {
		return nil // as docker run: a detach is no error
	}
	return err
}

// parseDetachKeys is --detach-keys, Docker's Ctrl-P Ctrl-Q when not given.
func parseDetachKeys(spec string) ([]byte, error) {
	if spec == "" {
		spec = engine.DefaultDetachKeys
	}
	return engine.ParseDetachKeys(spec)
}

// foreground runs a session in the foreground, for run and exec: with a
// pty (tty) and a terminal on our stdin, the terminal goes in raw mode so
// that every key reaches the container, its size goes to start, and each
// SIGWINCH resizes; the other signals we get go to the container. The
// session's exit code becomes ours; an error of start goes through failed.
func (a *app) foreground(tty bool, start func(size *engine.Size) (engine.Session, error), failed func(error) error) error {
	in := int(os.Stdin.Fd())
	terminal := tty && term.IsTerminal(in)
	var size *engine.Size
	if terminal {
		size = termSize(in)
		old, err := term.MakeRaw(in)
		if err != nil {
			return &exitError{code: process.ExitToolFailed, err: err}
		}
		defer term.Restore(in, old)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	s, err := start(size)
	if err != nil {
		return failed(err)
	}
	go func() {
		for sig := range sigs {
			if sig == syscall.SIGWINCH {
				if size := termSize(in); terminal && size != nil {
					s.Resize(*size)
				}
			} else {
				s.Signal(sig.(syscall.Signal))
			}
		}
	}()
	code, err := s.Wait()
	if errors.Is(err, engine.ErrDetached) {
		return err // the caller says what a detach means
	}
	if err != nil {
		return &exitError{code: process.ExitToolFailed, err: err}
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

func (a *app) println(args ...any) { fmt.Fprintln(a.stdout, args...) }

// termSize is the size of the terminal on fd, nil if it has none.
func termSize(fd int) *engine.Size {
	cols, rows, err := term.GetSize(fd)
	if err != nil || rows <= 0 || cols <= 0 {
		return nil
	}
	return &engine.Size{Rows: uint16(rows), Cols: uint16(cols)}
}
