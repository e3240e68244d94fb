//go:build unix

package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The test binary re-executes itself as a helper process when helperEnv is
// set: real processes, each with its own open file descriptions, are what
// flock and rename have to get right.
const (
	helperEnv  = "MINIDOCKER_STATE_TEST_HELPER"
	rootEnv    = "MINIDOCKER_STATE_TEST_ROOT"
	argEnv     = "MINIDOCKER_STATE_TEST_ARG"
	startEnv   = "MINIDOCKER_STATE_TEST_START"
	exitCreate = 0
	exitTaken  = 3
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

func runHelper(mode string) int {
	s, err := Open(os.Getenv(rootEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	switch mode {
	case "create": // wait for the start file, then Create(name)
		for {
			if _, err := os.Stat(os.Getenv(startEnv)); err == nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		err = s.Create(&Container{Name: os.Getenv(argEnv)})
		switch {
		case err == nil:
			return exitCreate
		case errors.Is(err, ErrNameConflict):
			return exitTaken
		}
	case "update-loop": // count up in state.json and grow/shrink config.json until killed
		id := os.Getenv(argEnv)
		for i := 0; ; i++ {
			err = s.Update(id, func(c *Container) error {
				c.State.ExitCode++
				c.Config.Env = make([]string, i%50)
				for j := range c.Config.Env {
					c.Config.Env[j] = fmt.Sprintf("VAR%d=%s", j, strings.Repeat("v", j*10))
				}
				return nil
			})
			if err != nil {
				break
			}
			if i == 0 {
				fmt.Println("ready")
			}
		}
	case "create-loop": // create containers until killed
		for i := 0; ; i++ {
			if err = s.Create(&Container{}); err != nil {
				break
			}
			if i == 0 {
				fmt.Println("ready")
			}
		}
	default:
		err = fmt.Errorf("unknown helper %q", mode)
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}

func helperCmd(t *testing.T, mode, root, arg string, extraEnv ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, rootEnv+"="+root, argEnv+"="+arg)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = os.Stderr
	return cmd
}

// TestConcurrentCreateProcesses: eight processes run "create --name web"
// at once; exactly one wins.
func TestConcurrentCreateProcesses(t *testing.T) {
	root := t.TempDir()
	start := filepath.Join(root, "start")
	const n = 8
	var cmds []*exec.Cmd
	for range n {
		cmd := helperCmd(t, "create", root, "web", startEnv+"="+start)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		cmds = append(cmds, cmd)
	}
	require.NoError(t, os.WriteFile(start, nil, 0o600))
	created, taken := 0, 0
	for _, cmd := range cmds {
		err := cmd.Wait()
		switch code := cmd.ProcessState.ExitCode(); code {
		case exitCreate:
			created++
		case exitTaken:
			taken++
		default:
			t.Errorf("helper exited %d: %v", code, err)
		}
	}
	if created != 1 || taken != n-1 {
		t.Errorf("%d processes creating web: %d created, %d conflicts; want 1 and %d", n, created, taken, n-1)
	}
	s, err := Open(root)
	require.NoError(t, err)
	list, err := s.List()
	require.NoError(t, err)
	if len(list) != 1 || list[0].Name != "web" {
		t.Errorf("List() = %d containers, want one named web", len(list))
	}
}

// startKillable starts a helper, waits for its "ready" line and returns
// a func that SIGKILLs and reaps it.
func startKillable(t *testing.T, mode, root, arg string) (kill func()) {
	t.Helper()
	cmd := helperCmd(t, mode, root, arg)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	killed := false
	kill = func() {
		if killed {
			return
		}
		killed = true
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	t.Cleanup(kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err, "helper %s did not get ready", mode)
	require.Equal(t, "ready\n", line)
	return kill
}

// TestUpdateSurvivesSIGKILL kills a process in the middle of its updates,
// again and again: every file must still parse, and the count must never
// go back.
func TestUpdateSurvivesSIGKILL(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	require.NoError(t, err)
	c := &Container{Name: "web"}
	require.NoError(t, s.Create(c))

	last := 0
	for round := range 25 {
		kill := startKillable(t, "update-loop", root, c.ID)
		time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
		kill()

		for _, name := range []string{configName, stateName} {
			data, err := os.ReadFile(filepath.Join(s.Dir(c.ID), name))
			require.NoError(t, err, "round %d: read %s", round, name)
			if !json.Valid(data) {
				t.Fatalf("round %d: %s torn by SIGKILL: %q", round, name, data)
			}
		}
		got, err := s.Get("web")
		require.NoError(t, err, "round %d", round)
		if got.State.ExitCode <= last {
			t.Fatalf("round %d: count %d, want more than %d (updates lost or none made)", round, got.State.ExitCode, last)
		}
		last = got.State.ExitCode
	}
	entries, err := os.ReadDir(s.Dir(c.ID))
	require.NoError(t, err)
	for _, e := range entries {
		switch e.Name() {
		case configName, stateName, "." + configName + ".tmp", "." + stateName + ".tmp":
		default:
			t.Errorf("left in the container directory: %s", e.Name())
		}
	}
	t.Logf("%d updates in 25 killed processes", last)
}

// TestCreateSurvivesSIGKILL kills a process creating containers: the
// store lists only whole containers, and the next Create sweeps what the
// killed one left half-made.
func TestCreateSurvivesSIGKILL(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	require.NoError(t, err)
	for round := range 15 {
		kill := startKillable(t, "create-loop", root, "")
		time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
		kill()
		list, err := s.List()
		require.NoError(t, err, "round %d: List after SIGKILL", round)
		for _, c := range list {
			if c.ID == "" || c.Name == "" || c.State.Status != Created {
				t.Fatalf("round %d: listed a half-made container: %+v", round, c)
			}
		}
	}
	require.NoError(t, s.Create(&Container{}))
	entries, err := os.ReadDir(s.dir)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			t.Errorf("Create left %s from a killed Create", e.Name())
		}
	}
}
