package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// DefaultPath is the PATH a container gets when nothing else sets one; it is
// Docker's default.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Spec describes the program to run.
type Spec struct {
	// Args holds the command and its arguments. Args[0] is looked up in the
	// PATH of Env when it has no slash.
	Args []string
	// Env is the whole environment of the program, "KEY=VALUE" each. Build it
	// with Env; the caller's own environment is not inherited.
	Env []string
	// Dir is the working directory; empty means the caller's.
	Dir string
	// Stdin, Stdout and Stderr are the program's stdio. An *os.File is handed
	// over as is (the child gets the same file descriptor); any other reader
	// or writer is copied through a pipe. nil means /dev/null.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// ExtraFiles and SysProcAttr are handed to os/exec unchanged. Step 1
	// leaves them empty; step 2 uses them to pass the container's config on
	// fd 3 and to ask clone(2) for new namespaces.
	ExtraFiles  []*os.File
	SysProcAttr *syscall.SysProcAttr
}

// ExitStatus is how a program ended: it exited with Code, or it was killed
// by Signal (then Code is meaningless).
type ExitStatus struct {
	Code   int
	Signal syscall.Signal
}

// ExitCode is the status as a shell or Docker reports it: Code, or 128+N for
// death by signal N.
func (s ExitStatus) ExitCode() int {
	// exercise:begin 01-exitcode Return Code, or 128+N when the program was killed by signal N (SIGKILL, 9, gives 137)
	if s.Signal != 0 {
		return 128 + int(s.Signal)
	}
	return s.Code
	// exercise:end
}

func (s ExitStatus) String() string {
	if s.Signal != 0 {
		return fmt.Sprintf("killed by signal %d (%v): exit code %d", int(s.Signal), s.Signal, s.ExitCode())
	}
	return fmt.Sprintf("exited with code %d", s.Code)
}

// Env builds a clean environment: PATH=DefaultPath, then each of vars in the
// docker run -e form (see ParseEnv).
func Env(vars []string, lookup func(string) (string, bool)) ([]string, error) {
	parsed, err := ParseEnv(vars, lookup)
	if err != nil {
		return nil, err
	}
	env := []string{"PATH=" + DefaultPath}
	for _, kv := range parsed {
		k, v, _ := strings.Cut(kv, "=")
		env = SetEnv(env, k, v)
	}
	return env, nil
}

// ParseEnv reads docker run -e values: "KEY=VALUE" sets KEY; a bare "KEY"
// copies KEY from the caller's environment if it is set there (lookup is
// usually os.LookupEnv) and is dropped otherwise. The result is in
// KEY=VALUE form, in order; later values win when applied with SetEnv.
func ParseEnv(vars []string, lookup func(string) (string, bool)) ([]string, error) {
	var out []string
	for _, v := range vars {
		key, value, hasValue := strings.Cut(v, "=")
		if key == "" {
			return nil, fmt.Errorf("%w: %s", ErrInvalidEnv, v)
		}
		if !hasValue {
			var ok bool
			if value, ok = lookup(key); !ok {
				continue
			}
		}
		out = append(out, key+"="+value)
	}
	return out, nil
}

// SetEnv returns env with key set to value, replacing an earlier value.
func SetEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

// GetEnv returns the value of key in env, the way os.Getenv does for the
// process's own environment.
func GetEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(env[i], "="); k == key {
			return v
		}
	}
	return ""
}

// LookPath finds file the way execvp does, but in the given PATH (the
// container's) instead of the caller's. A name with a slash is used as is.
// It returns ErrNotFound or ErrCannotInvoke, wrapped with the name.
func LookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		if err := executable(file); err != nil {
			return "", fmt.Errorf("exec %q: %w", file, err)
		}
		return file, nil
	}
	var denied error
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		err := executable(p)
		if err == nil {
			return p, nil
		}
		if denied == nil && err == ErrCannotInvoke {
			denied = fmt.Errorf("exec %q: %w", p, err)
		}
	}
	if denied != nil {
		return "", denied
	}
	return "", fmt.Errorf("exec %q: %w", file, ErrNotFound)
}

// executable says why path cannot be executed: ErrNotFound when it does
// not exist, ErrCannotInvoke when it is a directory or has no x bit.
func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return ErrNotFound
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return ErrCannotInvoke
	}
	return nil
}

// ExecError classifies an error from execve of name: a file that vanished
// (ENOENT, also a missing #! interpreter) wraps ErrNotFound (127); one the
// kernel refuses to run (EACCES, ENOEXEC, EISDIR, EPERM) wraps
// ErrCannotInvoke (126).
func ExecError(name string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("exec %q: %w: %w", name, ErrNotFound, err)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.ENOEXEC), errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("exec %q: %w: %w", name, ErrCannotInvoke, err)
	}
	return fmt.Errorf("exec %q: %w", name, err)
}
