// This file defines Figures and the Collector that reads them from /proc
// and /sys.

package hostinfo

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Figures is one reading of a host. Optional figures are nil (or empty)
// when their source is missing. The struct is plain data with json and
// wire (CBOR envelope) tags, so a heartbeat can carry it as it is.
type Figures struct {
	// CPUs is the number of CPUs the kernel lists in /proc/stat.
	CPUs int `json:"cpus,omitempty" wire:"1"`
	// CPUPercent is the share of time all CPUs were busy (0-100) since the
	// previous Collect; nil on the first call.
	CPUPercent *float64 `json:"cpu_percent,omitempty" wire:"2"`
	// Load is the 1, 5 and 15 minute load averages, or nil.
	Load []float64 `json:"load,omitempty" wire:"3"`
	// MemUsed and MemTotal are bytes; used is total minus available.
	MemUsed  uint64 `json:"mem_used,omitempty" wire:"4"`
	MemTotal uint64 `json:"mem_total,omitempty" wire:"5"`
	// TempC is the SoC temperature in degrees Celsius
	// (thermal_zone0), or nil.
	TempC *float64 `json:"temp_c,omitempty" wire:"6"`
	// Throttled is the Raspberry Pi firmware's throttling word, in the
	// bit layout of `vcgencmd get_throttled` (see the Throttle constants),
	// or nil off a Pi.
	Throttled *uint32 `json:"throttled,omitempty" wire:"7"`
}

// The bits of Figures.Throttled, as the Raspberry Pi firmware reports them.
const (
	UnderVoltage         uint32 = 1 << 0  // under-voltage now
	FreqCapped           uint32 = 1 << 1  // ARM frequency capped now
	ThrottledNow         uint32 = 1 << 2  // throttled now
	SoftTempLimit        uint32 = 1 << 3  // soft temperature limit active now
	UnderVoltageOccurred uint32 = 1 << 16 // under-voltage has occurred since boot
	FreqCappedOccurred   uint32 = 1 << 17 // frequency capping has occurred
	ThrottledOccurred    uint32 = 1 << 18 // throttling has occurred
	SoftTempOccurred     uint32 = 1 << 19 // soft temperature limit has occurred
)

// Collector reads figures from a /proc and a /sys tree and remembers the
// CPU counters of its previous call. It is safe for concurrent use.
type Collector struct {
	proc, sys string

	mu      sync.Mutex
	prev    cpuTimes // counters of the previous call
	hasPrev bool
	last    *float64 // the last CPU % computed, reused when no time passed
	hwmon   string   // rpi_volt's in0_lcrit_alarm, "" when absent
	looked  bool     // hwmon was searched
}

// New returns a Collector reading the trees at procRoot and sysRoot
// ("/proc" and "/sys" on a real machine).
func New(procRoot, sysRoot string) *Collector {
	return &Collector{proc: procRoot, sys: sysRoot}
}

var std = New("/proc", "/sys")

// Collect reads this machine's figures. It only reads a few small files
// and never blocks for a sampling period: CPU % is computed from the
// counters of the previous call, so the first call has none. It is safe
// for concurrent use.
func Collect() Figures { return std.Collect() }

// Collect reads the figures of c's trees; see the package-level Collect.
func (c *Collector) Collect() Figures {
	var f Figures
	if t, cpus, ok := readCPU(filepath.Join(c.proc, "stat")); ok {
		f.CPUs = cpus
		f.CPUPercent = c.cpuPercent(t)
	}
	f.Load = readLoad(filepath.Join(c.proc, "loadavg"))
	f.MemUsed, f.MemTotal = readMem(filepath.Join(c.proc, "meminfo"))
	f.TempC = readTemp(filepath.Join(c.sys, "class/thermal/thermal_zone0/temp"))
	f.Throttled = c.throttled()
	return f
}

// cpuTimes is the busy and total jiffies of all CPUs.
type cpuTimes struct{ busy, total uint64 }

// cpuPercent turns counters into a percentage against the previous call's.
func (c *Collector) cpuPercent(t cpuTimes) *float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev, had := c.prev, c.hasPrev
	c.prev, c.hasPrev = t, true
	if !had || t.total < prev.total || t.busy < prev.busy {
		return nil // first call, or the counters went back (another boot)
	}
	if t.total == prev.total {
		return c.last
	}
	p := 100 * float64(t.busy-prev.busy) / float64(t.total-prev.total)
	p = min(max(p, 0), 100)
	c.last = &p
	return c.last
}

// readCPU reads the aggregate "cpu" line of /proc/stat and counts the
// per-CPU lines.
func readCPU(path string) (cpuTimes, int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return cpuTimes{}, 0, false
	}
	var t cpuTimes
	ok, cpus := false, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "cpu") {
			continue
		}
		if fields[0] != "cpu" {
			cpus++
			continue
		}
		t, ok = parseCPULine(fields[1:])
	}
	return t, cpus, ok
}

// parseCPULine reads user nice system idle iowait irq softirq steal
// (guest time is already inside user): idle and iowait are not busy.
func parseCPULine(fields []string) (cpuTimes, bool) {
	if len(fields) < 4 {
		return cpuTimes{}, false
	}
	var t cpuTimes
	for i, s := range fields[:min(len(fields), 8)] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return cpuTimes{}, false
		}
		t.total += v
		if i != 3 && i != 4 {
			t.busy += v
		}
	}
	return t, true
}

// readLoad reads the three load averages of /proc/loadavg.
func readLoad(path string) []float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return nil
	}
	load := make([]float64, 3)
	for i := range load {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil || v < 0 {
			return nil
		}
		load[i] = v
	}
	return load
}

// readMem reads /proc/meminfo: used is MemTotal minus MemAvailable (or,
// on kernels without it, minus MemFree, Buffers and Cached).
func readMem(path string) (used, total uint64) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	kb := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(rest)
		if !ok || len(fields) == 0 {
			continue
		}
		if v, err := strconv.ParseUint(fields[0], 10, 64); err == nil {
			kb[name] = v
		}
	}
	total = kb["MemTotal"]
	if total == 0 {
		return 0, 0
	}
	free, ok := kb["MemAvailable"]
	if !ok {
		free = kb["MemFree"] + kb["Buffers"] + kb["Cached"]
	}
	return (total - min(free, total)) * 1024, total * 1024
}

// readTemp reads a thermal zone's millidegrees; readings outside what a
// sensor can mean (a zone reporting an error code) are left out.
func readTemp(path string) *float64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return nil
	}
	c := float64(v) / 1000
	if c < -60 || c > 200 {
		return nil
	}
	return &c
}
