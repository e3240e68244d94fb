// Command step02-namespaces runs a program in its own namespaces: its own
// hostname, process IDs, mounts, IPC and network.
//
//	sudo go run ./step02-namespaces run [--hostname NAME] [--init] [--ns uts,pid,mnt,ipc,net] -- CMD [ARG...]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"minidocker/internal/stepcli"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
)

func main() {
	// First: if we were re-executed as a container's init, become it.
	namespaces.Init()

	var env stepcli.Strings
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.Var(&env, "e", "set an environment variable `KEY=VAL` (repeatable)")
	dir := fs.String("w", "", "working `DIR`ectory inside the container")
	hostname := fs.String("hostname", "container", "the container's host `name` (needs the uts namespace)")
	init := fs.Bool("init", false, "run a minimal init as PID 1 that forwards signals and reaps zombies")
	nsList := fs.String("ns", "uts,pid,mnt,ipc,net", "namespaces to create, comma-separated (uts,pid,mnt,ipc,net,cgroup); empty for none")

	cmd := stepcli.Command{
		Name:  "step02-namespaces",
		Usage: "run [--hostname NAME] [--init] [--ns uts,pid,mnt,ipc,net] [-e KEY=VAL]... [-w DIR] -- CMD [ARG...]",
		Flags: fs,
		Run: func(args []string) (int, error) {
			ns, err := namespaces.Parse(*nsList)
			if err != nil {
				return 0, fmt.Errorf(`invalid argument %q for "--ns" flag: %w`, *nsList, err)
			}
			vars, err := process.Env(env, os.LookupEnv)
			if err != nil {
				return 0, fmt.Errorf(`invalid argument for "-e" flag: %w`, err)
			}
			if len(ns) > 0 && os.Geteuid() != 0 {
				return 0, errors.New("creating namespaces needs root: run it with sudo")
			}
			status, err := namespaces.Run(namespaces.Config{
				Args: args, Env: vars, Dir: *dir,
				Namespaces: ns, Hostname: *hostname, Init: *init,
			}, namespaces.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
			return status.ExitCode(), err
		},
	}
	os.Exit(cmd.Main(os.Args[1:], os.Stderr))
}
