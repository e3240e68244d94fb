package ociruntime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step04-cgroups/cgroups"
)

// Name is the name that selects runtime mode when the minidocker binary
// is called by it (a symlink, as busybox's applets): engines are given a
// path to a runc-like program, not a program and a subcommand.
const Name = "minidocker-runtime"

// Version is what --version prints, after the name.
const Version = "0.1.0"

// logger is where errors and warnings go: stderr, and the --log file in
// the --log-format the engine asked for (containerd's shim reads the last
// "error" line of the JSON log to tell its caller why a command failed).
type logger struct {
	file   io.Writer
	json   bool
	stderr io.Writer
}

var log = &logger{stderr: os.Stderr}

func (l *logger) write(level, msg string) {
	if l.file != nil {
		if l.json {
			line, _ := json.Marshal(map[string]string{"level": level, "msg": msg, "time": time.Now().UTC().Format(time.RFC3339Nano)})
			fmt.Fprintf(l.file, "%s\n", line)
		} else {
			fmt.Fprintf(l.file, "time=%q level=%s msg=%q\n", time.Now().UTC().Format(time.RFC3339Nano), level, msg)
		}
	}
	fmt.Fprintf(l.stderr, "minidocker-runtime: %s\n", msg)
}

// Warn logs a warning: something went wrong that the spec says must not
// stop the command (a poststart or poststop hook).
func Warn(err error) { log.write("warning", err.Error()) }

// exitCode carries a container's or a process's exit status out of run
// and exec, which are not errors of the runtime's.
type exitCode int

func (e exitCode) Error() string { return "exit status " + strconv.Itoa(int(e)) }

// Main is the runtime's command line (runc's), args without the program's
// name; it returns the exit code.
func Main(args []string) int {
	cmd := command()
	cmd.SetArgs(args)
	err := cmd.Execute()
	if code, ok := errors.AsType[exitCode](err); ok {
		return int(code)
	}
	if err != nil {
		log.write("error", err.Error())
		if ie, ok := errors.AsType[*namespaces.InitError](err); ok && ie.Code > 0 {
			return ie.Code
		}
		return 1
	}
	return 0
}

