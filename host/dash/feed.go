// This file defines the feeds the hub may keep whether or not anyone
// watches: RateMeter (tasks finished per second) and Tail (engine output).

package dash

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// RateMeter counts finished tasks in fixed steps over a window (by default
// 1 s steps over 5 minutes), so the plot has history when a page opens.
// Add costs an atomic add and, once per step, a short lock; it never
// allocates. It is safe for concurrent use.
type RateMeter struct {
	step  time.Duration
	slots []atomic.Uint64 // counts by step number modulo len
	steps []atomic.Int64  // which step number each slot holds
	roll  sync.Mutex      // held while a slot moves to a new step
}

// NewRateMeter returns a meter of window/step samples. A step or window of
// 0 takes the defaults (1 s, 5 min).
func NewRateMeter(step, window time.Duration) *RateMeter {
	if step <= 0 {
		step = time.Second
	}
	if window < step {
		window = 5 * time.Minute
	}
	n := int(window / step)
	return &RateMeter{step: step, slots: make([]atomic.Uint64, n+1), steps: make([]atomic.Int64, n+1)}
}

// Step returns the meter's sampling step.
func (r *RateMeter) Step() time.Duration { return r.step }

// Add counts n tasks finished at now.
func (r *RateMeter) Add(now time.Time, n int) {
	k := now.UnixNano() / int64(r.step)
	i := int(k % int64(len(r.slots)))
	if r.steps[i].Load() != k {
		r.roll.Lock()
		if r.steps[i].Load() != k { // the slot held an older step: start it again
			r.slots[i].Store(0)
			r.steps[i].Store(k)
		}
		r.roll.Unlock()
	}
	r.slots[i].Add(uint64(n))
}

// Samples returns tasks per second in each complete step of the window
// before now, oldest first.
func (r *RateMeter) Samples(now time.Time) []float64 {
	cur := now.UnixNano() / int64(r.step)
	n := len(r.slots) - 1
	out := make([]float64, n)
	for j := range n {
		k := cur - int64(n) + int64(j)
		i := int(k % int64(len(r.slots)))
		if r.steps[i].Load() == k {
			out[j] = float64(r.slots[i].Load()) / r.step.Seconds()
		}
	}
	return out
}

// Tail keeps the last lines each engine printed. Write costs a short lock
// and a copy of each line. It is safe for concurrent use.
type Tail struct {
	max     int // lines kept per engine
	maxLine int // bytes kept per line

	mu    sync.Mutex
	rings map[int]*ring
}

// ring is one engine's last lines: next is where the next line goes.
type ring struct {
	lines []string
	next  int
}

// NewTail returns a Tail keeping n lines per engine (20 when n <= 0).
func NewTail(n int) *Tail {
	if n <= 0 {
		n = 20
	}
	return &Tail{max: n, maxLine: 400, rings: map[int]*ring{}}
}

// Write adds text printed by an engine, split into lines.
func (t *Tail) Write(engine int, text string) {
	text = strings.TrimSuffix(text, "\n")
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rings[engine]
	if r == nil {
		r = &ring{lines: make([]string, 0, t.max)}
		t.rings[engine] = r
	}
	for line := range strings.SplitSeq(text, "\n") {
		if len(line) > t.maxLine {
			line = strings.ToValidUTF8(line[:t.maxLine], "") + "…"
		} else {
			line = strings.Clone(line) // not a view into a big message
		}
		if len(r.lines) < t.max {
			r.lines = append(r.lines, line)
		} else {
			r.lines[r.next] = line
		}
		r.next = (r.next + 1) % t.max
	}
}

// Forget drops an engine's lines (it left the cluster).
func (t *Tail) Forget(engine int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.rings, engine)
}

// Lines returns a copy of every engine's lines, oldest first.
func (t *Tail) Lines() map[int][]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int][]string, len(t.rings))
	for id, r := range t.rings {
		if len(r.lines) < t.max {
			out[id] = append([]string(nil), r.lines...)
		} else {
			out[id] = append(append(make([]string, 0, t.max), r.lines[r.next:]...), r.lines[:r.next]...)
		}
	}
	return out
}
