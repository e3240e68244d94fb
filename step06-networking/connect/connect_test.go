package connect

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/rootfs"
)

func TestPlan(t *testing.T) {
	exec := t.TempDir()
	t.Setenv("MINIDOCKER_EXEC_ROOT", exec)
	for _, tc := range []struct {
		name    string
		f       Flags
		mode    string
		ports   int
		wantErr string
	}{
		{name: "default", f: Flags{Network: Bridge}, mode: Bridge},
		{name: "ports", f: Flags{Network: Bridge, Publish: []string{"8080:80", "53/udp"}}, mode: Bridge, ports: 2},
		{name: "none", f: Flags{Network: None}, mode: None},
		{name: "host", f: Flags{Network: Host}, mode: Host},
		{name: "host ports", f: Flags{Network: Host, Publish: []string{"80"}}, wantErr: "published ports need the bridge network, not --network host"},
		{name: "overlay", f: Flags{Network: "overlay"}, wantErr: "network overlay not found"},
		{name: "bad port", f: Flags{Network: Bridge, Publish: []string{"99999:80"}}, wantErr: "99999"},
		{name: "bad subnet", f: Flags{Network: Bridge, Subnet: "nope"}, wantErr: `invalid argument "nope" for "--subnet" flag`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.f.Plan()
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.mode, p.Mode)
			require.Len(t, p.Ports, tc.ports)
			require.Equal(t, tc.mode == Bridge, p.Net != nil)
			if p.Net != nil {
				// Per host (the exec root), not per data root.
				require.Equal(t, filepath.Join(exec, "network", "minidocker0"), p.Net.Config().Root)
			}
		})
	}
	require.NoError(t, CheckDNS("1.2.3.4"))
	require.EqualError(t, CheckDNS("not-an-ip"), "not-an-ip is not an ip address")
}

func TestFilesAndNamespaces(t *testing.T) {
	dir := t.TempDir()
	f := Flags{Network: None, DNS: []string{"9.9.9.9"}}
	p, err := f.Plan()
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
	f := Flags{Network: None}
	p, err := f.Plan()
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
