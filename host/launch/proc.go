// This file defines Process: a pid together with the process's start
// time, so that a recorded process is never confused with a later one that
// reuses its pid.

package launch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// Process identifies a process across pid reuse. Start is an opaque stamp
// of when it started (on Linux the boot id and the start time in clock
// ticks from /proc; elsewhere what `ps -o lstart=` prints). It is plain
// data.
type Process struct {
	PID   int    `json:"pid"`
	Start string `json:"start"`
}

// ErrGone means a recorded process no longer runs: it exited, or its pid
// now belongs to another process.
var ErrGone = errors.New("process gone")

// Self returns the calling process.
func Self() (Process, error) { return Find(os.Getpid()) }

// Find returns the running process pid. A zombie counts as gone.
func Find(pid int) (Process, error) {
	if pid <= 0 {
		return Process{}, fmt.Errorf("process %d: %w", pid, ErrGone)
	}
	start, err := startStamp(pid)
	if err != nil {
		return Process{}, err
	}
	return Process{PID: pid, Start: start}, nil
}

// Running reports whether p still runs: its pid exists, is no zombie and
// started when p did.
func (p Process) Running() bool {
	q, err := Find(p.PID)
	return err == nil && p.Start != "" && q.Start == p.Start
}

// Signal sends sig to p when it still runs, else returns an error for
// which errors.Is(err, ErrGone) holds.
func (p Process) Signal(sig syscall.Signal) error {
	if !p.Running() {
		return fmt.Errorf("process %d: %w", p.PID, ErrGone)
	}
	if err := syscall.Kill(p.PID, sig); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("process %d: %w", p.PID, ErrGone)
		}
		return fmt.Errorf("signal process %d: %w", p.PID, err)
	}
	return nil
}

// startStamp returns the start stamp of pid, from /proc when it exists.
func startStamp(pid int) (string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err == nil {
		return procStamp(pid, data)
	}
	if _, serr := os.Stat("/proc/self/stat"); serr == nil {
		return "", fmt.Errorf("process %d: %w", pid, ErrGone)
	}
	return psStamp(pid)
}

// procStamp reads the state and start time of /proc/PID/stat, whose
// second field (the command) may hold spaces and parentheses.
func procStamp(pid int, stat []byte) (string, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return "", fmt.Errorf("process %d: unexpected /proc/%d/stat", pid, pid)
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); field 22 (starttime) is f[19].
	if len(f) < 20 {
		return "", fmt.Errorf("process %d: unexpected /proc/%d/stat", pid, pid)
	}
	if f[0] == "Z" || f[0] == "X" {
		return "", fmt.Errorf("process %d: %w", pid, ErrGone)
	}
	boot, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(boot)) + "/" + f[19], nil
}

// psStamp asks ps, where there is no /proc.
func psStamp(pid int) (string, error) {
	out, err := exec.Command("ps", "-o", "stat=", "-o", "lstart=", "-p", strconv.Itoa(pid)).Output()
	s := strings.TrimSpace(string(out))
	if err != nil || s == "" || strings.HasPrefix(s, "Z") {
		return "", fmt.Errorf("process %d: %w", pid, ErrGone)
	}
	_, start, _ := strings.Cut(s, " ")
	return strings.TrimSpace(start), nil
}
