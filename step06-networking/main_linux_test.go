package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netlink"

	"minidocker/internal/imagebuild"
	"minidocker/internal/testkit"
)

// fixture is the built demo, a registry on 127.0.0.1 with busybox, a data
// root, and a bridge network of the test's own (name, subnet, table).
type fixture struct {
	bin, root, image string
	bridge, subnet   string
	env              []string // the data root, and an exec root (the network books) of the test's own
}

func setup(t *testing.T) *fixture {
	t.Helper()
	testkit.RequireRoot(t)
	reg := testkit.NewRegistry(t, testkit.RegistryOptions{})
	reg.Push(t, "busybox:latest", testkit.Image(t, imagebuild.BusyboxConfig(), testkit.BusyboxLayer(t)))
	b := make([]byte, 4)
	rand.Read(b)
	f := &fixture{
		bin:    testkit.Build(t, "minidocker/step06-networking"),
		root:   testkit.DataRoot(t, "step06"),
		image:  reg.Host() + "/busybox:latest",
		bridge: "mdks" + hex.EncodeToString(b),
		subnet: fmt.Sprintf("172.30.%d.0/24", b[0]),
	}
	f.env = []string{"MINIDOCKER_ROOT=" + f.root, "MINIDOCKER_EXEC_ROOT=" + t.TempDir()}
	t.Cleanup(func() {
		r := f.run(t, "teardown")
		if r.Code != 0 {
			t.Errorf("teardown: exit %d: %s", r.Code, r.Stderr)
		}
		if _, err := netlink.LinkByName(f.bridge); err == nil {
			t.Errorf("bridge %s left after teardown", f.bridge)
		}
		if testkit.NFTTableExists(t, f.bridge) {
			t.Errorf("nft table %s left after teardown", f.bridge)
		}
	})
	return f
}

// args puts the network's flags after the verb.
func (f *fixture) args(verb string, args ...string) []string {
	return append([]string{verb, "--bridge", f.bridge, "--subnet", f.subnet}, args...)
}

func (f *fixture) run(t *testing.T, verb string, args ...string) testkit.Result {
	t.Helper()
	return testkit.Run(t, f.bin, f.env, f.args(verb, args...)...)
}

// background starts a container and returns its address on the bridge
// (from the line the demo prints once attached) and a stop function that
// SIGTERMs it and waits.
func (f *fixture) background(t *testing.T, args ...string) (netip.Addr, func() testkit.Result) {
	t.Helper()
	cmd := exec.Command(f.bin, f.args("run", args...)...)
	cmd.Env = append(os.Environ(), f.env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	require.NoError(t, cmd.Start())
	done := false
	var rest strings.Builder
	stop := func() testkit.Result {
		if !done {
			done = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
		return testkit.Result{Stdout: stdout.String(), Stderr: rest.String(), Code: cmd.ProcessState.ExitCode()}
	}
	t.Cleanup(func() { stop() })
	attached := regexp.MustCompile(`^step06-networking: (\S+) on ` + f.bridge)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		rest.WriteString(sc.Text() + "\n")
		if m := attached.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(&rest, stderr)
			return netip.MustParseAddr(m[1]), stop
		}
	}
	t.Fatalf("the container did not attach: %s", rest.String())
	return netip.Addr{}, nil
}

// ports of the bridge: the host ends of the veths still plugged in.
func bridgePorts(t *testing.T, bridge string) []string {
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return nil
	}
	links, err := netlink.LinkList()
	require.NoError(t, err)
	var out []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}

func TestBridgeNetwork(t *testing.T) {
	f := setup(t)
	r := f.run(t, "run", "--name", "web", "--hostname", "box", f.image, "sh", "-c",
		"ip -o -4 addr show eth0 | awk '{print $4}'; ip route | grep default; grep box /etc/hosts; cat /etc/hostname")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	require.Len(t, lines, 4, "stdout: %s", r.Stdout)
	addr := netip.MustParsePrefix(lines[0])
	subnet := netip.MustParsePrefix(f.subnet)
	gateway := subnet.Addr().Next()
	require.True(t, subnet.Contains(addr.Addr()), "eth0 %s is not in %s", addr, subnet)
	require.NotEqual(t, gateway, addr.Addr(), "the gateway is never handed out")
	require.Equal(t, fmt.Sprintf("default via %s dev eth0 ", gateway), lines[1])
	require.Equal(t, addr.Addr().String()+"\tbox web", lines[2])
	require.Equal(t, "box", lines[3])
	require.Empty(t, bridgePorts(t, f.bridge), "a veth is left on the bridge")
}

