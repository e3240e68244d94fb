// Command step01-process runs one program the way docker run does, but with
// no isolation at all: to the host, a container is only a process.
//
//	go run ./step01-process run [-e KEY=VAL]... [-w DIR] -- CMD [ARG...]
package main

import (
	"flag"
	"fmt"
	"os"

	"minidocker/internal/stepcli"
	"minidocker/step01-process/process"
)

func main() {
	var env stepcli.Strings
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.Var(&env, "e", "set an environment variable `KEY=VAL` (repeatable); a bare KEY copies it from your environment")
	dir := fs.String("w", "", "working `DIR`ectory of the command")

	cmd := stepcli.Command{
		Name:  "step01-process",
		Usage: "run [-e KEY=VAL]... [-w DIR] -- CMD [ARG...]",
		Flags: fs,
		Run: func(args []string) (int, error) {
			vars, err := process.Env(env, os.LookupEnv)
			if err != nil {
				return 0, fmt.Errorf(`invalid argument for "-e" flag: %w`, err)
			}
			status, err := process.Run(process.Spec{
				Args: args, Env: vars, Dir: *dir,
				Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
			})
			return status.ExitCode(), err
		},
	}
	os.Exit(cmd.Main(os.Args[1:], os.Stderr))
}
