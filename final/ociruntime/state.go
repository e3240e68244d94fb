package ociruntime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minidocker/internal/atomicfile"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step04-cgroups/cgroups"
)

// DefaultRoot is where the runtime keeps its state when --root is not
// given (runc's is /run/runc): one directory per container.
const DefaultRoot = "/run/minidocker-runtime"

// The files of a container's state directory.
const (
	stateFile = "state.json"
	fifoFile  = "exec.fifo"
	lockFile  = "lock"
)

// ErrNotExist is a container ID without a state directory.
var ErrNotExist = errors.New("container does not exist")

// record is what create keeps about a container, in state.json. The
// status is not in it: it is read from the world each time (Status).
type record struct {
	ID     string           `json:"id"`
	Init   process.Identity `json:"init"`
	Bundle string           `json:"bundle"`
	Rootfs string           `json:"rootfs"`
	// Created is when create made the container.
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// CgroupPath and CgroupPaths find the cgroups again (cgroups.Load).
	CgroupPath  string            `json:"cgroupPath,omitempty"`
	CgroupPaths map[string]string `json:"cgroupPaths"`
	// Namespaces, Seccomp and NoNewPrivileges are what an exec joins and
	// gets: the container's namespaces and its seccomp filter.
	Namespaces []namespaces.Namespace `json:"namespaces"`
	Seccomp    []byte                 `json:"seccomp,omitempty"`
	// Resources are the limits create set (without the device rules):
	// update changes some and keeps the rest.
	Resources cgroups.Resources `json:"resources"`
	// Hooks are run at start (poststart) and delete (poststop).
	Hooks *specs.Hooks `json:"hooks,omitempty"`
}

// Runtime is a state root: the --root directory.
type Runtime struct {
	Root string
}

// New is the runtime keeping its state in root ("" is DefaultRoot).
func New(root string) *Runtime {
	if root == "" {
		root = DefaultRoot
	}
	return &Runtime{Root: root}
}

func (r *Runtime) dir(id string) string { return filepath.Join(r.Root, id) }

// load reads a container's record.
func (r *Runtime) load(id string) (*record, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(r.dir(id), stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("read the state of %s: %w", id, err)
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("state of %s: %w", id, err)
	}
	return &rec, nil
}

// save writes rec. Not fsynced: the directory is on a tmpfs (/run), and a
// machine that restarts has no containers left to describe.
func (r *Runtime) save(rec *record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return atomicfile.WriteVolatile(filepath.Join(r.dir(rec.ID), stateFile), data, 0o600)
}

// The statuses of the OCI runtime spec's lifecycle, plus runc's "paused".
const (
	Creating = "creating"
	Created  = "created"
	Running  = "running"
	Stopped  = "stopped"
	Paused   = "paused"
)

// State is what "state" prints: the spec's state, with the fields runc adds
// that containerd's and podman's clients read (rootfs, created, owner).
type State struct {
	specs.State
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`
}

// status derives rec's status: an init that is gone (or a zombie, or
// whose PID now names another process: its start time differs) is
// stopped; with the FIFO still there it is created; a frozen cgroup is
// paused; otherwise running.
func (r *Runtime) status(rec *record) string {
	if !rec.Init.Alive() {
		return Stopped
	}
	if _, err := os.Lstat(filepath.Join(r.dir(rec.ID), fifoFile)); err == nil {
		return Created
	}
	if frozen(rec) {
		return Paused
	}
	return Running
}

// State is the container's state, as "state" prints it.
func (r *Runtime) State(id string) (*State, error) {
	rec, err := r.load(id)
	if err != nil {
		return nil, err
	}
	return r.state(rec), nil
}

func (r *Runtime) state(rec *record) *State {
	s := &State{State: specs.State{Version: specs.Version, ID: rec.ID, Status: specs.ContainerState(r.status(rec)),
		Bundle: rec.Bundle, Annotations: rec.Annotations}, Rootfs: rec.Rootfs, Created: rec.Created, Owner: rec.Owner}
	if s.Status != Stopped {
		s.Pid = rec.Init.Pid
	}
	return s
}

// List is every container of the root, by ID.
func (r *Runtime) List() ([]*State, error) {
	entries, err := os.ReadDir(r.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []*State
	for _, e := range entries {
		rec, err := r.load(e.Name())
		if err != nil {
			continue // being created, or being deleted
		}
		out = append(out, r.state(rec))
	}
	return out, nil
}
