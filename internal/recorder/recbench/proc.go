package recbench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// ClockTicks is USER_HZ, the unit of the times in /proc/<pid>/stat: 100 on
// every Linux architecture Go supports (sysconf(_SC_CLK_TCK) needs cgo).
const ClockTicks = 100

// Stat is the part of /proc/<pid>/stat the benchmark uses.
type Stat struct {
	PID  int
	Comm string
	PPID int
	// CPU is utime + stime, plus cutime + cstime: the children already
	// waited for count with their parent, the live ones on their own.
	CPU time.Duration
}

// ParseStat parses the contents of /proc/<pid>/stat. The command name is
// in parentheses and may hold spaces and parentheses itself, so the fields
// are counted from the last ')'.
func ParseStat(b []byte) (Stat, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return Stat{}, fmt.Errorf("%w: stat: no (comm)", ErrFormat)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return Stat{}, fmt.Errorf("%w: stat: pid: %w", ErrFormat, err)
	}
	// After the comm: state(3) ppid(4) … utime(14) stime(15) cutime(16) cstime(17).
	f := bytes.Fields(b[end+1:])
	if len(f) < 15 {
		return Stat{}, fmt.Errorf("%w: stat: %d fields after comm", ErrFormat, len(f))
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return Stat{}, fmt.Errorf("%w: stat: ppid: %w", ErrFormat, err)
	}
	var ticks int64
	for _, i := range []int{11, 12, 13, 14} {
		v, err := strconv.ParseInt(string(f[i]), 10, 64)
		if err != nil || v < 0 {
			return Stat{}, fmt.Errorf("%w: stat: field %d: %q", ErrFormat, i+3, f[i])
		}
		ticks += v
	}
	return Stat{
		PID: pid, Comm: string(b[open+1 : end]), PPID: ppid,
		CPU: time.Duration(ticks) * time.Second / ClockTicks,
	}, nil
}

// IO is the part of /proc/<pid>/io the benchmark uses.
type IO struct {
	// WriteBytes is what the process caused to be sent to the storage
	// layer (page cache writes included, counted when dirtied).
	WriteBytes int64
	// WChar is every byte passed to write(2) and its kin, sockets included.
	WChar int64
}

// ParseIO parses the contents of /proc/<pid>/io ("key: value" lines).
func ParseIO(b []byte) (IO, error) {
	var io IO
	var seen int
	for line := range bytes.Lines(b) {
		k, v, ok := bytes.Cut(bytes.TrimSpace(line), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(k) {
		case "write_bytes":
			dst = &io.WriteBytes
		case "wchar":
			dst = &io.WChar
		default:
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
		if err != nil || n < 0 {
			return IO{}, fmt.Errorf("%w: io: %s: %q", ErrFormat, k, v)
		}
		*dst = n
		seen++
	}
	if seen < 2 {
		return IO{}, fmt.Errorf("%w: io: write_bytes or wchar missing", ErrFormat)
	}
	return io, nil
}

// Usage is the CPU time and bytes written of a process and its descendants
// at one moment; a figure is the difference of two.
type Usage struct {
	CPU        time.Duration
	WriteBytes int64
	Procs      int
}

// Sub returns u − v.
func (u Usage) Sub(v Usage) Usage {
	return Usage{CPU: u.CPU - v.CPU, WriteBytes: u.WriteBytes - v.WriteBytes, Procs: u.Procs}
}

// TreeUsage sums the usage of pid and every live descendant (PostgreSQL's
// backends under its postmaster, ffmpeg under a service). A process that
// vanished while being read is skipped.
func TreeUsage(pid int) (Usage, error) {
	stats, err := allStats()
	if err != nil {
		return Usage{}, err
	}
	children := map[int][]int{}
	for _, s := range stats {
		children[s.PPID] = append(children[s.PPID], s.PID)
	}
	if _, ok := stats[pid]; !ok {
		return Usage{}, fmt.Errorf("recbench: process %d: %w", pid, os.ErrNotExist)
	}
	var u Usage
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		queue = append(queue, children[p]...)
		u.CPU += stats[p].CPU
		u.Procs++
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", p)); err == nil {
			if io, err := ParseIO(b); err == nil {
				u.WriteBytes += io.WriteBytes
			}
		}
	}
	return u, nil
}

// ProcessUsage is the usage of pid alone, without its descendants (the
// benchmark's own process, parent of every server it starts).
func ProcessUsage(pid int) (Usage, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("recbench: %w", err)
	}
	s, err := ParseStat(b)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{CPU: s.CPU, Procs: 1}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		if io, err := ParseIO(b); err == nil {
			u.WriteBytes = io.WriteBytes
		}
	}
	return u, nil
}

// allStats reads the stat of every process.
func allStats() (map[int]Stat, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, fmt.Errorf("recbench: list /proc: %w", err)
	}
	out := make(map[int]Stat, len(dirs))
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue // ended meanwhile
		}
		s, err := ParseStat(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
		out[s.PID] = s
	}
	return out, nil
}

// LoadAverage returns the 1-minute load average from /proc/loadavg.
func LoadAverage() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, fmt.Errorf("recbench: %w", err)
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0, fmt.Errorf("%w: loadavg %q", ErrFormat, b)
	}
	v, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return 0, fmt.Errorf("%w: loadavg: %w", ErrFormat, err)
	}
	return v, nil
}
