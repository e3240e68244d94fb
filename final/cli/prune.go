package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"minidocker/final/engine"
	"minidocker/internal/units"
)

// docker container prune, image prune, system prune and system df: what
// the data root holds, and removing what nothing uses.

// humanSize is a size as docker system df and the prunes print it:
// go-units' HumanSize, four significant digits.
func humanSize(n int64) string { return units.HumanSizeWithPrecision(n, 4) }

// confirm asks as the docker CLI does before a prune: the warning, then
// "[y/N] "; only "y" or "Y" goes on. An empty or closed stdin is a no.
func (a *app) confirm(in io.Reader, warning string) bool {
	fmt.Fprintf(a.stdout, "%s [y/N] ", warning)
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(line), "y")
}

// A prune the user said no to does nothing, successfully: the docker CLI
// exits 0 and prints nothing more.

// pruneFlags are a prune's -f and --filter.
type pruneFlags struct {
	force   bool
	filters []string
}

func (p *pruneFlags) declare(c *cobra.Command) {
	c.Flags().BoolVarP(&p.force, "force", "f", false, "Do not prompt for confirmation")
	c.Flags().StringArrayVar(&p.filters, "filter", nil, "Provide filter values (e.g. \"until=<timestamp>\", \"label=<key>=<value>\")")
}

// group is a command of commands (docker container, image, system): alone
// it prints its help.
func group(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(0),
		RunE:  func(c *cobra.Command, args []string) error { return c.Help() },
	}
}

// prune asks (unless force) and runs the prunes, printing their outputs
// and the total.
func (a *app) prune(force bool, warning string, prunes ...func(e engine.Backend) (string, int64, error)) error {
	if !force && !a.confirm(os.Stdin, warning) {
		return nil
	}
	e, err := a.engine()
	if err != nil {
		return err
	}
	var outputs []string
	var total int64
	for _, p := range prunes {
		out, n, err := p(e)
		if err != nil {
			return err
		}
		outputs, total = append(outputs, out), total+n
	}
	a.printPruned(total, outputs...)
	return nil
}

// containerCmd is docker container: here only its prune.
func (a *app) containerCmd() *cobra.Command {
	c := group("container COMMAND", "Manage containers")
	var p pruneFlags
	prune := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove all stopped containers",
		Long:  "Remove every container that does not run (created or exited) and matches the filters: until=, label=, label!=.",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := engine.ParseFilters(p.filters, "until", "label", "label!")
			if err != nil {
				return err
			}
			return a.prune(p.force, "WARNING! This will remove all stopped containers.\nAre you sure you want to continue?",
				func(e engine.Backend) (string, int64, error) { return pruneContainers(e, f) })
		},
	}
	p.declare(prune)
	c.AddCommand(prune)
	return c
}

// printPruned prints the prunes' outputs (each one's "Deleted …:" list,
// then a blank line) and the total.
func (a *app) printPruned(reclaimed int64, outputs ...string) {
	for _, o := range outputs {
		if o != "" {
			fmt.Fprintln(a.stdout, o)
		}
	}
	fmt.Fprintln(a.stdout, "Total reclaimed space:", humanSize(reclaimed))
}

func pruneContainers(e engine.Backend, f engine.Filters) (string, int64, error) {
	rep, err := e.PruneContainers(f)
	if err != nil || len(rep.Deleted) == 0 {
		return "", 0, err
	}
	return "Deleted Containers:\n" + strings.Join(rep.Deleted, "\n") + "\n", rep.SpaceReclaimed, nil
}

// pruneImages is image prune's output: the docker CLI writes its entries
// "untagged: …" and "deleted: …".
func pruneImages(e engine.Backend, f engine.Filters) (string, int64, error) {
	rep, err := e.PruneImages(f)
	if err != nil || len(rep.Deleted) == 0 {
		return "", 0, err
	}
	var b strings.Builder
	b.WriteString("Deleted Images:\n")
	for _, l := range rep.Deleted {
		k, v, _ := strings.Cut(l, ": ")
		fmt.Fprintf(&b, "%s: %s\n", strings.ToLower(k), v)
	}
	return b.String(), rep.SpaceReclaimed, nil
}

