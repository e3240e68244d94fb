package cgroups

import (
	"strconv"
	"strings"
)

// ParseBlkio sums the Read and Write lines of cgroup v1's
// blkio.throttle.io_service_bytes(_recursive), one line per device and
// operation, then the total:
//
//	254:0 Read 4194304
//	254:0 Write 8192
//	254:0 Sync 4202496
//	...
//	Total 4202496
//
// The kernel counts there only the I/O that went through blk-throttle:
// since Linux 6.x, only on a disk with a throttle rule (a
// blkio.throttle.*_device limit in some cgroup); elsewhere it stays 0.
func ParseBlkio(data string) (read, write uint64) {
	for line := range strings.Lines(data) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			continue
		}
		switch f[1] {
		case "Read":
			read += n
		case "Write":
			write += n
		}
	}
	return read, write
}

// ParseIOStat sums rbytes and wbytes of cgroup v2's io.stat, one line per
// device:
//
//	254:0 rbytes=4194304 wbytes=8192 rios=64 wios=2 dbytes=0 dios=0
func ParseIOStat(data string) (read, write uint64) {
	for line := range strings.Lines(data) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		for _, kv := range f[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			switch k {
			case "rbytes":
				read += n
			case "wbytes":
				write += n
			}
		}
	}
	return read, write
}
