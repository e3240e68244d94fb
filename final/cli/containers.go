package cli

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"minidocker/final/engine"
	"minidocker/final/jsonlog"
	"minidocker/final/state"
	"minidocker/internal/units"
	"minidocker/step05-pull/store"
	"minidocker/step06-networking/portmap"
)

func (a *app) psCmd() *cobra.Command {
	var all, quiet, noTrunc bool
	c := &cobra.Command{
		Use:   "ps [OPTIONS]",
		Short: "List containers",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			list, err := e.Containers.List()
			if err != nil {
				return err
			}
			now := time.Now()
			tw := tabwriter.NewWriter(a.stdout, 0, 8, 3, ' ', 0)
			if !quiet {
				fmt.Fprintln(tw, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
			}
			for _, ctr := range list {
				ctr, err := e.Refresh(ctr) // the truth, if its monitor was killed
				if errors.Is(err, state.ErrNotFound) {
					continue // removed since the listing
				}
				if err != nil {
					return err
				}
				if !all && !ctr.State.Running {
					continue
				}
				id := ctr.ShortID()
				if noTrunc {
					id = ctr.ID
				}
				if quiet {
					fmt.Fprintln(tw, id)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s ago\t%s\t%s\t%s\n", id, ctr.Config.Image, command(ctr, noTrunc),
					units.HumanDuration(now.Sub(ctr.Created)), status(ctr, now), ports(ctr), ctr.Name)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display container IDs")
	c.Flags().BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	return c
}

// command is the COMMAND column: quoted, cut to 20 characters with "…".
func command(c *state.Container, full bool) string {
	cmd := strings.Join(append(append([]string{}, c.Config.Entrypoint...), c.Config.Cmd...), " ")
	if r := []rune(cmd); !full && len(r) > 20 {
		cmd = string(r[:19]) + "…"
	}
	return strconv.Quote(cmd)
}

// status is the STATUS column: "Up 3 seconds", "Exited (0) 2 minutes ago",
// "Created".
func status(c *state.Container, now time.Time) string {
	switch {
	case c.State.Running:
		return "Up " + units.HumanDuration(now.Sub(c.State.StartedAt))
	case c.State.Status == state.Exited:
		return fmt.Sprintf("Exited (%d) %s ago", c.State.ExitCode, units.HumanDuration(now.Sub(c.State.FinishedAt)))
	}
	return "Created"
}

// ports is the PORTS column of a running container: 0.0.0.0:8080->80/tcp.
func ports(c *state.Container) string {
	if !c.State.Running {
		return ""
	}
	var ms []portmap.Mapping
	for _, p := range c.Config.Ports {
		m := portmap.Mapping{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Proto: p.Protocol}
		m.HostIP, _ = netip.ParseAddr(p.HostIP)
		ms = append(ms, m)
	}
	return portmap.Format(ms)
}

// container finds a container argument: name, full ID or unique prefix.
func (a *app) container(e *engine.Engine, arg string) (*state.Container, error) {
	c, err := e.Containers.Get(arg)
	if err != nil {
		return nil, noSuchContainer(arg, err)
	}
	return c, nil
}

// eachContainer is docker stop/start/rm's loop: each argument names a
// container; fn acts on it, and its name is printed when fn succeeded.
func (a *app) eachContainer(args []string, fn func(e *engine.Engine, ctr *state.Container) error) error {
	e, err := a.engine()
	if err != nil {
		return err
	}
	return a.eachArg(args, func(arg string) error {
		ctr, err := a.container(e, arg)
		if err != nil {
			return err
		}
		if err := fn(e, ctr); err != nil {
			return noSuchContainer(arg, err) // removed meanwhile
		}
		a.println(arg)
		return nil
	})
}

func (a *app) stopCmd() *cobra.Command {
	var seconds int
	c := &cobra.Command{
		Use:   "stop [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Stop one or more running containers",
		Long:  "Send the container's stop signal (the image's STOPSIGNAL, or SIGTERM), and SIGKILL after the grace period.",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.eachContainer(args, func(e *engine.Engine, ctr *state.Container) error {
				return e.Stop(ctr, time.Duration(seconds)*time.Second)
			})
		},
	}
	c.Flags().IntVarP(&seconds, "time", "t", 10, "Seconds to wait before killing the container")
	return c
}

func (a *app) startCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "start CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Long:  "Start a stopped container again, in the background, with the same filesystem (its writes are kept).",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.eachContainer(args, func(e *engine.Engine, ctr *state.Container) error {
				if engine.Alive(ctr) {
					return nil // docker start of a running container does nothing
				}
				// The monitor checks again under the container's lock: a
				// start at the same time finds the container running.
				s, err := e.Start(ctr.ID, false)
				if err != nil {
					return err
				}
				s.Detach()
				return nil
			})
		},
	}
}

