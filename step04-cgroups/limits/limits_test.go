package limits

import (
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"minidocker/step04-cgroups/cgroups"
)

func TestResources(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    cgroups.Resources
		wantErr string
	}{
		{args: nil},
		{args: []string{"-m", "64m", "--cpus", "0.5", "--cpu-shares", "512", "--pids-limit", "20"},
			want: cgroups.Resources{Memory: 64 << 20, CPUQuota: 50000, CPUShares: 512, PidsLimit: 20}},
		{args: []string{"--memory", "1g"}, want: cgroups.Resources{Memory: 1 << 30}},
		{args: []string{"-m", "12x"}, wantErr: `invalid argument "12x" for "-m, --memory" flag: invalid size: '12x'`},
		{args: []string{"-m", "1k"}, wantErr: "Minimum memory limit allowed is 6MB"},
		{args: []string{"--cpus", "abc"}, wantErr: `invalid argument "abc" for "--cpus" flag`},
	} {
		var f Flags
		fs := flag.NewFlagSet("", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.Register(fs)
		require.NoError(t, fs.Parse(tc.args))
		got, err := f.Resources()
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, "%v", tc.args)
			continue
		}
		require.NoError(t, err, "%v", tc.args)
		require.Equal(t, tc.want, got, "%v", tc.args)
	}
}
