package loadgen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// ProcStat is what /proc/PID/stat says about a process.
type ProcStat struct {
	CPUSeconds float64 // user + system
	RSSBytes   int64
}

// ReadProcStat reads /proc/PID/stat (pid 0: this process).
func ReadProcStat(pid int) (ProcStat, error) {
	path := "/proc/self/stat"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ProcStat{}, fmt.Errorf("read process stat: %w", err)
	}
	return parseProcStat(string(b))
}

// parseProcStat parses one /proc/PID/stat line. The command name (field
// 2) may hold spaces and parentheses, so fields are counted from the last
// ')'.
func parseProcStat(s string) (ProcStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ProcStat{}, fmt.Errorf("parse process stat: no command name in %.80q", s)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 22 {
		return ProcStat{}, fmt.Errorf("parse process stat: %d fields", len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	rss, err3 := strconv.ParseInt(f[21], 10, 64)   // field 24, pages
	if err1 != nil || err2 != nil || err3 != nil {
		return ProcStat{}, fmt.Errorf("parse process stat: bad number in %.120q", s)
	}
	return ProcStat{
		CPUSeconds: float64(utime+stime) / clockTicks,
		RSSBytes:   rss * int64(pageSize()),
	}, nil
}

func pageSize() int { return os.Getpagesize() }