// imageFilters are image prune's filters; -a is dangling=false.
func imageFilters(args []string, all bool) (engine.Filters, error) {
	f, err := engine.ParseFilters(args, "until", "label", "label!", "dangling")
	if err == nil && all {
		f["dangling"] = []string{"false"}
	}
	return f, err
}

// imageCmd is docker image: here only its prune.
func (a *app) imageCmd() *cobra.Command {
	c := group("image COMMAND", "Manage images")
	var p pruneFlags
	var all bool
	prune := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Long: "Remove the dangling images (no tag names them any more) that no container uses; with -a every image no\n" +
			"container uses, running or not. A layer goes only when no remaining image lists it.",
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := imageFilters(p.filters, all)
			if err != nil {
				return err
			}
			warning := "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
			if all {
				warning = "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"
			}
			return a.prune(p.force, warning, func(e engine.Backend) (string, int64, error) { return pruneImages(e, f) })
		},
	}
	p.declare(prune)
	prune.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused images, not just dangling ones")
	c.AddCommand(prune)
	return c
}

// systemCmd is docker system: prune and df.
func (a *app) systemCmd() *cobra.Command {
	c := group("system COMMAND", "Manage minidocker")
	var p pruneFlags
	var all, volumes bool
	prune := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused data",
		Long:  "Remove the stopped containers, the dangling images (with -a every unused image), the build cache, and with --volumes the unused anonymous volumes.",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			cf, err := engine.ParseFilters(p.filters, "until", "label", "label!")
			if err != nil {
				return err
			}
			imf, err := imageFilters(p.filters, all)
			if err != nil {
				return err
			}
			return a.prune(p.force, systemPruneWarning(all, volumes),
				func(e engine.Backend) (string, int64, error) { return pruneContainers(e, cf) },
				func(e engine.Backend) (string, int64, error) {
					if !volumes {
						return "", 0, nil
					}
					gone, err := e.PruneVolumes(false)
					if err != nil || len(gone) == 0 {
						return "", 0, err
					}
					return "Deleted Volumes:\n" + strings.Join(gone, "\n") + "\n", 0, nil
				},
				func(e engine.Backend) (string, int64, error) { return pruneImages(e, imf) },
				pruneBuildCache)
		},
	}
	p.declare(prune)
	prune.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused images not just dangling ones")
	prune.Flags().BoolVar(&volumes, "volumes", false, "Prune anonymous volumes")
	c.AddCommand(prune)
	var verbose bool
	df := &cobra.Command{
		Use:   "df [OPTIONS]",
		Short: "Show minidocker disk usage",
		Long:  "Show what the images (each layer counted once), the containers' writable layers and the volumes take on disk.",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			du, err := e.DiskUsage()
			if err != nil {
				return err
			}
			if verbose {
				return printDiskUsageVerbose(a.stdout, du, time.Now())
			}
			return printDiskUsage(a.stdout, du)
		},
	}
	df.Flags().BoolVarP(&verbose, "verbose", "v", false, "Show detailed information on space usage")
	c.AddCommand(df)
	return c
}

// systemPruneWarning lists what system prune removes, in the docker CLI's
// words (minidocker has no user networks and no build cache to list).
func systemPruneWarning(all, volumes bool) string {
	items := []string{"all stopped containers"}
	if volumes {
		items = append(items, "all anonymous volumes not used by at least one container")
	}
	if all {
		items = append(items, "all images without at least one container associated to them")
	} else {
		items = append(items, "all dangling images")
	}
	items = append(items, "unused build cache")
	return "WARNING! This will remove:\n  - " + strings.Join(items, "\n  - ") + "\n\nAre you sure you want to continue?"
}

// reclaimable is RECLAIMABLE: "1.2MB (50%)", just the size when the total
// is 0.
func reclaimable(n, total int64) string {
	if total > 0 {
		return fmt.Sprintf("%s (%d%%)", humanSize(n), n*100/total)
	}
	return humanSize(n)
}

