package cgroups

import "testing"

func TestParseBlockIO(t *testing.T) {
	// Read from the course VM's kernel (6.18), two devices on v1; and a
	// v2 io.stat as the kernel writes it.
	const v1 = `254:16 Read 1024
254:16 Write 0
254:16 Sync 1024
254:16 Async 0
254:16 Discard 0
254:16 Total 1024
254:0 Read 4194304
254:0 Write 8388608
254:0 Sync 12582912
254:0 Async 0
254:0 Discard 0
254:0 Total 12582912
Total 12583936
`
	const v2 = "254:0 rbytes=4194304 wbytes=8192 rios=64 wios=2 dbytes=0 dios=0\n" +
		"8:0 rbytes=512 wbytes=1024 rios=1 wios=1 dbytes=4096 dios=1\n"
	for _, tc := range []struct {
		name        string
		parse       func(string) (uint64, uint64)
		in          string
		read, write uint64
	}{
		{"v1", ParseBlkio, v1, 4194304 + 1024, 8388608},
		{"v1, no I/O", ParseBlkio, "Total 0\n", 0, 0},
		{"v1, garbage", ParseBlkio, "254:0 Read x\nnonsense\n", 0, 0},
		{"v2", ParseIOStat, v2, 4194304 + 512, 8192 + 1024},
		{"v2, empty", ParseIOStat, "", 0, 0},
		{"v2, garbage", ParseIOStat, "254:0 rbytes=x wbytes\n", 0, 0},
	} {
		r, w := tc.parse(tc.in)
		if r != tc.read || w != tc.write {
			t.Errorf("%s: read %d, write %d; want %d, %d", tc.name, r, w, tc.read, tc.write)
		}
	}
}
