package cli

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/internal/units"
	"minidocker/step06-networking/portmap"
)

func (a *app) psCmd() *cobra.Command {
	var all, quiet, noTrunc, size bool
	var filterArgs []string
	var format string
	c := &cobra.Command{
		Use:   "ps [OPTIONS]",
		Short: "List containers",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			filter, err := parsePSFilters(filterArgs)
			if err != nil {
				return err
			}
			e, err := a.engine()
			if err != nil {
				return err
			}
			list, err := e.List(all || filter.showsAll())
			if err != nil {
				return err
			}
			kept := list[:0]
			for _, ctr := range list {
				if filter.match(ctr) {
					kept = append(kept, ctr)
				}
			}
			list = kept
			now := time.Now()
			custom := format != "" && format != "table" && !quiet
			// Sizes cost a walk of every writable layer: only with -s, or
			// a format that shows them (as the docker CLI decides).
			var sizes map[string]engine.ContainerSize
			if !quiet && (size || custom && strings.Contains(format, ".Size")) {
				if sizes, err = e.ContainerSizes(); err != nil {
					return err
				}
			}
			sizeOf := func(ctr *state.Container) string {
				if sizes == nil {
					return ""
				}
				return psSize(sizes[ctr.ID])
			}
			if custom {
				var rows []psFields
				for _, ctr := range list {
					rows = append(rows, psRow(ctr, now, noTrunc, sizeOf(ctr)))
				}
				return formatPS(a.stdout, format, rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 8, 3, ' ', 0)
			if !quiet {
				header := "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES"
				if size {
					header += "\tSIZE"
				}
				fmt.Fprintln(tw, header)
			}
			for _, ctr := range list {
				id := ctr.ShortID()
				if noTrunc {
					id = ctr.ID
				}
				if quiet {
					fmt.Fprintln(tw, id)
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s ago\t%s\t%s\t%s", id, ctr.Config.Image, command(ctr, noTrunc),
					units.HumanDuration(now.Sub(ctr.Created)), status(ctr, now), ports(ctr), ctr.Name)
				if size {
					fmt.Fprintf(tw, "\t%s", sizeOf(ctr))
				}
				fmt.Fprintln(tw)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display container IDs")
	c.Flags().BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	c.Flags().BoolVarP(&size, "size", "s", false, "Display total file sizes (the writable layer, and with the image's: virtual)")
	c.Flags().StringArrayVarP(&filterArgs, "filter", "f", nil, "Filter output based on conditions provided (id, name, status, exited, ancestor, label)")
	c.Flags().StringVar(&format, "format", "", "Format output using a Go template: 'table {{.Names}}\\t{{.Status}}', '{{json .}}'")
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
	case c.State.Running && c.State.Paused:
		return "Up " + units.HumanDuration(now.Sub(c.State.StartedAt)) + " (Paused)"
	case c.State.Running:
		return "Up " + units.HumanDuration(now.Sub(c.State.StartedAt))
	case c.State.Restarting:
		return fmt.Sprintf("Restarting (%d) %s ago", c.State.ExitCode, units.HumanDuration(now.Sub(c.State.FinishedAt)))
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

// eachContainer is docker stop/start/kill/rm's loop: each argument names a
// container; fn acts on it through the engine, up to maxParallel
// containers at once, and the argument is printed when that is done (in
// argument order, whichever finished first).
func (a *app) eachContainer(args []string, fn func(e engine.Backend, arg string) error) error {
	e, err := a.engine()
	if err != nil {
		return err
	}
	return a.eachArg(args, maxParallel, func(arg string) ([]string, error) {
		if err := fn(e, arg); !done(err) {
			return nil, err
		}
		return []string{arg}, nil
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
			return a.eachContainer(args, func(e engine.Backend, arg string) error {
				return e.Stop(arg, time.Duration(seconds)*time.Second)
			})
		},
	}
	c.Flags().IntVarP(&seconds, "time", "t", 10, "Seconds to wait before killing the container")
	return c
}

func (a *app) startCmd() *cobra.Command {
	var restartable bool
	c := &cobra.Command{
		Use:   "start CONTAINER [CONTAINER...]",
		Short: "Start one or more stopped containers",
		Long: "Start a stopped container again, in the background, with the same filesystem (its writes are kept).\n" +
			"With --all-restartable, start every container that its restart policy brings back after a reboot\n" +
			"(always; unless-stopped and on-failure unless a user stopped it): what a boot script calls.",
		Args: func(c *cobra.Command, args []string) error {
			if restartable {
				return exactArgs(0)(c, args)
			}
			return minArgs(1)(c, args)
		},
		RunE: func(c *cobra.Command, args []string) error {
			if restartable {
				return a.startRestartable()
			}
			return a.eachContainer(args, func(e engine.Backend, arg string) error {
				return e.StartDetached(arg)
			})
		},
	}
	c.Flags().BoolVar(&restartable, "all-restartable", false, "Start every container whose restart policy brings it back after a reboot")
	return c
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
			return a.eachContainer(args, func(e engine.Backend, arg string) error {
				return e.Kill(arg, sig)
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
			return a.eachContainer(args, func(e engine.Backend, arg string) error {
				err := e.Remove(arg, engine.RemoveOptions{Force: force, Volumes: volumes})
				if force && errdefs.IsNotFound(err) {
					// As rm -f of a file that is not there: said, but no
					// failure (docker rm -f since 20.10).
					return warning{err}
				}
				return err
			})
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	c.Flags().BoolVarP(&volumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
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
			// With -f, until the container stops or we are interrupted.
			o := engine.LogsOptions{Follow: follow, Timestamps: timestamps, Tail: tail}
			return e.Logs(a.ctx, args[0], o, a.stdout, a.stderr)
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
			out := []any{}
			var errs []string
			for _, arg := range args {
				v, err := e.Inspect(arg)
				if err != nil {
					errs = append(errs, message(err))
					continue
				}
				out = append(out, v)
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
