package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"minidocker/final/engine"
)

func (a *app) searchCmd() *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "search [OPTIONS] TERM",
		Short: "Search Docker Hub (or a registry: HOST[:PORT]/TERM) for images",
		Long: "Search Docker Hub's index for TERM. With HOST[:PORT]/TERM, list the repositories of that registry\n" +
			"(its /v2/_catalog) whose name contains TERM; plain HTTP only for localhost and 127.0.0.0/8.",
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			// Search needs no data root: a zero Engine, so that search
			// works where the data root cannot be opened (not root); with
			// -H the daemon searches.
			var e engine.Backend = &engine.Engine{}
			if a.host != "" {
				c, err := a.engine()
				if err != nil {
					return err
				}
				e = c
			}
			results, err := e.Search(a.ctx, args[0], limit)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "NAME\tDESCRIPTION\tSTARS\tOFFICIAL")
			for _, r := range results {
				official := ""
				if r.IsOfficial {
					official = "[OK]"
				}
				desc := r.Description
				if len([]rune(desc)) > 45 {
					desc = string([]rune(desc)[:44]) + "…"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Name, desc, r.StarCount, official)
			}
			return tw.Flush()
		},
	}
	c.Flags().IntVar(&limit, "limit", 25, "Max number of search results")
	return c
}
