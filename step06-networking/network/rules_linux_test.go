package network

import (
	"net/netip"
	"testing"

	"github.com/google/nftables/expr"
	"github.com/stretchr/testify/require"
)

// TestNetworkRules: an internal network has no masquerade and drops what
// crosses its bridge; each bridge to isolate from adds a drop each way,
// before the accepts; "br-*" compares only the prefix, as nft's wildcard.
func TestNetworkRules(t *testing.T) {
	chains := func(cfg Config) []string {
		var out []string
		for _, r := range (&Network{cfg: cfg}).networkRules() {
			verdict := ""
			for _, e := range r.exprs {
				switch v := e.(type) {
				case *expr.Verdict:
					verdict = map[expr.VerdictKind]string{expr.VerdictDrop: "drop", expr.VerdictAccept: "accept"}[v.Kind]
				case *expr.Masq:
					verdict = "masquerade"
				}
			}
			out = append(out, r.chain+" "+verdict)
		}
		return out
	}
	base := Config{Bridge: "br-0123456789ab", Subnet: netip.MustParsePrefix("172.30.0.0/24")}
	require.Equal(t, []string{"raw drop", "postrouting masquerade", "postrouting masquerade", "postrouting masquerade",
		"forward accept", "forward accept"}, chains(base), "the default bridge's six rules, as before")
	internal := base
	internal.Internal = true
	require.Equal(t, []string{"raw drop", "postrouting masquerade", "postrouting masquerade",
		"forward drop", "forward drop", "forward accept", "forward accept"}, chains(internal))
	isolated := base
	isolated.IsolateFrom = []string{"br-*", "minidocker0"}
	require.Equal(t, []string{"raw drop", "postrouting masquerade", "postrouting masquerade", "postrouting masquerade",
		"forward drop", "forward drop", "forward drop", "forward drop", "forward accept", "forward accept"}, chains(isolated))

	cmp := ifnameMatch(expr.MetaKeyOIFNAME, "br-*")[1].(*expr.Cmp)
	require.Equal(t, []byte("br-"), cmp.Data, "a wildcard compares its prefix only")
	cmp = ifnameMatch(expr.MetaKeyOIFNAME, "minidocker0")[1].(*expr.Cmp)
	require.Len(t, cmp.Data, 16, "a name is compared whole, NUL-padded")
}