func (a *app) killCmd() *cobra.Command {
	var signal string
	c := &cobra.Command{
		Use:   "kill [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Kill one or more running containers",
		Long:  "Send SIGKILL (or the signal given with -s) to the container's init, PID 1 inside.",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			sig, err := engine.ParseSignal(signal)
			if err != nil {
				return err
			}
			return a.eachContainer(args, func(e *engine.Engine, ctr *state.Container) error {
				if err := e.Signal(ctr, sig); err != nil {
					return fmt.Errorf("cannot kill container: %s: %w", ctr.Name, err)
				}
				return nil
			})
		},
	}
	c.Flags().StringVarP(&signal, "signal", "s", "KILL", "Signal to send to the container")
	return c
}

func (a *app) rmCmd() *cobra.Command {
	var force, volumes bool
	c := &cobra.Command{
		Use:   "rm [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Remove one or more containers",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.eachContainer(args, func(e *engine.Engine, ctr *state.Container) error {
				return e.Remove(ctr, force)
			})
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	// minidocker has bind mounts only, no anonymous volumes to remove.
	c.Flags().BoolVarP(&volumes, "volumes", "v", false, "Remove anonymous volumes associated with the container (there are none: -v mounts are binds)")
	return c
}

func (a *app) logsCmd() *cobra.Command {
	var follow, timestamps bool
	var tail string
	c := &cobra.Command{
		Use:   "logs [OPTIONS] CONTAINER",
		Short: "Fetch the logs of a container",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			ctr, err := a.container(e, args[0])
			if err != nil {
				return err
			}
			opts := jsonlog.ReadOptions{Tail: jsonlog.TailAll, Timestamps: timestamps}
			if tail != "all" {
				n, err := strconv.Atoi(tail)
				if err != nil || n < 0 {
					return fmt.Errorf("invalid value for \"tail\": %q", tail)
				}
				opts.Tail = n
			}
			if !follow {
				f, err := os.Open(ctr.Config.LogPath)
				if errors.Is(err, os.ErrNotExist) {
					return nil // never started
				}
				if err != nil {
					return err
				}
				defer f.Close()
				return jsonlog.Read(f, opts, a.stdout, a.stderr)
			}
			if _, err := os.Stat(ctr.Config.LogPath); errors.Is(err, os.ErrNotExist) {
				return nil
			}
			// Follow until the container stops (its monitor has then
			// written everything), or we are interrupted.
			done := make(chan struct{})
			ctx, cancel := context.WithCancel(a.ctx)
			defer cancel()
			go func() {
				defer close(done)
				for ctx.Err() == nil {
					cur, err := e.Containers.Get(ctr.ID)
					if err != nil {
						return
					}
					if cur, err = e.Refresh(cur); err != nil || !cur.State.Running {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}()
			err = jsonlog.Follow(ctx, ctr.Config.LogPath, opts, a.stdout, a.stderr, done)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
	c.Flags().BoolVarP(&follow, "follow", "f", false, "Follow log output")
	c.Flags().BoolVarP(&timestamps, "timestamps", "t", false, "Show timestamps")
	c.Flags().StringVarP(&tail, "tail", "n", "all", "Number of lines to show from the end of the logs")
	return c
}

func (a *app) inspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect CONTAINER|IMAGE [CONTAINER|IMAGE...]",
		Short: "Return low-level information on containers and images, as JSON",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			var out []any
			var errs []string
			for _, arg := range args {
				ctr, err := e.Containers.Get(arg)
				if err == nil {
					if ctr, err = e.Refresh(ctr); err != nil {
						return err
					}
					out = append(out, ctr.Inspect())
					continue
				}
				img, ierr := e.Images.Get(arg)
				if ierr == nil {
					out = append(out, inspectImage(img))
					continue
				}
				if errors.Is(err, state.ErrNotFound) && errors.Is(ierr, store.ErrNotFound) {
					errs = append(errs, "No such object: "+arg)
				} else {
					errs = append(errs, message(err))
				}
			}
			if out == nil {
				out = []any{}
			}
			if err := a.printJSON(out); err != nil {
				return err
			}
			if len(errs) > 0 {
				return errors.New(strings.Join(errs, "\n"))
			}
			return nil
		},
	}
}
