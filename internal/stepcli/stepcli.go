// Package stepcli is the little command-line frame that every step's demo
// (stepNN/main.go) shares: one "run" subcommand, a flag set, and Docker's
// exit codes for errors. The steps' lessons live in their library packages,
// not here.
package stepcli

import (
	"crypto/rand"
	"encoding/hex"
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

// Command is one step's demo: its name, the usage line of "run", the flag
// set that run understands, and the function that does the work and returns
// the exit code to leave with.
type Command struct {
	Name  string // e.g. "step01-process"
	Usage string // e.g. "run [-e KEY=VAL]... -- CMD [ARG...]"
	Flags *flag.FlagSet
	Run   func(args []string) (int, error)
	// ArgsOptional lets run go without a command (the image has one).
	ArgsOptional bool
}

// usageError marks errors that should be followed by the usage line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Main parses args (os.Args[1:]) and runs c, printing any error on stderr
// the way docker run does and returning the exit code: the command's own, or
// 125/126/127 from process.ExitCode for errors.
func (c Command) Main(args []string, stderr io.Writer) int {
	code, err := c.main(args)
	if err == nil {
		return code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", c.Name, err)
	if _, ok := errors.AsType[usageError](err); ok {
		fmt.Fprintf(stderr, "Usage:  %s %s\n", c.Name, c.Usage)
		return process.ExitToolFailed
	}
	return process.ExitCode(err)
}

func (c Command) main(args []string) (int, error) {
	if len(args) == 0 || args[0] != "run" {
		return 0, usageError{`the only command is "run"`}
	}
	c.Flags.Init(c.Name+" run", flag.ContinueOnError)
	c.Flags.SetOutput(io.Discard)
	c.Flags.Usage = func() {}
	if err := c.Flags.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stdout, "Usage:  %s %s\n\nOptions:\n", c.Name, c.Usage)
			c.Flags.SetOutput(os.Stdout)
			c.Flags.PrintDefaults()
			return 0, err
		}
		return 0, usageError{err.Error()}
	}
	if c.Flags.NArg() == 0 && !c.ArgsOptional {
		return 0, usageError{"no command given"}
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

// ContainerFlags are the docker-run-like flags that the demos of step 3 and
// later share: each step adds its own on top.
type ContainerFlags struct {
	Env, Volumes Strings
	Dir          string
	User         string
	Hostname     string
	Init         bool
	Root         string
}

// Register adds the flags to fs.
func (f *ContainerFlags) Register(fs *flag.FlagSet) {
	fs.Var(&f.Volumes, "v", "bind mount a volume `SRC:DST[:ro]` (repeatable)")
	fs.Var(&f.Env, "e", "set an environment variable `KEY=VAL` (repeatable)")
	fs.StringVar(&f.Dir, "w", "", "working `DIR`ectory inside the container (default: the image's)")
	fs.StringVar(&f.User, "user", "", "run as `USER[:GROUP]` from the image's /etc/passwd (default: the image's)")
	fs.StringVar(&f.Hostname, "hostname", "", "the container's host `name` (default: the short container ID)")
	fs.BoolVar(&f.Init, "init", false, "run a minimal init as PID 1")
	fs.StringVar(&f.Root, "root", DataRoot(), "data `DIR`ectory for images, layers and containers")
}

// NewID is a container ID: 32 random bytes in hex, as Docker's.
func NewID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
