package cli

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"minidocker/final/engine"
)

func (a *app) execCmd() *cobra.Command {
	var o engine.ExecOptions
	var detach, interactive bool
	c := &cobra.Command{
		Use:   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		Short: "Execute a command in a running container",
		Long: "Run COMMAND inside a running container: in its namespaces (setns) and cgroups, with its\n" +
			"capabilities, no_new_privs and seccomp filter, as its user unless -u says otherwise.",
		Args: minArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			o.Args = args[1:]
			in := int(os.Stdin.Fd())
			terminal := o.Tty && term.IsTerminal(in)
			if interactive && o.Tty && !terminal {
				return &exitError{code: 1, err: errors.New("the input device is not a TTY")}
			}
			if detach {
				s, err := e.Exec(args[0], o) // no streams: /dev/null
				if err != nil {
					return execFailed(err)
				}
				go s.Wait() // reaped while we live; the command goes on after us
				return nil
			}
			if interactive {
				o.Stdin = os.Stdin
			}
			o.Stdout, o.Stderr = a.stdout, a.stderr
			return a.foreground(o.Tty, func(size *engine.Size) (engine.Session, error) {
				o.Size = size
				return e.Exec(args[0], o)
			}, execFailed)
		},
	}
	fs := c.Flags()
	fs.SetInterspersed(false) // flags after CONTAINER belong to the command
	fs.BoolVarP(&detach, "detach", "d", false, "Detached mode: run command in the background")
	fs.BoolVarP(&interactive, "interactive", "i", false, "Keep STDIN open even if not attached")
	fs.BoolVarP(&o.Tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fs.StringArrayVarP(&o.Env, "env", "e", nil, "Set environment variables")
	fs.StringVarP(&o.User, "user", "u", "", "Username or UID (format: \"<name|uid>[:<group|gid>]\")")
	fs.StringVarP(&o.Dir, "workdir", "w", "", "Working directory inside the container")
	return c
}

// execFailed is exec's error before its command ran: 126 or 127 when the
// command could not be run (as docker exec), 1 otherwise (no such
// container, not running).
func execFailed(err error) error {
	if se, ok := errors.AsType[*engine.StartError](err); ok {
		return &exitError{code: se.Code, err: err}
	}
	return err
}

func (a *app) attachCmd() *cobra.Command {
	var noStdin bool
	var detachKeys string
	sigProxy := true
	c := &cobra.Command{
		Use:   "attach [OPTIONS] CONTAINER",
		Short: "Attach local standard input, output, and error streams to a running container",
		Long: "Attach to a running container through its monitor's control socket: its output (and, unless\n" +
			"--no-stdin, our input if it was started with -i); the container's exit code becomes ours.",
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			keys, err := parseDetachKeys(detachKeys)
			if err != nil {
				return err
			}
			e, err := a.engine()
			if err != nil {
				return err
			}
			ctr, err := e.Container(args[0])
			if err != nil {
				return err
			}
			tty := ctr.Config.Tty
			err = a.foreground(tty, func(size *engine.Size) (engine.Session, error) {
				o := engine.AttachOptions{Stdout: a.stdout, Stderr: a.stderr, Size: size, DetachKeys: keys}
				if !noStdin && ctr.Config.OpenStdin {
					o.Stdin = os.Stdin
				}
				s, err := e.AttachRunning(args[0], o)
				if err != nil || sigProxy {
					return s, err
				}
				return noSignals{s}, nil
			}, func(err error) error { return err })
			if errors.Is(err, engine.ErrDetached) {
				// As docker attach: its words on stderr, and exit status 1.
				fmt.Fprintln(a.stderr, err)
				return &exitError{code: 1}
			}
			return err
		},
	}
	c.Flags().BoolVar(&noStdin, "no-stdin", false, "Do not attach STDIN")
	c.Flags().StringVar(&detachKeys, "detach-keys", "", "Override the key sequence for detaching a container (default \""+engine.DefaultDetachKeys+"\")")
	c.Flags().BoolVar(&sigProxy, "sig-proxy", true, "Proxy all received signals to the process")
	return c
}

// noSignals is a session whose signals are not passed on (--sig-proxy=false).
type noSignals struct{ engine.Session }

func (noSignals) Signal(syscall.Signal) error { return nil }
