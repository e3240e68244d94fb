package ociruntime

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

// printPs is ps's table: each process's PID and command line, from /proc.
func printPs(w io.Writer, pids []int) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PID\tCMD")
	for _, pid := range pids {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			continue // exited meanwhile
		}
		fmt.Fprintf(tw, "%d\t%s\n", pid, strings.TrimSpace(strings.ReplaceAll(string(data), "\x00", " ")))
	}
	return tw.Flush()
}
