//go:build !linux

package ociruntime

import (
	"errors"
	"io"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minidocker/step01-process/process"
)

// CreateOptions are create's arguments.
type CreateOptions struct{ ID, Bundle, PidFile, ConsoleSocket string }

// ExecOptions are exec's arguments.
type ExecOptions struct {
	ID                     string
	Process                *specs.Process
	Detach                 bool
	PidFile, ConsoleSocket string
}

var errLinux = errors.New("the OCI runtime needs Linux")

func (r *Runtime) Create(CreateOptions) error                 { return errLinux }
func (r *Runtime) Start(string) error                         { return errLinux }
func (r *Runtime) Kill(string, syscall.Signal, bool) error    { return errLinux }
func (r *Runtime) Delete(string, bool) error                  { return errLinux }
func (r *Runtime) Update(string, *specs.LinuxResources) error { return errLinux }
func (r *Runtime) Pause(string) error                         { return errLinux }
func (r *Runtime) Resume(string) error                        { return errLinux }
func (r *Runtime) Ps(string) ([]int, error)                   { return nil, errLinux }
func (r *Runtime) Exec(ExecOptions) (process.ExitStatus, error) {
	return process.ExitStatus{}, errLinux
}
func (r *Runtime) Run(CreateOptions, bool, bool) (process.ExitStatus, error) {
	return process.ExitStatus{}, errLinux
}
func frozen(*record) bool                        { return false }
func printPs(io.Writer, []int) error             { return errLinux }
func LoadProcess(string) (*specs.Process, error) { return nil, errLinux }

// ExecArg is the exec helper's argument (Linux only).
const ExecArg = "__minidocker_runtime_exec"

// ExecMain is the exec helper (Linux only).
func ExecMain() int { return 1 }