func command() *cobra.Command {
	var (
		rt                      = New("")
		logPath, logFormat      string
		systemdCgroup, debug    bool
		criu, rootless          string
		bundle, pidFile, socket string
	)
	root := &cobra.Command{
		Use:   Name,
		Short: "minidocker as an OCI runtime: runc's command line, for containerd, dockerd and podman",
		Long: "Runs containers from OCI bundles (config.json + a root filesystem) with minidocker's namespaces,\n" +
			"mounts, cgroups and confinement. Engines call it as they call runc: create, start, state, kill, delete.",
		Version:       Version + "\nspec: " + specs.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&rt.Root, "root", DefaultRoot, "the directory for the containers' state")
	pf.StringVar(&logPath, "log", "", "also write errors and warnings to this file")
	pf.StringVar(&logFormat, "log-format", "text", "the --log file's format: text or json")
	pf.BoolVar(&systemdCgroup, "systemd-cgroup", false, "refused: minidocker manages cgroups through the cgroup filesystem")
	pf.BoolVar(&debug, "debug", false, "accepted for runc's callers (no debug output)")
	pf.StringVar(&criu, "criu", "", "accepted for runc's callers (checkpoints are not supported)")
	pf.StringVar(&rootless, "rootless", "auto", "only auto or false: minidocker's runtime runs as root")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if logPath != "" {
			f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND|unix.O_CLOEXEC, 0o644)
			if err != nil {
				return fmt.Errorf("--log: %w", err)
			}
			log.file = f
		}
		switch logFormat {
		case "json":
			log.json = true
		case "text":
		default:
			return fmt.Errorf("--log-format %q: use text or json", logFormat)
		}
		if systemdCgroup {
			return errors.New("--systemd-cgroup: systemd cgroup management is not supported; use the cgroupfs driver")
		}
		if rootless != "auto" && rootless != "false" {
			return fmt.Errorf("--rootless %s: rootless containers are not supported", rootless)
		}
		return nil
	}

	createFlags := func(c *cobra.Command) {
		c.Flags().StringVarP(&bundle, "bundle", "b", "", "the bundle directory (default: the current one)")
		c.Flags().StringVar(&pidFile, "pid-file", "", "write the init's PID to this file")
		c.Flags().StringVar(&socket, "console-socket", "", "a unix socket to send the terminal's master to (process.terminal)")
		c.Flags().Bool("no-pivot", false, "refused: the root is always entered with pivot_root")
		c.Flags().Bool("no-new-keyring", false, "accepted (no session keyring is created)")
		c.Flags().Int("preserve-fds", 0, "refused unless 0: extra descriptors are not passed")
	}
	checkCreate := func(c *cobra.Command) error {
		if v, _ := c.Flags().GetBool("no-pivot"); v {
			return errors.New("--no-pivot is not supported")
		}
		if n, _ := c.Flags().GetInt("preserve-fds"); n != 0 {
			return errors.New("--preserve-fds is not supported")
		}
		return nil
	}

	create := &cobra.Command{
		Use:   "create [flags] ID",
		Short: "Create a container from a bundle; its command waits for start",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkCreate(c); err != nil {
				return err
			}
			return rt.Create(CreateOptions{ID: args[0], Bundle: bundle, PidFile: pidFile, ConsoleSocket: socket})
		},
	}
	createFlags(create)

	var detach, keep bool
	run := &cobra.Command{
		Use:   "run [flags] ID",
		Short: "Create and start a container, and wait for it (unless --detach)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkCreate(c); err != nil {
				return err
			}
			status, err := rt.Run(CreateOptions{ID: args[0], Bundle: bundle, PidFile: pidFile, ConsoleSocket: socket}, detach, keep)
			if err != nil {
				return err
			}
			if code := status.ExitCode(); code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
	createFlags(run)
	run.Flags().BoolVarP(&detach, "detach", "d", false, "return once the container runs")
	run.Flags().BoolVar(&keep, "keep", false, "keep the container's state after it exits")

	start := &cobra.Command{
		Use: "start ID", Short: "Start a created container's command", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return rt.Start(args[0]) },
	}
	state := &cobra.Command{
		Use: "state ID", Short: "Print a container's state (JSON)", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := rt.State(args[0])
			if err != nil {
				return err
			}
			return printJSON(c.OutOrStdout(), s)
		},
	}
	var all bool
	kill := &cobra.Command{
		Use: "kill [flags] ID [SIGNAL]", Short: "Send a signal (default SIGTERM) to a container's init", Args: cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			sig := syscall.SIGTERM
			if len(args) == 2 {
				var err error
				if sig, err = ParseSignal(args[1]); err != nil {
					return err
				}
			}
			return rt.Kill(args[0], sig, all)
		},
	}
	kill.Flags().BoolVarP(&all, "all", "a", false, "send it to every process of the container")
	var force bool
	del := &cobra.Command{
		Use: "delete [flags] ID", Short: "Delete a stopped (or, with --force, any) container", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return rt.Delete(args[0], force) },
	}
	del.Flags().BoolVarP(&force, "force", "f", false, "kill a running container first")
	var format string
	ps := &cobra.Command{
		Use: "ps [flags] ID", Short: "List a container's processes", Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pids, err := rt.Ps(args[0])
			if err != nil {
				return err
			}
			switch format {
			case "json":
				if pids == nil {
					pids = []int{}
				}
				return printJSON(c.OutOrStdout(), pids)
			case "table":
				return printPs(c.OutOrStdout(), pids)
			}
			return fmt.Errorf("--format %q: use table or json", format)
		},
	}
	ps.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	var quiet bool
	list := &cobra.Command{
		Use: "list", Aliases: []string{"ls"}, Short: "List the containers", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			states, err := rt.List()
			if err != nil {
				return err
			}
			if format == "json" {
				if states == nil {
					states = []*State{}
				}
				return printJSON(c.OutOrStdout(), states)
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 8, 1, ' ', 0)
			if !quiet {
				fmt.Fprintln(tw, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER")
			}
			for _, s := range states {
				if quiet {
					fmt.Fprintln(tw, s.ID)
					continue
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	list.Flags().BoolVarP(&quiet, "quiet", "q", false, "only the IDs")
	pause := &cobra.Command{
		Use: "pause ID", Short: "Freeze every process of a container", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return rt.Pause(args[0]) },
	}
	resume := &cobra.Command{
		Use: "resume ID", Short: "Thaw a paused container", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error { return rt.Resume(args[0]) },
	}
	features := &cobra.Command{
		Use: "features", Short: "Print what this runtime supports (JSON)", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return printJSON(c.OutOrStdout(), Features()) },
	}
	root.AddCommand(create, run, start, state, kill, del, ps, list, pause, resume, features, execCommand(rt), updateCommand(rt))
	return root
}

// execCommand is runc exec: a process.json, or a command line with flags
// for the process's fields.
func execCommand(rt *Runtime) *cobra.Command {
	var (
		o               ExecOptions
		processPath     string
		tty, noNewPrivs bool
		cwd, userSpec   string
		env, caps       []string
		additionalGids  []int64
		label, apparmor string
		ignorePaused    bool
		preserve        int
	)
	c := &cobra.Command{
		Use:   "exec [flags] ID [COMMAND [ARG...]]",
		Short: "Run a process in a running container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if preserve != 0 {
				return errors.New("--preserve-fds is not supported")
			}
			o.ID = args[0]
			if processPath != "" {
				p, err := LoadProcess(processPath)
				if err != nil {
					return err
				}
				o.Process = p
			} else {
				if len(args) < 2 {
					return errors.New("exec: give a command, or --process")
				}
				p, err := processFromFlags(args[1:], tty, noNewPrivs, cwd, userSpec, env, caps, additionalGids)
				if err != nil {
					return err
				}
				o.Process = p
			}
			status, err := rt.Exec(o)
			if err != nil {
				return err
			}
			if code := status.ExitCode(); code != 0 {
				return exitCode(code)
			}
			return nil
		},
	}
	f := c.Flags()
	f.SetInterspersed(false) // flags after the ID are the command's
	f.StringVarP(&processPath, "process", "p", "", "a process.json (the spec's process) to run")
	f.BoolVarP(&o.Detach, "detach", "d", false, "return once the process runs")
	f.StringVar(&o.PidFile, "pid-file", "", "write the process's PID to this file")
	f.StringVar(&o.ConsoleSocket, "console-socket", "", "a unix socket to send the terminal's master to")
	f.BoolVarP(&tty, "tty", "t", false, "give the process a terminal (sent to --console-socket with --detach; else this command holds it)")
	f.StringVar(&cwd, "cwd", "", "the working directory (default /)")
	f.StringArrayVarP(&env, "env", "e", nil, "set an environment variable, KEY=VALUE")
	f.StringVarP(&userSpec, "user", "u", "", "UID[:GID] to run as")
	f.Int64SliceVarP(&additionalGids, "additional-gids", "g", nil, "supplementary group IDs")
	f.StringArrayVarP(&caps, "cap", "c", nil, "a capability to add (CAP_NET_ADMIN)")
	f.BoolVar(&noNewPrivs, "no-new-privs", false, "set no_new_privs")
	f.IntVar(&preserve, "preserve-fds", 0, "refused unless 0")
	f.StringVar(&label, "process-label", "", "refused unless empty: SELinux")
	f.StringVar(&apparmor, "apparmor", "", "refused unless empty: AppArmor")
	f.BoolVar(&ignorePaused, "ignore-paused", false, "accepted")
	c.PreRunE = func(*cobra.Command, []string) error {
		if label != "" || apparmor != "" {
			return errors.New("exec: --process-label and --apparmor are not supported")
		}
		return nil
	}
	return c
}

