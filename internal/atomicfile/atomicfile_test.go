package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	for name, write := range map[string]func(string, []byte, os.FileMode) error{"Write": Write, "WriteVolatile": WriteVolatile} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "state.json")
			require.NoError(t, write(p, []byte("one"), 0o600))
			require.NoError(t, write(p, []byte("two"), 0o644))
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			require.Equal(t, "two", string(data))
			fi, err := os.Stat(p)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Len(t, entries, 1, "no temporary file left")
			require.Error(t, write(filepath.Join(dir, "missing", "x"), nil, 0o600))
		})
	}
}
