// Package cli is minidocker's command line: the commands, their flags and
// their output, in the docker CLI's words. The work is in package engine
// and in the steps' packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"minidocker/final/apiclient"
	"minidocker/final/engine"
	"minidocker/internal/stepcli"
	"minidocker/step01-process/process"
	"minidocker/step05-pull/fetch"
)

// exitError carries an exit code other than 1 out of a command, with or
// without a message.
type exitError struct {
	code int
	err  error // nil: print nothing
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// app is what every command shares.
type app struct {
	root   string
	host   string // -H, $DOCKER_HOST: a daemon to ask instead of the engine
	stdout io.Writer
	stderr io.Writer
	ctx    context.Context
}

// engine is what the commands call: the engine on the data root, in this
// process; or with -H (or $DOCKER_HOST) an API client of the daemon there,
// which implements the same interface.
func (a *app) engine() (engine.Backend, error) {
	if a.host != "" {
		c, err := apiclient.New(a.host)
		if err != nil {
			return nil, &exitError{code: process.ExitToolFailed, err: err}
		}
		return c, nil
	}
	e, err := engine.Open(a.root)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Main runs the command line args and returns the exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdout: os.Stdout, stderr: os.Stderr, ctx: ctx}
	root := a.command()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	code, msg := exitStatus(err)
	if msg != "" {
		fmt.Fprintf(a.stderr, "Error: %s\n", msg)
	}
	return code
}

func (a *app) command() *cobra.Command {
	root := &cobra.Command{
		Use:           "minidocker",
		Short:         "A mini-Docker: pull images from a registry and run them as containers",
		Long:          "minidocker pulls images from Docker Hub or any OCI registry and runs them as containers:\nnamespaces, an overlay root filesystem, cgroups and a bridge network, built in this course's steps.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&a.host, "host", "H", os.Getenv("DOCKER_HOST"), "the daemon to send the commands to, unix:///path ($DOCKER_HOST); default: none, the engine runs in this process")
	root.PersistentFlags().StringVar(&a.root, "root", stepcli.DataRoot(), "the data directory for images and containers ($MINIDOCKER_ROOT)")
	// Before any command uses it: a relative root is the caller's cwd's,
	// and the monitor runs with cwd "/" (it must not hold a directory busy).
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if a.root == "" {
			return &exitError{code: process.ExitToolFailed, err: errors.New("the data root (--root, $MINIDOCKER_ROOT) must not be empty")}
		}
		abs, err := filepath.Abs(a.root)
		if err != nil {
			return &exitError{code: process.ExitToolFailed, err: fmt.Errorf("data root %s: %w", a.root, err)}
		}
		a.root = abs
		return nil
	}
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: process.ExitToolFailed, err: fmt.Errorf("%w\nSee '%s --help'.", err, c.CommandPath())}
	})
	root.AddCommand(a.pullCmd(), a.imagesCmd(), a.rmiCmd(), a.runCmd(), a.psCmd(), a.stopCmd(),
		a.startCmd(), a.killCmd(), a.logsCmd(), a.rmCmd(), a.inspectCmd(), a.searchCmd(), a.daemonCmd(), a.execCmd(),
		a.waitCmd(), a.restartCmd(), a.renameCmd(), a.portCmd(), a.pauseCmd(), a.unpauseCmd(), a.topCmd(), a.volumeCmd(), a.statsCmd(), a.cpCmd(), a.attachCmd(),
		a.tagCmd(), a.pushCmd(), a.saveCmd(), a.loadCmd(), a.buildCmd(), a.runtimeCmd())
	root.AddCommand(a.containerCmd(), a.imageCmd(), a.systemCmd(), a.builderCmd())
	root.AddCommand(a.networkCmd())
	a.addCompletion(root)
	return root
}

// registryFlags declares the flags of fetch.Flags, how to reach
// registries: --registry-mirror and --insecure-registry, and with perPull
// --platform and --trace, which belong to a command that pulls (the daemon
// has neither).
func registryFlags(fs *pflag.FlagSet, reg *fetch.Flags, perPull bool) {
	if perPull {
		fs.StringVar(&reg.Platform, "platform", "", "pull the image for `os/arch[/variant]` (default: this host's)")
	}
	fs.StringVar(&reg.Mirror, "registry-mirror", os.Getenv(fetch.MirrorEnv), "try this registry `URL` first for docker.io images (default $"+fetch.MirrorEnv+")")
	fs.StringArrayVar(&reg.Insecure, "insecure-registry", nil, "allow plain HTTP to this `host[:port]` (repeatable; localhost and 127.0.0.0/8 always are)")
	if perPull {
		fs.BoolVar(&reg.Trace, "trace", false, "print every HTTP request and response (tokens redacted) on stderr")
	}
}

// exactArgs, minArgs: docker's wording for a wrong number of arguments.
func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return &exitError{code: 1, err: fmt.Errorf("%q requires exactly %d argument.\nSee '%s --help'.\n\nUsage:  %s", c.CommandPath(), n, c.CommandPath(), c.UseLine())}
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < n {
			return &exitError{code: 1, err: fmt.Errorf("%q requires at least %d argument.\nSee '%s --help'.\n\nUsage:  %s", c.CommandPath(), n, c.CommandPath(), c.UseLine())}
		}
		return nil
	}
}

// maxArgs: docker's wording for too many arguments ("images busybox x").
func maxArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > n {
			return &exitError{code: 1, err: fmt.Errorf("%q requires at most %d argument.\nSee '%s --help'.\n\nUsage:  %s", c.CommandPath(), n, c.CommandPath(), c.UseLine())}
		}
		return nil
	}
}

// maxParallel is how many arguments one command (rm, stop, kill, start)
// works on at once. Each waits mostly on the kernel (a process to die, its
// cgroups to go) and on small files: 8 keep a small machine busy without
// 50 monitors' exits fighting over its cores at once. (The docker CLI
// sends up to 50 requests at a time; the daemon has its own limits behind
// them.)
const maxParallel = 8

// eachArg runs fn for each argument like docker stop/rm/rmi do: every one
// is tried, up to limit at once, and what each gave is printed in argument
// order, as soon as it and those before it are done: fn's lines on stdout,
// or its error after "Error: " on stderr. The command fails if any did,
// unless the error is a warning (rm -f of a container that is not there).
func (a *app) eachArg(args []string, limit int, fn func(arg string) (lines []string, err error)) error {
	failed := false
	inOrder(len(args), limit, func(i int) result {
		lines, err := fn(args[i])
		return result{lines, err}
	}, func(r result) {
		for _, l := range r.lines {
			a.println(l)
		}
		if r.err != nil {
			fmt.Fprintf(a.stderr, "Error: %s\n", message(r.err))
			if _, ok := errors.AsType[warning](r.err); !ok {
				failed = true
			}
		}
	})
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

type result struct {
	lines []string
	err   error
}

// warning is an error that is printed but does not fail the command.
type warning struct{ error }

func (w warning) Unwrap() error { return w.error }

// inOrder calls work(0) ... work(n-1), up to limit at once, and report with
// each one's result in the order of i, from the calling goroutine: the
// work overlaps, the output does not interleave and keeps the order.
func inOrder[R any](n, limit int, work func(i int) R, report func(R)) {
	done := make([]chan R, n)
	for i := range done {
		done[i] = make(chan R, 1)
	}
	go func() {
		sem := make(chan struct{}, max(limit, 1))
		for i := range n {
			sem <- struct{}{} // in argument order: the first ones start first
			go func() {
				defer func() { <-sem }()
				done[i] <- work(i)
			}()
		}
	}()
	for _, d := range done {
		report(<-d)
	}
}
