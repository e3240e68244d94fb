// Package stepcli is the little command-line frame that every step's demo
// (stepNN/main.go) shares: one "run" subcommand, a flag set, and Docker's
// exit codes for errors. The steps' lessons live in their library packages,
// not here.
package stepcli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"minidocker/step01-process/process"
)

// Strings collects every occurrence of a repeated flag (-e A=1 -e B=2).
type Strings []string

func (s *Strings) String() string     { return strings.Join(*s, ",") }
func (s *Strings) Set(v string) error { *s = append(*s, v); return nil }

// Command is one command of a step's demo: the program's name, the verb
// ("run" when empty) and its usage line, the flag set it understands, and
// the function that does the work and returns the exit code to leave with.
type Command struct {
	Name  string // the program, e.g. "step01-process"
	Verb  string // e.g. "pull"; "" means "run"
	Usage string // e.g. "run [-e KEY=VAL]... -- CMD [ARG...]"
	Flags *flag.FlagSet
	Run   func(args []string) (int, error)
	// ArgsOptional lets the command go without arguments (run: the image
	// has a command).
	ArgsOptional bool
}

func (c Command) verb() string {
	if c.Verb == "" {
		return "run"
	}
	return c.Verb
}

// usageError marks errors that should be followed by the usage line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Main parses args (os.Args[1:]) and runs c, printing any error on stderr
// the way docker run does and returning the exit code: the command's own, or
// 125/126/127 from process.ExitCode for errors.
func (c Command) Main(args []string, stderr io.Writer) int {
	return Main(c.Name, args, stderr, c)
}

// Main is Command.Main for a demo with several commands (pull, images,
// run…): args[0] picks one of cmds by its Verb.
func Main(name string, args []string, stderr io.Writer, cmds ...Command) int {
	var verbs []string
	for _, c := range cmds {
		verbs = append(verbs, c.verb())
	}
	c, err := pick(args, verbs, cmds)
	code := 0
	if err == nil {
		code, err = c.main(args[1:])
	}
	if err == nil {
		return code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	if _, ok := errors.AsType[usageError](err); ok {
		if c.Flags == nil {
			for _, c := range cmds {
				fmt.Fprintf(stderr, "Usage:  %s %s\n", name, c.Usage)
			}
		} else {
			fmt.Fprintf(stderr, "Usage:  %s %s\n", name, c.Usage)
		}
		return process.ExitToolFailed
	}
	if c.verb() != "run" {
		return 1 // docker pull, images, rmi…: 1 for any error
	}
	return process.ExitCode(err)
}

func pick(args, verbs []string, cmds []Command) (Command, error) {
	if len(args) > 0 {
		for _, c := range cmds {
			if c.verb() == args[0] {
				return c, nil
			}
		}
	}
	if len(verbs) == 1 {
		return Command{}, usageError{fmt.Sprintf("the only command is %q", verbs[0])}
	}
	return Command{}, usageError{"the commands are " + strings.Join(verbs, ", ")}
}

func (c Command) main(args []string) (int, error) {
	c.Flags.Init(c.Name+" "+c.verb(), flag.ContinueOnError)
	c.Flags.SetOutput(io.Discard)
	c.Flags.Usage = func() {}
	if err := c.Flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stdout, "Usage:  %s %s\n\nOptions:\n", c.Name, c.Usage)
			c.Flags.SetOutput(os.Stdout)
			c.Flags.PrintDefaults()
			return 0, err
		}
		return 0, usageError{err.Error()}
	}
	if c.Flags.NArg() == 0 && !c.ArgsOptional {
		if c.verb() == "run" {
			return 0, usageError{"no command given"}
		}
		return 0, usageError{fmt.Sprintf("%q needs an argument", c.verb())}
	}
	return c.Run(c.Flags.Args())
}

// DataRoot is where the step demos keep images, layers and containers:
// $MINIDOCKER_ROOT, or /var/lib/minidocker (Docker's --data-root is
// /var/lib/docker).
func DataRoot() string {
	if r := os.Getenv("MINIDOCKER_ROOT"); r != "" {
		return r
	}
	return "/var/lib/minidocker"
}
