// This file defines Snapshot, the plain data the hub hands the dashboard,
// and how it is completed before it is sent.

package dash

import (
	"cmp"
	"slices"
	"time"
)

// Source gives the dashboard the cluster's state. Snapshot is called only
// while someone watches (at most about once a second per open page, and
// once per API request), from the server's goroutines: it must be safe
// for concurrent use and should not block for long. The Snapshot returned
// becomes the dashboard's; the source must not change it afterwards.
type Source interface {
	Snapshot() Snapshot
}

// SourceFunc adapts a function to Source.
type SourceFunc func() Snapshot

// Snapshot returns f().
func (f SourceFunc) Snapshot() Snapshot { return f() }

// Snapshot is the cluster at one moment, as GET /api/status returns it.
// The dashboard fills Time, the throttle flag names, the summary counts,
// Rate (from Config.Rate when set) and Output (from Config.Tail when set);
// the source fills the rest.
type Snapshot struct {
	Time    time.Time `json:"time"`
	Hub     string    `json:"hub,omitempty"` // the hub's id or address, shown in the title
	Summary Summary   `json:"summary"`
	Engines []Engine  `json:"engines"`
	Hosts   []Host    `json:"hosts"`
	Jobs    []Job     `json:"jobs"`
	// Rate is tasks finished per second, one sample per RateStep seconds,
	// oldest first, the last one being the latest complete step.
	Rate     []float64 `json:"rate"`
	RateStep float64   `json:"rate_step_s"`
	// Output is the last lines each engine printed, by engine id.
	Output map[int][]string `json:"output"`
}

// Summary is the counts shown at the top of the page. The dashboard fills
// every field but Unassigned, which the source sets.
type Summary struct {
	Engines    int     `json:"engines"`
	Hosts      int     `json:"hosts"`
	Busy       int     `json:"busy"`
	Queued     int     `json:"queued"`     // waiting in engines' queues
	Unassigned int     `json:"unassigned"` // load-balanced, not yet sent to an engine
	Done       uint64  `json:"done"`
	Errors     uint64  `json:"errors"`
	Jobs       int     `json:"jobs"`
	Rate       float64 `json:"rate"` // tasks/s in the latest complete step
}

// Engine is one engine's row.
type Engine struct {
	ID    int    `json:"id"`
	Host  string `json:"host"`
	Name  string `json:"name,omitempty"`
	Arch  string `json:"arch"`  // GOOS/GOARCH[/vGOARM]
	State string `json:"state"` // idle, busy, stopping, lost or unknown
	// Task labels the running task ("" when idle); TaskAge is how long it
	// has run, in seconds.
	Task    string  `json:"task"`
	TaskAge float64 `json:"task_age_s"`
	Queue   int     `json:"queue"`
	Done    uint64  `json:"done"`
	Errors  uint64  `json:"errors"`
	Uptime  float64 `json:"uptime_s,omitempty"`
}

// Host is one machine's figures, from its engine daemon's heartbeat.
// Optional figures are nil when the machine has no source for them.
type Host struct {
	Host       string   `json:"host"`
	Arch       string   `json:"arch,omitempty"`
	Engines    int      `json:"engines"` // filled by the dashboard from Engines
	CPUs       int      `json:"cpus,omitempty"`
	CPUPercent *float64 `json:"cpu_percent,omitempty"`
	Load1      *float64 `json:"load1,omitempty"`
	Load5      *float64 `json:"load5,omitempty"`
	Load15     *float64 `json:"load15,omitempty"`
	MemUsed    uint64   `json:"mem_used,omitempty"` // bytes
	MemTotal   uint64   `json:"mem_total,omitempty"`
	TempC      *float64 `json:"temp_c,omitempty"`
	// Throttled is the Raspberry Pi firmware's word (`vcgencmd
	// get_throttled` bits); the dashboard names its set bits in
	// ThrottleFlags.
	Throttled     *uint32  `json:"throttled,omitempty"`
	ThrottleFlags []string `json:"throttle_flags,omitempty"`
	Age           float64  `json:"age_s,omitempty"` // seconds since the figures were read
}

// Job is one submission in flight: a map, an apply to a view, an SPMD run.
type Job struct {
	ID     string  `json:"id"`
	Client string  `json:"client"`          // who submitted it
	Label  string  `json:"label,omitempty"` // what it runs, e.g. "map(f, 10000 items)"
	Done   int     `json:"done"`
	Total  int     `json:"total"`
	Failed int     `json:"failed"`
	Age    float64 `json:"age_s"` // seconds since it was submitted
}

// throttleNames are the Raspberry Pi firmware's bits, as `vcgencmd
// get_throttled` documents them.
var throttleNames = []struct {
	bit  uint32
	name string
}{
	{1 << 0, "under-voltage"},
	{1 << 1, "frequency capped"},
	{1 << 2, "throttled"},
	{1 << 3, "soft temperature limit"},
	{1 << 16, "under-voltage since boot"},
	{1 << 17, "frequency capped since boot"},
	{1 << 18, "throttled since boot"},
	{1 << 19, "soft temperature limit since boot"},
}

// ThrottleFlags names the set bits of a Raspberry Pi firmware throttling
// word, current conditions first.
func ThrottleFlags(word uint32) []string {
	var names []string
	for _, t := range throttleNames {
		if word&t.bit != 0 {
			names = append(names, t.name)
		}
	}
	return names
}

// complete fills what the dashboard derives: sorted rows, non-nil lists,
// the summary counts, throttle names, and the feeds' rate and output.
func (s *Snapshot) complete(now time.Time, rate *RateMeter, tail *Tail) {
	s.Time = now.UTC()
	s.Engines = nonNil(s.Engines)
	s.Hosts = nonNil(s.Hosts)
	s.Jobs = nonNil(s.Jobs)
	slices.SortFunc(s.Engines, func(a, b Engine) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Hosts, func(a, b Host) int { return cmp.Compare(a.Host, b.Host) })
	if rate != nil {
		s.Rate, s.RateStep = rate.Samples(now), rate.Step().Seconds()
	}
	s.Rate = nonNil(s.Rate)
	if tail != nil {
		s.Output = tail.Lines()
	}
	if s.Output == nil {
		s.Output = map[int][]string{}
	}
	s.summarize()
}

// summarize counts engines, hosts and work into s.Summary.
func (s *Snapshot) summarize() {
	sum := Summary{Unassigned: s.Summary.Unassigned, Engines: len(s.Engines), Jobs: len(s.Jobs)}
	perHost := map[string]int{}
	for _, e := range s.Engines {
		perHost[e.Host]++
		sum.Queued += e.Queue
		sum.Done += e.Done
		sum.Errors += e.Errors
		if e.State == "busy" {
			sum.Busy++
		}
	}
	for i := range s.Hosts {
		h := &s.Hosts[i]
		h.Engines = perHost[h.Host]
		if h.Throttled != nil {
			h.ThrottleFlags = ThrottleFlags(*h.Throttled)
		}
	}
	sum.Hosts = max(len(s.Hosts), len(perHost))
	if n := len(s.Rate); n > 0 {
		sum.Rate = s.Rate[n-1]
	}
	s.Summary = sum
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
