package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"minidocker/final/engine"
	"minidocker/final/state"
	"minidocker/internal/units"
)

// docker stats: CPU % between two readings, memory against the limit,
// network, processes; refreshed every second on a terminal, once with
// --no-stream.
func (a *app) statsCmd() *cobra.Command {
	var noStream, all bool
	c := &cobra.Command{
		Use:   "stats [OPTIONS] [CONTAINER...]",
		Short: "Display a live stream of container(s) resource usage statistics",
		Long: "The counters of the containers' cgroups (CPU time, memory, processes, block I/O) and of their veth:\n" +
			"CPU % is the container's CPU time over the machine's between two readings, times the CPUs.",
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			refs := args
			if len(refs) == 0 {
				list, err := e.List(all)
				if err != nil {
					return err
				}
				for _, ctr := range list {
					refs = append(refs, ctr.ID)
				}
			}
			prev := a.sample(e, refs)
			for {
				time.Sleep(500 * time.Millisecond)
				cur := a.sample(e, refs)
				var buf bytes.Buffer
				failed := writeStats(&buf, e, refs, prev, cur)
				if !noStream && term.IsTerminal(int(os.Stdout.Fd())) {
					fmt.Fprint(a.stdout, "\033[2J\033[H") // clear, home: refresh in place
				}
				a.stdout.Write(buf.Bytes())
				if noStream {
					if failed {
						return &exitError{code: 1}
					}
					return nil
				}
				prev = cur
				time.Sleep(500 * time.Millisecond)
			}
		},
	}
	c.Flags().BoolVar(&noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	c.Flags().BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	return c
}

type reading struct {
	s   engine.StatsSample
	err error
}

func (a *app) sample(e engine.Backend, refs []string) map[string]reading {
	out := map[string]reading{}
	for _, ref := range refs {
		s, err := e.Stats(ref)
		out[ref] = reading{s, err}
	}
	return out
}

// writeStats writes docker stats' table; a container that cannot be read
// (stopped) shows dashes, as in docker's. It reports whether one failed.
func writeStats(w io.Writer, e engine.Backend, refs []string, prev, cur map[string]reading) bool {
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS")
	failed := false
	for _, ref := range refs {
		ctr, err := e.Container(ref)
		if err != nil {
			failed = true
			continue
		}
		r, p := cur[ref], prev[ref]
		if r.err != nil || p.err != nil {
			fmt.Fprintf(tw, "%s\t%s\t--\t-- / --\t--\t--\t--\t--\n", ctr.ShortID(), ctr.Name)
			continue
		}
		fmt.Fprintln(tw, statsLine(ctr, r.s, p.s))
	}
	tw.Flush()
	return failed
}

func statsLine(c *state.Container, s, prev engine.StatsSample) string {
	mem := 0.0
	if s.MemLimit > 0 {
		mem = float64(s.MemUsage) / float64(s.MemLimit) * 100
	}
	return fmt.Sprintf("%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%s / %s\t%s / %s\t%d", c.ShortID(), c.Name, s.CPUPercent(prev),
		units.BytesSize(float64(s.MemUsage)), units.BytesSize(float64(s.MemLimit)), mem,
		units.HumanSize(int64(s.NetRx)), units.HumanSize(int64(s.NetTx)),
		units.HumanSize(int64(s.BlockRead)), units.HumanSize(int64(s.BlockWrite)), s.Pids)
}
