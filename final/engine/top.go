package engine

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"minidocker/final/errdefs"
	"minidocker/step04-cgroups/cgroups"
)

// TopTitles are docker top's columns (ps -ef's).
var TopTitles = []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}

// Top is docker top: the processes in the container's cgroups, as the
// host sees them, one row of TopTitles each, by PID. It reads cgroup.procs
// and each process's /proc/<pid>/{stat,status,cmdline}, what ps reads.
func (e *Engine) Top(ref string) ([][]string, error) {
	c, err := e.Container(ref)
	if err != nil {
		return nil, err
	}
	if !alive(c) {
		return nil, errdefs.Conflict(fmt.Errorf("container %s is not running", c.ID))
	}
	cg, err := cgroups.Load(cgroups.Config{ID: c.ID, Paths: c.State.CgroupPaths})
	if err != nil {
		return nil, err
	}
	pids, err := cg.Procs()
	if err != nil {
		return nil, fmt.Errorf("top %s: %w", c.ShortID(), err)
	}
	slices.Sort(pids)
	boot := bootTime()
	var rows [][]string
	for _, pid := range pids {
		if row, ok := topRow(pid, boot); ok {
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux that Go runs on.
const clockTicks = 100

func topRow(pid int, boot time.Time) ([]string, bool) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return nil, false // gone meanwhile
	}
	// "pid (comm) state ppid ..." : comm may hold spaces and parentheses.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 20 {
		return nil, false
	}
	ppid := f[1]
	ttyNr, _ := strconv.Atoi(f[4])
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	start, _ := strconv.ParseInt(f[19], 10, 64)
	cpu := time.Duration(utime+stime) * time.Second / clockTicks
	started := boot.Add(time.Duration(start) * time.Second / clockTicks)
	uid := "?"
	if status, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
		for line := range strings.Lines(string(status)) {
			if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
				if fs := strings.Fields(rest); len(fs) > 0 {
					uid = fs[0]
					if u, err := user.LookupId(uid); err == nil {
						uid = u.Username
					}
				}
			}
		}
	}
	cmd := "[" + string(stat[strings.IndexByte(string(stat), '(')+1:strings.LastIndexByte(string(stat), ')')]) + "]"
	if cl, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil && len(cl) > 0 {
		cmd = strings.TrimSpace(strings.ReplaceAll(string(cl), "\x00", " "))
	}
	tty := "?"
	if major := (ttyNr >> 8) & 0xfff; major >= 136 && major <= 143 {
		tty = fmt.Sprintf("pts/%d", (ttyNr&0xff)|((ttyNr>>12)&0xfff00))
	}
	stimeText := started.Format("15:04")
	if time.Since(started) > 24*time.Hour {
		stimeText = started.Format("Jan02")
	}
	total := int(cpu.Seconds())
	return []string{uid, strconv.Itoa(pid), ppid, "0", stimeText, tty,
		fmt.Sprintf("%02d:%02d:%02d", total/3600, total/60%60, total%60), cmd}, true
}

// bootTime is when the machine booted (/proc/stat's btime).
func bootTime() time.Time {
	data, _ := os.ReadFile("/proc/stat")
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "btime "); ok {
			if s, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64); err == nil {
				return time.Unix(s, 0)
			}
		}
	}
	return time.Time{}
}