// processFromFlags is runc exec's command-line form: the container's own
// environment is not inherited (as in runc), only PATH by default.
func processFromFlags(args []string, tty, nnp bool, cwd, userSpec string, env, caps []string, gids []int64) (*specs.Process, error) {
	p := &specs.Process{Args: args, Terminal: tty, Cwd: cwd, NoNewPrivileges: nnp,
		Env: append([]string{"PATH=" + process.DefaultPath}, env...)}
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	if userSpec != "" {
		u, g, _ := strings.Cut(userSpec, ":")
		uid, err := strconv.ParseUint(u, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("exec: --user %q: give UID[:GID] as numbers", userSpec)
		}
		p.User.UID = uint32(uid)
		if g != "" {
			gid, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("exec: --user %q: give UID[:GID] as numbers", userSpec)
			}
			p.User.GID = uint32(gid)
		}
	}
	for _, g := range gids {
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	// runc's default for exec: the capabilities runc spec gives, plus --cap.
	base := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	set := append(base, caps...)
	p.Capabilities = &specs.LinuxCapabilities{Bounding: set, Effective: set, Permitted: set}
	return p, nil
}

// ParseSignal reads a signal as kill(1) takes it: a number, or a name with
// or without SIG (TERM, SIGKILL).
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// updateCommand is runc update: the new limits as the spec's
// linux.resources (--resources FILE, "-" for stdin, as containerd's shim
// sends them), or one flag per limit.
func updateCommand(rt *Runtime) *cobra.Command {
	var resources, memory, memorySwap, reservation, cpusetCpus, cpusetMems string
	var quota, pids int64
	var period, shares uint64
	c := &cobra.Command{
		Use:   "update [flags] ID",
		Short: "Change a running container's limits",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			res := &specs.LinuxResources{}
			if resources != "" {
				in := c.InOrStdin()
				if resources != "-" {
					f, err := os.Open(resources)
					if err != nil {
						return fmt.Errorf("update: %w", err)
					}
					defer f.Close()
					in = f
				}
				if err := json.NewDecoder(in).Decode(res); err != nil {
					return fmt.Errorf("update: --resources: %w", err)
				}
			}
			f := c.Flags()
			mem := func(name, v string) (*int64, error) {
				n, err := cgroups.ParseMemory(v)
				if err != nil {
					return nil, fmt.Errorf("update: --%s: %w", name, err)
				}
				return &n, nil
			}
			var err error
			if f.Changed("memory") || f.Changed("memory-swap") || f.Changed("memory-reservation") {
				if res.Memory == nil {
					res.Memory = &specs.LinuxMemory{}
				}
				if f.Changed("memory") {
					if res.Memory.Limit, err = mem("memory", memory); err != nil {
						return err
					}
				}
				if f.Changed("memory-swap") {
					if res.Memory.Swap, err = mem("memory-swap", memorySwap); err != nil {
						return err
					}
				}
				if f.Changed("memory-reservation") {
					if res.Memory.Reservation, err = mem("memory-reservation", reservation); err != nil {
						return err
					}
				}
			}
			for _, name := range []string{"cpu-quota", "cpu-period", "cpu-share", "cpuset-cpus", "cpuset-mems"} {
				if f.Changed(name) && res.CPU == nil {
					res.CPU = &specs.LinuxCPU{}
				}
			}
			if f.Changed("cpu-quota") {
				res.CPU.Quota = &quota
			}
			if f.Changed("cpu-period") {
				res.CPU.Period = &period
			}
			if f.Changed("cpu-share") {
				res.CPU.Shares = &shares
			}
			if f.Changed("cpuset-cpus") {
				res.CPU.Cpus = cpusetCpus
			}
			if f.Changed("cpuset-mems") {
				res.CPU.Mems = cpusetMems
			}
			if f.Changed("pids-limit") {
				res.Pids = &specs.LinuxPids{Limit: &pids}
			}
			return rt.Update(args[0], res)
		},
	}
	f := c.Flags()
	f.StringVarP(&resources, "resources", "r", "", "the new limits as the spec's linux.resources JSON, from a file or - for stdin")
	f.StringVar(&memory, "memory", "", "memory limit (64m, 1g)")
	f.StringVar(&memorySwap, "memory-swap", "", "memory + swap limit")
	f.StringVar(&reservation, "memory-reservation", "", "soft memory limit")
	f.Int64Var(&quota, "cpu-quota", 0, "CPU time per period, in microseconds")
	f.Uint64Var(&period, "cpu-period", 0, "the CPU period, in microseconds")
	f.Uint64Var(&shares, "cpu-share", 0, "CPU shares (relative weight)")
	f.StringVar(&cpusetCpus, "cpuset-cpus", "", "CPUs the container may use (0-3, 0,1)")
	f.StringVar(&cpusetMems, "cpuset-mems", "", "memory nodes the container may use")
	f.Int64Var(&pids, "pids-limit", 0, "the most processes at once")
	return c
}
