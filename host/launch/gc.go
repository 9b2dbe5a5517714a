// This file defines how pirun sets the Go garbage collector: its work is
// building and dropping large Starlark values, where collecting half as
// often is worth more memory, bounded by the machine's own.

package launch

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// gcPercent is GOGC unless the environment sets it: push+pull of a 2M-int
// list takes ~80 ms at 200 against ~100 ms at 100 (issue 7's measurements).
const gcPercent = 200

// hubGCPercent is GOGC for `pirun hub`, which builds no Starlark values but
// relays messages: collecting at twice its live heap rather than three
// times keeps its peak RSS during a 1M-task map at ~37 MB instead of ~46
// (the map is no slower), and its memory after within 10% of idle.
const hubGCPercent = 100

// GCPercentFor returns the GOGC of a pirun run with args.
func GCPercentFor(args []string) int {
	if len(args) > 0 && args[0] == "hub" {
		return hubGCPercent
	}
	return gcPercent
}

// TuneGC sets GOGC to percent and the soft memory limit to half of the
// machine's memory, each unless GOGC or GOMEMLIMIT is set: on a small Pi,
// the limit makes the collector work harder before memory runs out.
func TuneGC(getenv func(string) string, percent int) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
	if getenv("GOMEMLIMIT") == "" {
		if total := memTotal(); total > 0 {
			debug.SetMemoryLimit(total / 2)
		}
	}
}

// memTotal returns the machine's memory in bytes from /proc/meminfo, or 0.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
