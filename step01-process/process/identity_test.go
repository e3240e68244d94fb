package process

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	// Field 2 may hold spaces and parentheses: count from the last ')'.
	line := "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	st, err := parseStat([]byte(line))
	require.NoError(t, err)
	require.Equal(t, procStat{State: 'S', StartTime: 987654}, st)

	st, err = parseStat([]byte("7 (sh) Z 1 7 7 0 -1 4194564 0 0 0 0 0 0 0 0 20 0 1 0 55 0 0"))
	require.NoError(t, err)
	require.Equal(t, procStat{State: 'Z', StartTime: 55}, st)

	for _, bad := range []string{"", "12 sh S 1", "12 (sh) S 1 2 3", "12 (sh) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x"} {
		_, err := parseStat([]byte(bad))
		require.Error(t, err, "%q", bad)
	}
}
