package cgroups

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"minidocker/internal/testkit"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/rootfs"
)

// TestDeviceProgramLoads hands the program to the kernel's verifier
// (BPF_PROG_LOAD of a BPF_PROG_TYPE_CGROUP_DEVICE program), which works on
// any host with BPF, also one whose devices controller is v1 like the
// course VM: only attaching it needs a v2 cgroup.
func TestDeviceProgramLoads(t *testing.T) {
	testkit.RequireRoot(t)
	prog, err := LoadDeviceProgram(DefaultDeviceRules)
	require.NoError(t, err, "the verifier refused the device program")
	require.NoError(t, prog.Close())
	// The smallest program (deny all) loads too.
	prog, err = LoadDeviceProgram([]DeviceRule{{Type: 'a', Major: Any, Minor: Any, Access: "rwm"}})
	require.NoError(t, err)
	require.NoError(t, prog.Close())
	// And the kernel does check: a program that returns R0 without
	// setting it is refused, so a load error is not swallowed somewhere.
	_, err = ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.CGroupDevice, License: "MIT",
		Instructions: asm.Instructions{asm.Return()}})
	require.Error(t, err, "the verifier accepted a program that returns an unset R0")
}

// TestV2Format_DevicesAttached: on a v2 host the rules go to the program
// attached to the container's one v2 directory; --privileged attaches
// nothing.
func TestV2Format_DevicesAttached(t *testing.T) {
	type call struct {
		dir   string
		rules []DeviceRule
	}
	var calls []call
	cfg, _, leaf := fakeV2(t, "/mdk", "cpu memory pids") // restores attachDevices at the end
	attachDevices = func(dir string, rules []DeviceRule) error {
		calls = append(calls, call{dir, rules})
		return nil
	}
	_, err := New(cfg)
	require.NoError(t, err)
	if diff := cmp.Diff([]call{{leaf, DefaultDeviceRules}}, calls, cmp.AllowUnexported(call{})); diff != "" {
		t.Errorf("attached (-want +got):\n%s", diff)
	}

	calls = nil
	cfg.Resources.Devices.AllowAll = true
	_, err = New(cfg)
	require.NoError(t, err)
	require.Empty(t, calls, "--privileged must attach no device program")
}

// TestDevicesV1 runs on a host with a v1 devices controller (the course
// VM): the kernel's own view, devices.list, shows Docker's list, and a
// process in the cgroup can mknod /dev/kmsg's numbers (c 1:11) but not open
// the node, while /dev/null opens. With AllowAll the same open succeeds.
func TestDevicesV1(t *testing.T) {
	testkit.RequireRoot(t)
	m := newManager(t, Resources{})
	dir, ok := m.Paths()["devices"]
	if !ok || m.Version() == 2 {
		t.Skip("no v1 devices controller on this host: the v2 program is covered by TestDeviceProgramLoads")
	}
	list, err := readFile(dir, "devices.list")
	require.NoError(t, err)
	want := []string{"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
		"c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"}
	got := strings.Split(list, "\n")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s/devices.list (-want +got):\n%s", dir, diff)
	}

	node := filepath.Join(t.TempDir(), "kmsg")
	cmd, out := helperCmd("devices:" + node)
	wait := startPlaced(t, m, cmd)
	require.NoError(t, wait(), "helper: %s", out)
	require.Equal(t, "mknod ok\nopen "+node+": operation not permitted\nopen /dev/null ok\n", out.String())

	priv := newManager(t, Resources{Devices: Devices{AllowAll: true}})
	list, err = readFile(priv.Paths()["devices"], "devices.list")
	require.NoError(t, err)
	require.Equal(t, "a *:* rwm", list)
	node2 := filepath.Join(t.TempDir(), "kmsg")
	cmd, out = helperCmd("devices:" + node2)
	wait = startPlaced(t, priv, cmd)
	require.NoError(t, wait(), "helper: %s", out)
	require.Equal(t, "mknod ok\nopen ok\nopen /dev/null ok\n", out.String())
}

// devicesHelper is MDK_CGTEST=devices:<path>, run inside the cgroup: mknod
// a node with /dev/kmsg's numbers at path, then open it and /dev/null.
func devicesHelper(node string) int {
	if err := unix.Mknod(node, unix.S_IFCHR|0o600, int(unix.Mkdev(1, 11))); err != nil {
		fmt.Println("mknod:", err)
		return 0
	}
	fmt.Println("mknod ok")
	for _, p := range []string{node, "/dev/null"} {
		f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			fmt.Println(err)
			continue
		}
		f.Close()
		if p == node {
			fmt.Println("open ok")
		} else {
			fmt.Println("open /dev/null ok")
		}
	}
	return 0
}

