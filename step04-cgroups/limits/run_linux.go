package limits

import (
	"errors"

	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step04-cgroups/cgroups"
)

// Container is a container started in its cgroups.
type Container struct {
	*namespaces.Container
	cg     cgroups.Manager
	memory int64
}

// Start creates the container's cgroups (cgroups.Config: ID, Parent,
// Resources) and starts cfg in them; it returns once the user's program
// runs (or failed to start, when the cgroups are already gone). opts.Created,
// if set, runs after the init was placed and before it reads its config
// (step 6 attaches the network there).
func Start(cfg namespaces.Config, opts namespaces.Options, c cgroups.Config) (_ *Container, err error) {
	cg, err := cgroups.New(c)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, cg.Destroy())
		}
	}()
	// cgroup v2: clone3 puts the init straight into the cgroup (in
	// SysProcAttr). cgroup v1 or hybrid: its PID goes into cgroup.procs
	// while the init waits for its config (apply).
	var apply func(int) error
	opts.SysProcAttr, apply = cgroups.Place(cg, opts.SysProcAttr)
	if created := opts.Created; created != nil || apply != nil {
		opts.Created = func(pid int) error {
			if apply != nil {
				if err := apply(pid); err != nil {
					return err
				}
			}
			if created != nil {
				return created(pid)
			}
			return nil
		}
	}
	ctr, err := namespaces.Start(cfg, opts)
	if err != nil {
		return nil, err
	}
	return &Container{Container: ctr, cg: cg, memory: c.Resources.Memory}, nil
}

// CgroupPaths are the container's cgroup directories, to keep with its
// state: with them cgroups.Load can destroy the cgroups after a crash.
func (c *Container) CgroupPaths() map[string]string { return c.cg.Paths() }

// Wait waits for the container to exit, reads its stats, and destroys its
// cgroups (killing whatever the init left behind); a failure to destroy
// them is returned with the result.
func (c *Container) Wait() (Result, error) {
	return c.WaitThen(nil)
}

// WaitThen is Wait that runs exited (if not nil) as soon as the container
// has exited, alongside reading the stats and destroying the cgroups, and
// returns when both are done: clean-up that does not need the cgroups (the
// network) need not wait for them.
func (c *Container) WaitThen(exited func()) (res Result, err error) {
	res.Memory, res.Version = c.memory, c.cg.Version()
	res.Status, err = c.Container.Wait()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if exited != nil {
			exited()
		}
	}()
	defer func() { <-done }()
	if s, serr := c.cg.Stats(); serr == nil {
		res.Stats, res.OOMKilled = s, s.OOMKills > 0
	}
	return res, errors.Join(err, c.cg.Destroy())
}

// Run is Start and Wait with our signals forwarded to the container's PID
// 1 (namespaces.Run): a container in the foreground, as the demos of steps
// 4 to 6 run it; it dies with us. (final's monitor uses Start: its
// detached containers outlive the CLI and the monitor.)
func Run(cfg namespaces.Config, opts namespaces.Options, c cgroups.Config) (Result, error) {
	sigs := process.CatchSignals()
	defer sigs.Stop()
	opts.SysProcAttr = process.DieWithParent(opts.SysProcAttr) // as namespaces.Run
	ctr, err := Start(cfg, opts, c)
	if err != nil {
		return Result{}, err
	}
	sigs.Forward(ctr.Pid())
	return ctr.Wait()
}
