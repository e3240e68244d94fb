package connect

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/rootfs"
)

func parse(t *testing.T, args ...string) (*Flags, error) {
	var f Flags
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs)
	return &f, fs.Parse(args)
}

func TestPlan(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct {
		args    []string
		mode    string
		ports   int
		wantErr string
	}{
		{args: nil, mode: Bridge},
		{args: []string{"-p", "8080:80", "-p", "53/udp"}, mode: Bridge, ports: 2},
		{args: []string{"--network", "none"}, mode: None},
		{args: []string{"--network", "host"}, mode: Host},
		{args: []string{"--network", "host", "-p", "80"}, wantErr: "published ports need the bridge network, not --network host"},
		{args: []string{"--network", "overlay"}, wantErr: "network overlay not found"},
		{args: []string{"-p", "99999:80"}, wantErr: "99999"},
		{args: []string{"--subnet", "nope"}, wantErr: `invalid argument "nope" for "--subnet" flag`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, err := parse(t, tc.args...)
			require.NoError(t, err)
			p, err := f.Plan(root)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.mode, p.Mode)
			require.Len(t, p.Ports, tc.ports)
			require.Equal(t, tc.mode == Bridge, p.Net != nil)
		})
	}
	_, err := parse(t, "--dns", "not-an-ip")
	require.ErrorContains(t, err, "not-an-ip is not an ip address")
}

func TestFilesAndNamespaces(t *testing.T) {
	dir := t.TempDir()
	f, err := parse(t, "--network", "none", "--dns", "9.9.9.9")
	require.NoError(t, err)
	p, err := f.Plan(t.TempDir())
	require.NoError(t, err)
	mounts, err := p.Files(dir, "abc123", "web")
	require.NoError(t, err)
	require.Equal(t, []rootfs.Mount{
		{Source: filepath.Join(dir, "hostname"), Destination: "/etc/hostname"},
		{Source: filepath.Join(dir, "hosts"), Destination: "/etc/hosts"},
		{Source: filepath.Join(dir, "resolv.conf"), Destination: "/etc/resolv.conf"},
	}, mounts)
	data, err := os.ReadFile(filepath.Join(dir, "hostname"))
	require.NoError(t, err)
	require.Equal(t, "abc123\n", string(data))
	data, err = os.ReadFile(filepath.Join(dir, "resolv.conf"))
	require.NoError(t, err)
	require.Contains(t, string(data), "nameserver 9.9.9.9\n")

	cfg := namespaces.Config{Namespaces: namespaces.Default}
	p.Namespaces(&cfg)
	require.True(t, cfg.Has(namespaces.Net), "none keeps its own namespace")
	p.Mode = Host
	p.Namespaces(&cfg)
	require.False(t, cfg.Has(namespaces.Net), "host shares the host's")
	require.True(t, cfg.Has(namespaces.PID))
}

// A name that would add lines to /etc/hosts is refused before any file is
// written, whatever path it took to Files.
func TestFilesRefusesBadNames(t *testing.T) {
	f, err := parse(t, "--network", "none")
	require.NoError(t, err)
	p, err := f.Plan(t.TempDir())
	require.NoError(t, err)
	for _, names := range [][]string{
		{"web\n10.0.0.9 registry.local"},
		{"abc123", "web db"},
		{},
	} {
		dir := filepath.Join(t.TempDir(), "net")
		_, err := p.Files(dir, names...)
		require.Error(t, err, "Files(%q)", names)
		_, statErr := os.Stat(dir)
		require.ErrorIs(t, statErr, os.ErrNotExist, "Files(%q) made %s", names, dir)
	}
}
