package testkit

import (
	"testing"

	"github.com/google/nftables"
	"github.com/stretchr/testify/require"
)

// NFTTableExists reports whether the nftables table "ip name" exists (read
// over netlink, as `nft list tables` would show it).
func NFTTableExists(t testing.TB, name string) bool {
	t.Helper()
	c, err := nftables.New()
	require.NoError(t, err)
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	require.NoError(t, err)
	for _, tb := range tables {
		if tb.Name == name {
			return true
		}
	}
	return false
}