func TestContainersReachEachOther(t *testing.T) {
	f := setup(t)
	ip, stop := f.background(t, "--init", f.image, "sh", "-c", "mkdir /www && echo hello from a > /www/index.html && httpd -f -p 80 -h /www")
	var r testkit.Result
	for range 50 { // httpd may need a moment to listen
		r = f.run(t, "run", f.image, "wget", "-qO-", "http://"+ip.String()+"/")
		if r.Code == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "hello from a\n", r.Stdout)
	stop()
	require.Empty(t, bridgePorts(t, f.bridge))
}

func TestPublish(t *testing.T) {
	f := setup(t)
	port := testkit.FreePort(t)
	_, stop := f.background(t, "--init", "-p", fmt.Sprintf("%d:80", port), f.image, "sh", "-c",
		"mkdir /www && echo published > /www/index.html && httpd -f -p 80 -h /www")

	// Bounded: a DNAT or masquerade rule gone wrong leaves the connection
	// hanging (no reply ever comes), not refused; each try and the whole
	// wait for httpd have a deadline.
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	var body []byte
	var err error
	for time.Now().Before(deadline) {
		var resp *http.Response
		if resp, err = client.Get(url); err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, err, "GET %s from the host", url)
	require.Equal(t, "published\n", string(body))

	// The same host port again: Docker's message, exit 125, nothing left.
	r := f.run(t, "run", "-p", fmt.Sprintf("%d:80", port), f.image, "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, fmt.Sprintf("Bind for 0.0.0.0:%d failed: port is already allocated", port))
	require.Len(t, bridgePorts(t, f.bridge), 1, "only the first container is on the bridge")

	stop()
	require.Empty(t, bridgePorts(t, f.bridge))
	// Released: the port can be published again.
	r = f.run(t, "run", "-p", fmt.Sprintf("%d:80", port), f.image, "true")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
}

func TestPortBoundOnHost(t *testing.T) {
	f := setup(t)
	l, err := net.Listen("tcp", "0.0.0.0:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	port := l.Addr().(*net.TCPAddr).Port
	r := f.run(t, "run", "-p", fmt.Sprintf("%d:80", port), f.image, "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, fmt.Sprintf("Bind for 0.0.0.0:%d failed: port is already allocated", port))
}

func TestNetworkModes(t *testing.T) {
	f := setup(t)
	r := f.run(t, "run", "--network", "none", f.image, "sh", "-c", "ip -o link | awk '{print $2}'; cat /etc/hosts | grep -c 127.0.0.1")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, "lo:\n1\n", r.Stdout)

	hostNS, err := os.Readlink("/proc/self/ns/net")
	require.NoError(t, err)
	r = f.run(t, "run", "--network", "host", f.image, "readlink", "/proc/self/ns/net")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Equal(t, hostNS+"\n", r.Stdout, "the host's network namespace")

	r = f.run(t, "run", "--network", "nope", f.image, "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, "network nope not found")
	r = f.run(t, "run", "--network", "none", "-p", "80", f.image, "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, "published ports need the bridge network")
}

func TestNameConflict(t *testing.T) {
	f := setup(t)
	_, stop := f.background(t, "--init", "--name", "one", f.image, "sleep", "60")
	r := f.run(t, "run", "--name", "one", f.image, "true")
	require.Equal(t, 125, r.Code)
	require.Contains(t, r.Stderr, `Conflict. The container name "/one" is already in use`)
	stop()
	r = f.run(t, "run", "--name", "one", f.image, "true")
	require.Equal(t, 0, r.Code, "the name is free once its container exited; stderr: %s", r.Stderr)
}

// --hostname is checked as Docker checks it before anything is made: a
// newline would otherwise write an /etc/hosts line of its choosing.
func TestHostnameValidated(t *testing.T) {
	f := setup(t)
	r := f.run(t, "run", "--hostname", "web.example", f.image, "sh", "-c", "hostname; tail -n 1 /etc/hosts; cat /etc/hostname")
	require.Equal(t, 0, r.Code, "stderr: %s", r.Stderr)
	require.Regexp(t, `^web\.example\n172\.30\.\d+\.\d+\tweb\.example\nweb\.example\n$`, r.Stdout)

	before, err := os.ReadDir(f.root + "/containers")
	require.NoError(t, err)
	for _, name := range []string{"web\n10.0.0.9 registry.local", "web db", "-web", strings.Repeat("a", 65)} {
		r := f.run(t, "run", "--hostname", name, f.image, "true")
		require.Equal(t, 125, r.Code, "--hostname %q: stdout %q stderr %q", name, r.Stdout, r.Stderr)
		require.Contains(t, r.Stderr, "invalid hostname format: "+name)
	}
	after, err := os.ReadDir(f.root + "/containers")
	require.NoError(t, err)
	require.Equal(t, len(before), len(after), "containers made for refused host names")
}
