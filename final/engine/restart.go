package engine

// Restart policies: the monitor's loop. A container's monitor is there for
// as long as the container runs; with a restart policy it stays when the
// container exits, waits out a back-off, and starts it again, in the same
// way as the first time (initSpec: the same confinement, cgroups, network
// and mounts). What ends the loop is in the state, under the container's
// lock: the policy says no more, a user stopped, killed or removed the
// container (ManuallyStopped), or the start failed.

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/step01-process/process"
)

// The restart policies' names, as docker run --restart takes them.
const (
	RestartNo            = "no"
	RestartAlways        = "always"
	RestartUnlessStopped = "unless-stopped"
	RestartOnFailure     = "on-failure"
)

// Docker's back-off (moby's restartmanager): the first restart waits
// 100 ms, each next one twice as long, up to a minute; a container that
// ran at least 10 s starts over at 100 ms.
const (
	restartFirstDelay = 100 * time.Millisecond
	restartMaxDelay   = time.Minute
	restartResetAfter = 10 * time.Second
)

// wakeSignal is what stop, kill and rm send a monitor that waits out a
// back-off, through a pidfd on its identity: read the state again now.
const wakeSignal = syscall.SIGUSR1

// ParseRestartPolicy reads docker run's --restart value: "no",
// "always", "unless-stopped", "on-failure[:N]". The errors are the docker
// CLI's.
func ParseRestartPolicy(s string) (state.RestartPolicy, error) {
	if s == "" {
		return state.RestartPolicy{}, nil
	}
	parts := strings.Split(s, ":")
	if len(parts) > 2 || parts[0] == "" {
		return state.RestartPolicy{}, errdefs.InvalidParameter(errors.New("invalid restart policy format"))
	}
	p := state.RestartPolicy{Name: parts[0]}
	if len(parts) == 2 {
		if p.Name != RestartOnFailure {
			return p, ValidateRestartPolicy(state.RestartPolicy{Name: p.Name, MaximumRetryCount: 1})
		}
		n, err := strconv.Atoi(parts[1])
		if err != nil {
			return p, errdefs.InvalidParameter(errors.New("invalid restart policy format: maximum retry count must be an integer"))
		}
		p.MaximumRetryCount = n
	}
	return p, ValidateRestartPolicy(p)
}

// ValidateRestartPolicy applies dockerd's rules to a policy (the API's
// HostConfig.RestartPolicy): a known name, a retry count only with
// on-failure, and not negative.
func ValidateRestartPolicy(p state.RestartPolicy) error {
	switch p.Name {
	case "", RestartNo, RestartAlways, RestartUnlessStopped:
		if p.MaximumRetryCount != 0 {
			return errdefs.InvalidParameter(fmt.Errorf("maximum retry count cannot be used with restart policy '%s'", p.Name))
		}
	case RestartOnFailure:
		if p.MaximumRetryCount < 0 {
			return errdefs.InvalidParameter(errors.New("maximum retry count cannot be negative"))
		}
	default:
		return errdefs.InvalidParameter(fmt.Errorf("invalid restart policy '%s'", p.Name))
	}
	return nil
}

// restartingErr is dockerd's refusal of pause and exec between two runs.
func restartingErr(id string) error {
	return errdefs.Conflict(fmt.Errorf("Container %s is restarting, wait until the container is running", id))
}

// restarts reports whether a policy restarts anything at all.
func restarts(p state.RestartPolicy) bool { return p.Name != "" && p.Name != RestartNo }

// shouldRestart is the policy's answer when the container exited with
// code: always and unless-stopped restart on any exit, on-failure on a
// non-zero one while fewer than MaximumRetryCount restarts were made (0:
// no limit). Nothing restarts a container a user stopped, killed or is
// removing.
func shouldRestart(c *state.Container, code int) bool {
	if c.State.ManuallyStopped || c.State.Removing != nil || c.Config.AutoRemove {
		return false
	}
	p := c.Config.RestartPolicy
	switch p.Name {
	case RestartAlways, RestartUnlessStopped:
		return true
	case RestartOnFailure:
		return code != 0 && (p.MaximumRetryCount == 0 || c.State.RestartCount < p.MaximumRetryCount)
	}
	return false
}

// nextDelay is the back-off before the next restart, after the previous
// one (0 before the first) and a run that lasted ran.
func nextDelay(prev, ran time.Duration) time.Duration {
	if ran >= restartResetAfter || prev == 0 {
		return restartFirstDelay
	}
	return min(prev*2, restartMaxDelay)
}