// runContainer runs script with busybox sh in a container (step 3's root
// filesystem, a cgroup namespace) placed in m before it reads its config,
// as limits.Start does on a v1 host.
func runContainer(t *testing.T, m Manager, script string) string {
	t.Helper()
	root := testkit.BusyboxRoot(t)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "tmp"), 0o1777))
	raw, err := json.Marshal(rootfs.Config{Root: root})
	require.NoError(t, err)
	var out, errb strings.Builder
	status, err := namespaces.Run(namespaces.Config{
		Args: []string{"/bin/busybox", "sh", "-c", script}, Env: []string{"PATH=/bin"},
		Namespaces: namespaces.Default, Stages: map[string]json.RawMessage{rootfs.StageName: raw},
	}, namespaces.Options{Stdout: &out, Stderr: &errb, Created: m.Apply})
	require.NoError(t, err)
	require.Equal(t, 0, status.ExitCode(), "stdout %q stderr %q", out.String(), errb.String())
	return strings.TrimSpace(out.String())
}

// TestContainerDevices is issue 11's escape, in a real container: mknod of
// a host block device's numbers (loop0, b 7:0: opening it needs no
// capability, so only the devices cgroup can refuse it) works, since Docker
// allows mknod of anything, but the node cannot be opened; the container's
// own cgroup is "/" in every hierarchy. With AllowAll (--privileged) the
// same node opens.
func TestContainerDevices(t *testing.T) {
	testkit.RequireRoot(t)
	_, err := os.Stat("/dev/loop0")
	testkit.RequireFeature(t, err == nil, "/dev/loop0")
	script := `busybox mknod /tmp/loop b 7 0 && echo mknod ok; ` +
		`(: </tmp/loop) 2>/tmp/err && echo opened || busybox cat /tmp/err; ` +
		`busybox cut -d: -f3 /proc/self/cgroup | busybox sort -u`
	m := newManager(t, Resources{})
	out := runContainer(t, m, script)
	require.Equal(t, "mknod ok\nsh: can't open /tmp/loop: Operation not permitted\n/", out)

	priv := newManager(t, Resources{Devices: Devices{AllowAll: true}})
	out = runContainer(t, priv, script)
	require.Equal(t, "mknod ok\nopened\n/", out)
}

// TestDeviceProgramAttached runs the v2 program for real where the kernel
// lets us: a BPF device program can be attached to any cgroup2 directory,
// also the v2 tree of a hybrid host like the course VM, whose controllers
// are on v1 (the kernel runs the v2 program, then the v1 check). A process
// in a cgroup of our own there, and in no v1 devices cgroup but the root's,
// is confined by the program alone.
func TestDeviceProgramAttached(t *testing.T) {
	testkit.RequireRoot(t)
	mounts, err := readMounts("/proc/self/mountinfo", DefaultFSRoot)
	require.NoError(t, err)
	own, err := readOwnCgroups("/proc/self/cgroup")
	require.NoError(t, err)
	v2 := ""
	for _, m := range mounts {
		if m.v2 {
			v2 = m.mount
		}
	}
	testkit.RequireFeature(t, v2 != "" && own[""] != "", "a cgroup2 mount")

	for _, tc := range []struct {
		name  string
		rules []DeviceRule
		want  string
	}{
		{"Docker's list", DefaultDeviceRules, "mknod ok\nopen %s: operation not permitted\nopen /dev/null ok\n"},
		{"1:11 allowed too", append(append([]DeviceRule{}, DefaultDeviceRules...),
			DeviceRule{Allow: true, Type: 'c', Major: 1, Minor: 11, Access: "r"}), "mknod ok\nopen ok\nopen /dev/null ok\n"},
		{"no mknod", []DeviceRule{{Type: 'a', Major: Any, Minor: Any, Access: "rwm"},
			{Allow: true, Type: 'c', Major: 1, Minor: 3, Access: "rwm"}}, "mknod: operation not permitted\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(v2, own[""], newID())
			require.NoError(t, os.Mkdir(dir, 0o755))
			node := filepath.Join(t.TempDir(), "kmsg")
			cmd, out := helperCmd("devices:" + node)
			stdin, err := cmd.StdinPipe()
			require.NoError(t, err)
			require.NoError(t, cmd.Start())
			t.Cleanup(func() {
				cmd.Process.Kill()
				cmd.Wait()
				if err := os.Remove(dir); err != nil {
					t.Errorf("remove %s: %v", dir, err)
				}
			})
			require.NoError(t, attachDeviceProgram(dir, tc.rules))
			require.NoError(t, writeFile(dir, "cgroup.procs", fmt.Sprint(cmd.Process.Pid)))
			_, err = stdin.Write([]byte("g"))
			require.NoError(t, err)
			require.NoError(t, cmd.Wait())
			want := tc.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, node)
			}
			require.Equal(t, want, out.String())
		})
	}
}
