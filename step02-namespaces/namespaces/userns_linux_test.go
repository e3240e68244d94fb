package namespaces

import (
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/internal/testkit"
)

// TestUserNamespace: with UserNS and mappings, the command is root of a
// user namespace that maps 0 to host 100000: it reads the mappings, is
// uid 0 inside, and a host file owned by host root (outside the mappings)
// shows as the overflow ID. (The runtime test checks the host side:
// TestRuntimeUserNamespace in final.)
func TestUserNamespace(t *testing.T) {
	testkit.RequireRoot(t)
	maps := []IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg := Config{Namespaces: []Namespace{UserNS, UTS, PID, Mnt}, UIDMappings: maps, GIDMappings: maps}
	out, code := run(t, cfg, `cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; stat -c %u /etc/passwd; `+
		`grep -E '^(Uid|Gid):' /proc/$$/status`)
	require.Equal(t, 0, code, out)
	// Inside, /proc/PID/status shows IDs as the namespace maps them.
	require.Equal(t, "0     100000      65536\n         0     100000      65536\n0\n0\n65534\n"+
		"Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0", out)
}
