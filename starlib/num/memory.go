// This file defines the last bound on an array's size where no
// max_array_bytes applies (a host script, the REPL, a notebook): the
// machine's memory, as numpy's MemoryError is.

package num

import (
	"os"
	"strconv"
	"strings"
	"sync"
)

// MachineMemory returns this machine's memory in bytes (MemTotal of
// /proc/meminfo), or 0 where it cannot be read (not Linux). It is read
// once per process.
var MachineMemory = sync.OnceValue(func() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return memTotalOf(string(b))
})

// memTotalOf returns the MemTotal line of a /proc/meminfo text in bytes,
// or 0 if it has none.
func memTotalOf(meminfo string) int64 {
	for line := range strings.Lines(meminfo) {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil || kb <= 0 {
			return 0
		}
		return kb << 10
	}
	return 0
}
