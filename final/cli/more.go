package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"minidocker/final/engine"
	"minidocker/final/state"
)

// wait, restart, rename, port: docker's everyday commands around a
// container's life, each one call to the engine.

func (a *app) waitCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "wait CONTAINER [CONTAINER...]",
		Short: "Block until one or more containers stop, then print their exit codes",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			// All at once (a wait only waits), printed in argument order.
			return a.eachArg(args, len(args), func(ref string) ([]string, error) {
				code, err := e.Wait(a.ctx, ref)
				if err != nil {
					return nil, err
				}
				return []string{fmt.Sprint(code)}, nil
			})
		},
	}
}

func (a *app) restartCmd() *cobra.Command {
	var timeout int
	c := &cobra.Command{
		Use:   "restart [OPTIONS] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		Long:  "Stop each container (its STOPSIGNAL, SIGKILL after -t seconds) and start it again, in the background.",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.eachContainer(args, func(e engine.Backend, ref string) error {
				if err := e.Stop(ref, time.Duration(timeout)*time.Second); !done(err) {
					return err
				}
				if err := e.StartDetached(ref); !done(err) {
					return err
				}
				return nil
			})
		},
	}
	c.Flags().IntVarP(&timeout, "time", "t", 10, "Seconds to wait before killing the container")
	return c
}

func (a *app) renameCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NEW_NAME",
		Short: "Rename a container",
		Args:  exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			return e.Rename(args[0], args[1])
		},
	}
}

func (a *app) portCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER",
		Short: "List port mappings of the container",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			ctr, err := e.Container(args[0])
			if err != nil {
				return err
			}
			for _, line := range portLines(ctr) {
				a.println(line)
			}
			return nil
		},
	}
}

// portLines are docker port's lines: "80/tcp -> 0.0.0.0:8080", in the
// order the ports were published; a running container's host ports as
// they were chosen.
func portLines(c *state.Container) []string {
	if !c.State.Running {
		return nil
	}
	var out []string
	for _, p := range c.Config.Ports {
		ip := p.HostIP
		if ip == "" {
			ip = "0.0.0.0"
		}
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, fmt.Sprintf("%d/%s -> %s:%d", p.ContainerPort, proto, ip, p.HostPort))
	}
	return out
}

func (a *app) pauseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pause CONTAINER [CONTAINER...]",
		Short: "Pause all processes within one or more containers",
		Long:  "Freeze every process of the container where it is (the freezer cgroup: v1 freezer.state, v2 cgroup.freeze).",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.eachContainer(args, func(e engine.Backend, ref string) error { return e.Pause(ref) })
		},
	}
}

func (a *app) unpauseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "unpause CONTAINER [CONTAINER...]",
		Short: "Unpause all processes within one or more containers",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return a.eachContainer(args, func(e engine.Backend, ref string) error { return e.Unpause(ref) })
		},
	}
}

func (a *app) topCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "top CONTAINER",
		Short: "Display the running processes of a container",
		Long:  "The processes in the container's cgroups (cgroup.procs), with the host's PIDs, as ps -ef shows them.",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			rows, err := e.Top(args[0])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 20, 1, 3, ' ', 0) // the docker CLI's top table
			fmt.Fprintln(tw, strings.Join(engine.TopTitles, "\t"))
			for _, r := range rows {
				fmt.Fprintln(tw, strings.Join(r, "\t"))
			}
			return tw.Flush()
		},
	}
}
