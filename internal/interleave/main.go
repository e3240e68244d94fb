// Command interleave times shell commands side by side on a shared, noisy
// machine: each round runs every command once, the order rotating from one
// round to the next (A B C, B C A, C A B, ...), so that a slow spell of the
// machine falls on all of them alike. It prints each command's median and
// its ratio to the first command's.
//
//	go run ./internal/interleave -rounds 40 -pause 100ms 'cmd A' 'cmd B'
//
// -pause waits between two runs, so that what a command leaves running in
// the background (a monitor finishing its clean-up) is not charged to the
// next one. A command that fails stops everything: its time would mean
// nothing.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 30, "rounds (each runs every command once)")
	warmup := flag.Int("warmup", 3, "untimed rounds first")
	pause := flag.Duration("pause", 100*time.Millisecond, "pause before each run")
	flag.Parse()
	cmds := flag.Args()
	if len(cmds) == 0 || *rounds < 1 {
		fmt.Fprintln(os.Stderr, "usage: interleave [-rounds N] [-warmup N] [-pause D] 'command' ...")
		os.Exit(2)
	}
	times := make([][]time.Duration, len(cmds))
	for r := -*warmup; r < *rounds; r++ {
		for k := range cmds {
			i := (k + max(r, 0)) % len(cmds)
			time.Sleep(*pause)
			c := exec.Command("/bin/sh", "-c", cmds[i])
			start := time.Now()
			out, err := c.CombinedOutput()
			d := time.Since(start)
			if err != nil {
				fmt.Fprintf(os.Stderr, "interleave: %s: %v\n%s", cmds[i], err, out)
				os.Exit(1)
			}
			if r >= 0 {
				times[i] = append(times[i], d)
			}
		}
	}
	base := median(times[0])
	fmt.Printf("%d rounds, interleaved, %v apart; medians:\n", *rounds, *pause)
	for i, c := range cmds {
		m := median(times[i])
		fmt.Printf("%8.1f ms  %5.2fx  %s\n", ms(m), ms(m)/ms(base), c)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
