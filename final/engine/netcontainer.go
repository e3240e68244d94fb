package engine

// --network container:NAME, the sidecar pattern: the new container gets
// no network of its own (no veth, no address, no ports) but enters the
// network namespace of a running container. Both then see the same
// interfaces and addresses, and reach each other on 127.0.0.1. It is
// step 2's setns(2), as exec uses it, done by the new container's init:
// its config names /proc/<PID>/ns/net of the other's init (NetNS), which
// it opens and enters before anything else, instead of creating a network
// namespace with clone. The files of the network (/etc/hosts, hostname,
// resolv.conf) are the other container's too, as in Docker.
//
// As in Docker the namespace is chosen at each start: the other container
// must run then. Once in, the container holds the namespace: it lives on
// when the other one stops (with lo only, its veth gone with that
// container's network) until both are gone.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/step01-process/process"
	"minidocker/step03-rootfs-layers/rootfs"
)

const joinPrefix = "container:"

// joinedRef is the container named by a "container:REF" network mode.
func joinedRef(mode string) (string, bool) { return strings.CutPrefix(mode, joinPrefix) }

// validateContainerMode is dockerd's check of a container: network mode
// at create: what belongs to the network is the other container's.
func validateContainerMode(o RunOptions) error {
	ref, _ := joinedRef(o.Network)
	switch {
	case ref == "":
		return errdefs.InvalidParameter(errors.New("Invalid network mode: invalid container format container:<name|id>"))
	case o.Hostname != "":
		return errdefs.InvalidParameter(errors.New("conflicting options: hostname and the network mode"))
	case len(o.DNS) > 0:
		return errdefs.InvalidParameter(errors.New("conflicting options: dns and the network mode"))
	case len(o.Ports) > 0:
		return errdefs.InvalidParameter(errors.New("conflicting options: port publishing and the container type network mode"))
	}
	return nil
}

// resolveJoined records a container: network mode by the other
// container's ID when it exists now (a name may later go to another
// container); as given otherwise, which a start will refuse as dockerd
// does.
func (e *Engine) resolveJoined(mode string) string {
	ref, ok := joinedRef(mode)
	if !ok {
		return mode
	}
	if t, err := e.containers.Get(ref); err == nil {
		return joinPrefix + t.ID
	}
	return mode
}

// joinedNet is what a start of a container: container takes from the
// other one.
type joinedNet struct {
	netns    string           // /proc/<PID>/ns/net of its init
	init     process.Identity // that init, checked again once joined
	hostname string
	files    []rootfs.Mount // its /etc/hosts, /etc/hostname, /etc/resolv.conf
}

// joinNetwork finds the running container whose network c shares, with
// dockerd's errors for one that is missing, c itself, or not running.
func (e *Engine) joinNetwork(c *state.Container, ref string) (*joinedNet, error) {
	t, err := e.containers.Get(ref)
	if errors.Is(err, state.ErrNotFound) {
		return nil, errdefs.NotFound(fmt.Errorf("joining network namespace of container: No such container: %s", ref))
	}
	if err != nil {
		return nil, err
	}
	if t.ID == c.ID {
		return nil, errdefs.InvalidParameter(errors.New("cannot join own network namespace"))
	}
	if t, err = e.refresh(t); err != nil {
		return nil, err
	}
	if !alive(t) {
		status := t.State.Status
		if status == state.Running {
			status = state.Exited
		}
		return nil, errdefs.Conflict(fmt.Errorf("cannot join network namespace of a non running container: container %s is %s", t.Name, status))
	}
	j := &joinedNet{netns: fmt.Sprintf("/proc/%d/ns/net", t.State.Pid), init: t.State.Init(), hostname: t.Config.Hostname}
	dir := filepath.Join(e.containerDir(t.ID), "net")
	for _, name := range []string{"hostname", "hosts", "resolv.conf"} {
		// A container that itself shares another's network has no files
		// of its own: its image's stay.
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			j.files = append(j.files, rootfs.Mount{Source: filepath.Join(dir, name), Destination: "/etc/" + name})
		}
	}
	return j, nil
}

// checkJoined makes sure, once the init has entered the namespace, that
// it was the one of the container we looked at: a PID names that process
// only while it lives, and if it still lives now, it did when the init
// opened /proc/<PID>/ns/net.
func (j *joinedNet) checkJoined() error {
	if j == nil || j.init.Alive() {
		return nil
	}
	return errdefs.Conflict(errors.New("cannot join network namespace of a non running container: it stopped while joining"))
}
