package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"minidocker/final/engine"
)

// docker volume: named volumes that outlive containers (the engine's
// volumes.go; run -v NAME:/path uses them).
func (a *app) volumeCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "volume COMMAND",
		Short: "Manage volumes",
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, args []string) error { return c.Help() },
	}
	c.AddCommand(&cobra.Command{
		Use:   "create [VOLUME]",
		Short: "Create a volume",
		Args:  maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			v, err := e.CreateVolume(name)
			if err != nil {
				return err
			}
			a.println(v.Name)
			return nil
		},
	})
	var quiet bool
	ls := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			vols, err := e.Volumes()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 10, 1, 3, ' ', 0)
			if !quiet {
				fmt.Fprintln(tw, "DRIVER\tVOLUME NAME")
			}
			for _, v := range vols {
				if quiet {
					fmt.Fprintln(tw, v.Name)
				} else {
					fmt.Fprintf(tw, "%s\t%s\n", v.Driver, v.Name)
				}
			}
			return tw.Flush()
		},
	}
	ls.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display volume names")
	c.AddCommand(ls)
	c.AddCommand(&cobra.Command{
		Use:   "inspect VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			out := []engine.Volume{}
			var failed error
			for _, name := range args {
				v, err := e.InspectVolume(name)
				if err != nil {
					fmt.Fprintf(a.stderr, "Error: %s\n", message(err))
					failed = &exitError{code: 1}
					continue
				}
				out = append(out, v)
			}
			data, _ := json.MarshalIndent(out, "", "    ")
			fmt.Fprintln(a.stdout, string(data))
			return failed
		},
	})
	var force bool
	rm := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes",
		Long:    "Remove volumes; one that a container uses, running or not, is refused.",
		Args:    minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			return a.eachArg(args, 1, func(name string) ([]string, error) {
				if err := e.RemoveVolume(name); err != nil {
					return nil, err
				}
				return []string{name}, nil
			})
		},
	}
	rm.Flags().BoolVarP(&force, "force", "f", false, "Force the removal of one or more volumes (accepted; in-use volumes are still refused)")
	c.AddCommand(rm)
	var all, yes bool
	prune := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused volumes",
		Long:  "Remove the volumes no container uses: with -a the named ones too (minidocker makes no anonymous volumes, so without -a there is nothing to remove).",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			gone, err := e.PruneVolumes(all)
			if err != nil {
				return err
			}
			if len(gone) > 0 {
				a.println("Deleted Volumes:")
				for _, n := range gone {
					a.println(n)
				}
				a.println()
			}
			a.println("Total reclaimed space: 0B")
			return nil
		},
	}
	prune.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused volumes, not just anonymous ones")
	prune.Flags().BoolVarP(&yes, "force", "f", false, "Do not prompt for confirmation (there is no prompt)")
	c.AddCommand(prune)
	return c
}
