package process

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// ErrGone means the process an Identity names no longer runs: it exited,
// or its PID now belongs to another process.
var ErrGone = errors.New("process is gone")

// Identity names one process for as long as the machine runs. A PID alone
// does not: once the process exits and is reaped, the kernel hands its
// number to the next process that starts, and kill(pid, sig) would signal
// that stranger. The time the process started, in clock ticks after boot
// (field 22 of /proc/PID/stat), never comes back for the same PID, so the
// pair does.
type Identity struct {
	Pid int
	// StartTime is in clock ticks after boot (sysconf(_SC_CLK_TCK), 100
	// per second on Linux). Zero means unknown: the PID alone is trusted.
	StartTime uint64
}

func (id Identity) String() string {
	return fmt.Sprintf("pid %d (started at tick %d)", id.Pid, id.StartTime)
}

// procStat is what Identify needs from /proc/PID/stat.
type procStat struct {
	State     byte   // field 3: R, S, D, Z (zombie), ...
	StartTime uint64 // field 22
}

// parseStat reads /proc/PID/stat. Field 2 is the command name in
// parentheses, and a name may itself hold spaces and ')' ("(a) b)"), so the
// other fields are counted from the last ')'.
func parseStat(data []byte) (procStat, error) {
	var st procStat
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return st, fmt.Errorf("parse /proc stat: no command name in %q", data)
	}
	// After ") ": field 3 (state) is the first, field 22 (starttime) the 20th.
	fields := bytes.Fields(data[end+1:])
	if len(fields) < 20 || len(fields[0]) != 1 {
		return st, fmt.Errorf("parse /proc stat: %d fields after the command name", len(fields))
	}
	st.State = fields[0][0]
	t, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return st, fmt.Errorf("parse /proc stat: start time: %w", err)
	}
	st.StartTime = t
	return st, nil
}
