package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"minidocker/final/engine"
)

// docker network: user-defined networks, each a bridge of its own with
// name resolution (the engine's networks.go; run --network NAME uses them).
func (a *app) networkCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "network COMMAND",
		Short: "Manage networks",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, args []string) error { return c.Help() },
	}
	var o engine.NetworkCreateOptions
	create := &cobra.Command{
		Use:   "create [OPTIONS] NETWORK",
		Short: "Create a network",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			n, err := e.CreateNetwork(args[0], o)
			if err != nil {
				return err
			}
			a.println(n.ID)
			return nil
		},
	}
	create.Flags().StringVarP(&o.Driver, "driver", "d", "bridge", "Driver to manage the Network (bridge only)")
	create.Flags().StringVar(&o.Subnet, "subnet", "", "Subnet in CIDR format that represents a network segment")
	create.Flags().StringVar(&o.Gateway, "gateway", "", "IPv4 Gateway for the master subnet (its first address)")
	create.Flags().BoolVar(&o.Internal, "internal", false, "Restrict external access to the network")
	c.AddCommand(create)

	var quiet bool
	ls := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			nets, err := e.Networks()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 10, 1, 3, ' ', 0)
			if !quiet {
				fmt.Fprintln(tw, "NETWORK ID\tNAME\tDRIVER\tSCOPE")
			}
			for _, n := range nets {
				if quiet {
					fmt.Fprintln(tw, n.ID[:12])
				} else {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.ID[:12], n.Name, n.Driver, n.Scope)
				}
			}
			return tw.Flush()
		},
	}
	ls.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display network IDs")
	c.AddCommand(ls)

	c.AddCommand(&cobra.Command{
		Use:   "inspect NETWORK [NETWORK...]",
		Short: "Display detailed information on one or more networks",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			out := []engine.Network{}
			var failed error
			for _, ref := range args {
				n, err := e.InspectNetwork(ref)
				if err != nil {
					fmt.Fprintf(a.stderr, "Error: %s\n", message(err))
					failed = &exitError{code: 1}
					continue
				}
				out = append(out, n)
			}
			data, _ := json.MarshalIndent(out, "", "    ")
			fmt.Fprintln(a.stdout, string(data))
			return failed
		},
	})
	c.AddCommand(&cobra.Command{
		Use:     "rm NETWORK [NETWORK...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more networks",
		Args:    minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			return a.eachArg(args, 1, func(ref string) ([]string, error) {
				if err := e.RemoveNetwork(ref); err != nil {
					return nil, err
				}
				return []string{ref}, nil
			})
		},
	})
	var aliases []string
	conn := &cobra.Command{
		Use:   "connect [OPTIONS] NETWORK CONTAINER",
		Short: "Connect a container to a network",
		Args:  exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			return e.ConnectNetwork(args[0], args[1], aliases)
		},
	}
	conn.Flags().StringSliceVar(&aliases, "alias", nil, "Add network-scoped alias for the container")
	c.AddCommand(conn)
	var force bool
	disc := &cobra.Command{
		Use:   "disconnect [OPTIONS] NETWORK CONTAINER",
		Short: "Disconnect a container from a network",
		Args:  exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			return e.DisconnectNetwork(args[0], args[1])
		},
	}
	disc.Flags().BoolVarP(&force, "force", "f", false, "Force the container to disconnect from a network (accepted)")
	c.AddCommand(disc)
	var yes bool
	prune := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all unused networks",
		Long:  "Remove the user-defined networks that no running container is on.",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			gone, err := e.PruneNetworks()
			if err != nil {
				return err
			}
			if len(gone) > 0 {
				a.println("Deleted Networks:")
				for _, n := range gone {
					a.println(n)
				}
				a.println()
			}
			return nil
		},
	}
	prune.Flags().BoolVarP(&yes, "force", "f", false, "Do not prompt for confirmation (there is no prompt)")
	c.AddCommand(prune)
	return c
}
