package cli

import (
	"errors"

	"minidocker/final/engine"
	"minidocker/final/state"
)

// restartPolicy is run's --restart, checked as the docker CLI checks it:
// the policy's format, and no policy with --rm.
func restartPolicy(s string, autoRemove bool) (state.RestartPolicy, error) {
	p, err := engine.ParseRestartPolicy(s)
	if err != nil {
		return p, err
	}
	if autoRemove && p.Name != "" && p.Name != engine.RestartNo {
		return p, errors.New("Conflicting options: --restart and --rm")
	}
	return p, nil
}

// startRestartable is start --all-restartable: the names of the containers
// it started, one a line.
func (a *app) startRestartable() error {
	e, err := a.engine()
	if err != nil {
		return err
	}
	names, err := e.StartRestartable()
	for _, n := range names {
		a.println(n)
	}
	return err
}
