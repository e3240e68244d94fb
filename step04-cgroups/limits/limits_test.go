package limits

import (
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/step04-cgroups/cgroups"
)

func TestResources(t *testing.T) {
	for _, tc := range []struct {
		args    Flags
		want    cgroups.Resources
		wantErr string
	}{
		{},
		{args: Flags{Memory: "64m", CPUs: "0.5", CPUShares: 512, PidsLimit: 20},
			want: cgroups.Resources{Memory: 64 << 20, CPUQuota: 50000, CPUShares: 512, PidsLimit: 20}},
		{args: Flags{Memory: "1g"}, want: cgroups.Resources{Memory: 1 << 30}},
		{args: Flags{Memory: "12x"}, wantErr: `invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'`},
		{args: Flags{Memory: "1k"}, wantErr: "Minimum memory limit allowed is 6MB"},
		{args: Flags{CPUs: "abc"}, wantErr: `invalid argument "abc" for "--cpus" flag`},
	} {
		f := tc.args
		got, err := f.Resources()
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, "%v", tc.args)
			continue
		}
		require.NoError(t, err, "%v", tc.args)
		require.Equal(t, tc.want, got, "%v", tc.args)
	}
}
