package network

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDirectory: names come from the endpoints' records, any case, on the
// bridges asked for only, and follow the records as they come and go.
func TestDirectory(t *testing.T) {
	t.Setenv("MINIDOCKER_EXEC_ROOT", t.TempDir())
	put := func(bridge, id, ip string, names ...string) string {
		dir := filepath.Join(HostRoot(bridge), "endpoints", bridge)
		require.NoError(t, os.MkdirAll(dir, 0o700))
		data, err := json.Marshal(Endpoint{ID: id, Bridge: bridge, IP: netip.MustParseAddr(ip), Names: names})
		require.NoError(t, err)
		file := filepath.Join(dir, id+".json")
		require.NoError(t, os.WriteFile(file, data, 0o600))
		return file
	}
	put("br-a", "c1", "172.30.0.2", "db", "Database")
	put("br-b", "c2", "172.31.0.2", "web")
	var d Directory
	addrs := func(bridges []string, name string) []string {
		var out []string
		for _, a := range d.Lookup(bridges, name) {
			out = append(out, a.String())
		}
		return out
	}
	require.Equal(t, []string{"172.30.0.2"}, addrs([]string{"br-a"}, "db"))
	require.Equal(t, []string{"172.30.0.2"}, addrs([]string{"br-a"}, "DATABASE."), "any case, trailing dot")
	require.Empty(t, addrs([]string{"br-a"}, "web"), "web is on br-b only")
	require.Equal(t, []string{"172.31.0.2"}, addrs([]string{"br-a", "br-b"}, "web"))
	require.Empty(t, addrs([]string{"br-none"}, "db"), "a bridge without a book")
	require.Equal(t, "db", d.Reverse([]string{"br-a"}, netip.MustParseAddr("172.30.0.2")), "the first name of an address")
	require.Empty(t, d.Reverse([]string{"br-a"}, netip.MustParseAddr("172.31.0.2")), "web is on br-b only")

	file := put("br-a", "c3", "172.30.0.3", "db")
	require.Equal(t, []string{"172.30.0.2", "172.30.0.3"}, addrs([]string{"br-a"}, "db"), "a new container's name")
	require.NoError(t, os.Remove(file))
	require.Equal(t, []string{"172.30.0.2"}, addrs([]string{"br-a"}, "db"), "a removed container's name")
}