// restartable reports whether a container that does not run should come
// back when the host (or the daemon) starts, as dockerd decides at its
// start: always, whoever stopped it; unless-stopped and on-failure unless
// a user stopped it, on-failure only after a failure with retries left.
func restartable(c *state.Container) bool {
	if c.State.Running || c.State.Restarting || c.Config.AutoRemove || c.State.Status == state.Created {
		return false
	}
	switch c.Config.RestartPolicy.Name {
	case RestartAlways:
		return true
	case RestartUnlessStopped:
		return !c.State.ManuallyStopped
	case RestartOnFailure:
		return !c.State.ManuallyStopped && shouldRestart(c, c.State.ExitCode)
	}
	return false
}

// waitRestart is the monitor's back-off: it sleeps delay (a wake signal
// cuts it short to read the state again), then takes the container's lock
// and returns the container, lock held, if it is still its to restart. It
// returns a nil container when the loop is over: a stop, kill or rm ended
// it meanwhile (and recorded the exit), or the container is gone.
func (e *Engine) waitRestart(id string, delay time.Duration, wake <-chan os.Signal) (*state.Container, func(), error) {
	me, err := process.Identify(os.Getpid())
	if err != nil {
		return nil, nil, err
	}
	deadline := time.NewTimer(delay)
	defer deadline.Stop()
	for {
		due := false
		select {
		case <-deadline.C:
			due = true
		case <-wake:
		}
		unlock, err := e.containers.Lock(id)
		if errors.Is(err, state.ErrNotFound) {
			return nil, nil, nil // removed (rm -f)
		}
		if err != nil {
			return nil, nil, err
		}
		c, err := e.containers.Get(id)
		if err != nil || !c.State.Restarting || c.State.Monitor() != me {
			unlock()
			if errors.Is(err, state.ErrNotFound) {
				err = nil
			}
			return nil, nil, err
		}
		if due {
			return c, unlock, nil
		}
		unlock() // woken for nothing: the back-off goes on
	}
}

// endRestartLocked ends the restart loop of a container whose monitor
// waits out a back-off: the container is recorded exited with its last
// exit code, stopped by a user, and its monitor woken to go. Call it with
// the lock held; it returns a pidfd on the monitor (nil if gone) to wait
// for it.
func (e *Engine) endRestartLocked(c *state.Container) (*process.Handle, error) {
	err := e.containers.Update(c.ID, func(c *state.Container) error {
		c.State.Status, c.State.Restarting, c.State.ManuallyStopped = state.Exited, false, true
		c.State.MonitorPid, c.State.MonitorStart = 0, 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	mon, err := c.State.Monitor().Open()
	if errors.Is(err, process.ErrGone) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := mon.Signal(wakeSignal); err != nil && !errors.Is(err, process.ErrGone) {
		mon.Close()
		return nil, err
	}
	return mon, nil
}

// markStopped records that a user asked the running container c to stop
// (stop, rm -f; kill with SIGKILL or the stop signal): its monitor will not
// restart it. Call it with the lock held.
func (e *Engine) markStopped(c *state.Container) error {
	if c.State.ManuallyStopped {
		return nil
	}
	c.State.ManuallyStopped = true
	return e.containers.Update(c.ID, func(c *state.Container) error {
		c.State.ManuallyStopped = true
		return nil
	})
}

// StartRestartable starts every container that should run again after a
// reboot, or after its monitor was killed (see restartable): what a boot
// script or a systemd unit calls (minidocker start --all-restartable), and
// the daemon at its start, as dockerd does. It returns the names of those
// it started; the error joins those that failed.
func (e *Engine) StartRestartable() ([]string, error) {
	list, err := e.List(true) // each one's state made true first: the dead ones reaped
	if err != nil {
		return nil, err
	}
	var started []string
	var errs []error
	for _, c := range list {
		if !restartable(c) {
			continue
		}
		err := e.StartDetached(c.ID)
		if errdefs.IsNotModified(err) {
			continue // someone else started it meanwhile
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("start %s: %w", c.Name, err))
			continue
		}
		started = append(started, c.Name)
	}
	return started, errors.Join(errs...)
}

// UpdateRestartPolicy is docker update --restart: the container's new
// policy, for its next exit.
func (e *Engine) UpdateRestartPolicy(ref string, p state.RestartPolicy) error {
	if err := ValidateRestartPolicy(p); err != nil {
		return err
	}
	c, err := e.container(ref)
	if err != nil {
		return err
	}
	if c.Config.AutoRemove && restarts(p) {
		return errdefs.InvalidParameter(errors.New("Restart policy cannot be updated because AutoRemove is enabled for the container"))
	}
	unlock, err := e.containers.Lock(c.ID)
	if err != nil {
		return containerErr(ref, err)
	}
	defer unlock()
	return containerErr(ref, e.containers.Update(c.ID, func(c *state.Container) error {
		c.Config.RestartPolicy = p
		return nil
	}))
}
