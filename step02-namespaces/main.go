// Command step02-namespaces runs a program in its own namespaces: its own
// hostname, process IDs, mounts, IPC and network.
//
//	sudo go run ./step02-namespaces run [--hostname NAME] [--init] [--ns uts,pid,mnt,ipc,net]
//	        [--privileged] [--cap-add CAP]... [--cap-drop CAP]... [--security-opt OPT]... -- CMD [ARG...]
//	go run ./step02-namespaces seccomp [--cap-add CAP]...    (print Docker's profile as BPF)
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"minidocker/internal/stepcli"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step02-namespaces/privileges"
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
	var priv privileges.Options
	var capAdd, capDrop, secOpts stepcli.Strings
	fs.BoolVar(&priv.Privileged, "privileged", false, "keep every capability and install no seccomp filter")
	fs.Var(&capAdd, "cap-add", "add a Linux `capability` to Docker's 14 (repeatable; ALL for all)")
	fs.Var(&capDrop, "cap-drop", "drop a Linux `capability` (repeatable; ALL for all)")
	fs.Var(&secOpts, "security-opt", "no-new-privileges, seccomp=unconfined or seccomp=`PROFILE.json` (repeatable)")

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
			if err := namespaces.ValidateHostname(*hostname); err != nil {
				return 0, err
			}
			if len(ns) > 0 && os.Geteuid() != 0 {
				return 0, errors.New("creating namespaces needs root: run it with sudo")
			}
			priv.CapAdd, priv.CapDrop = capAdd, capDrop
			if _, err := privileges.ParseSecurityOpts(secOpts, &priv); err != nil {
				return 0, err
			}
			p, err := privileges.Resolve(priv)
			if err != nil {
				return 0, err
			}
			status, err := namespaces.Run(namespaces.Config{
				Args: args, Env: vars, Dir: *dir,
				Namespaces: ns, Hostname: *hostname, Init: *init, Privileges: p,
			}, namespaces.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
			return status.ExitCode(), err
		},
	}
	sfs := flag.NewFlagSet("", flag.ContinueOnError)
	var sAdd stepcli.Strings
	sfs.Var(&sAdd, "cap-add", "compile for a container that also has this `capability` (repeatable)")
	seccomp := stepcli.Command{
		Name:         "step02-namespaces",
		Verb:         "seccomp",
		Usage:        "seccomp [--cap-add CAP]...",
		Flags:        sfs,
		ArgsOptional: true,
		Run: func([]string) (int, error) {
			caps, err := privileges.Capabilities(sAdd, nil, false)
			if err != nil {
				return 0, err
			}
			prog, err := privileges.Compile(nil, caps)
			if err != nil {
				return 0, err
			}
			return 0, privileges.Dump(os.Stdout, prog)
		},
	}
	os.Exit(stepcli.Main(cmd.Name, os.Args[1:], os.Stderr, cmd, seccomp))
}