// printDiskUsage is docker system df's table.
func printDiskUsage(w io.Writer, du engine.DiskUsage) error {
	imagesActive := 0
	for _, u := range du.Images {
		if u.Containers > 0 {
			imagesActive++
		}
	}
	var ctrSize, ctrReclaimable int64
	ctrActive := 0
	for _, u := range du.Containers {
		ctrSize += u.SizeRw
		if u.State.Running {
			ctrActive++
		} else {
			ctrReclaimable += u.SizeRw
		}
	}
	var volSize, volReclaimable int64
	volActive := 0
	for _, u := range du.Volumes {
		volSize += u.Size
		if u.RefCount > 0 {
			volActive++
		} else {
			volReclaimable += u.Size
		}
	}
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE")
	fmt.Fprintf(tw, "Images\t%d\t%d\t%s\t%s\n", len(du.Images), imagesActive, humanSize(du.LayersSize), reclaimable(du.ImagesReclaimable, du.LayersSize))
	fmt.Fprintf(tw, "Containers\t%d\t%d\t%s\t%s\n", len(du.Containers), ctrActive, humanSize(ctrSize), reclaimable(ctrReclaimable, ctrSize))
	fmt.Fprintf(tw, "Local Volumes\t%d\t%d\t%s\t%s\n", len(du.Volumes), volActive, humanSize(volSize), reclaimable(volReclaimable, volSize))
	fmt.Fprintf(tw, "Build Cache\t0\t0\t0B\t0B\n")
	return tw.Flush()
}

// printDiskUsageVerbose is docker system df -v: a table per kind.
func printDiskUsageVerbose(w io.Writer, du engine.DiskUsage, now time.Time) error {
	table := func(title, header string, rows func(tw io.Writer)) error {
		fmt.Fprint(w, title)
		tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		fmt.Fprintln(tw, header)
		rows(tw)
		return tw.Flush()
	}
	err := table("Images space usage:\n\n", "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS", func(tw io.Writer) {
		for _, u := range du.Images {
			repo, tag := "<none>", "<none>"
			if len(u.RepoTags) > 0 { // the first tag only
				t := u.RepoTags[0]
				if i := strings.LastIndex(t, ":"); i > strings.LastIndex(t, "/") {
					repo, tag = t[:i], t[i+1:]
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s ago\t%s\t%s\t%s\t%d\n", repo, tag, u.ID.Encoded()[:12],
				units.HumanDuration(now.Sub(u.Created)), units.HumanSize(u.Size), humanSize(u.SharedSize),
				humanSize(u.Size-u.SharedSize), u.Containers)
		}
	})
	if err != nil {
		return err
	}
	err = table("\nContainers space usage:\n\n", "CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES", func(tw io.Writer) {
		for _, u := range du.Containers {
			vols := 0
			for _, m := range u.Config.Mounts {
				if m.Type == "volume" {
					vols++
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s ago\t%s\t%s\n", u.ShortID(), u.Config.Image, command(u.Container, false),
				vols, units.HumanSize(u.SizeRw), units.HumanDuration(now.Sub(u.Created)), status(u.Container, now), u.Name)
		}
	})
	if err != nil {
		return err
	}
	err = table("\nLocal Volumes space usage:\n\n", "VOLUME NAME\tLINKS\tSIZE", func(tw io.Writer) {
		for _, u := range du.Volumes {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Name, strconv.Itoa(u.RefCount), humanSize(u.Size))
		}
	})
	if err != nil {
		return err
	}
	return table("\nBuild cache usage: 0B\n\n", "CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED", func(io.Writer) {})
}

// builderCmd is docker builder: its prune, of the classic builder's cache
// (the images a build committed as its steps).
func (a *app) builderCmd() *cobra.Command {
	c := group("builder COMMAND", "Manage builds")
	var force, all bool
	prune := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove build cache",
		Long:  "Remove the images a build kept as its steps (the build cache), except those a name or a container holds.",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			return a.prune(force, "WARNING! This will remove all dangling build cache. Are you sure you want to continue?", pruneBuildCache)
		},
	}
	prune.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	prune.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused build cache, not just dangling ones (the same here: the cache has no other kind)")
	c.AddCommand(prune)
	return c
}

func pruneBuildCache(e engine.Backend) (string, int64, error) {
	rep, err := e.PruneBuildCache()
	if err != nil || len(rep.Deleted) == 0 {
		return "", rep.SpaceReclaimed, err
	}
	return "Deleted build cache objects:\n" + strings.Join(rep.Deleted, "\n") + "\n", rep.SpaceReclaimed, nil
}
