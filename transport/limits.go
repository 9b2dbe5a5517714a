// This file defines Limits: one process's settings of large messages, as
// the [hub] and [engine] tables of a profile give them.

package transport

import "time"

// Limits are a process's settings of large messages: the size of the
// parts it sends, and the bounds of the messages it reassembles. Zero
// fields take the defaults.
type Limits struct {
	// PartSize is the size of the parts a Link sends; more than the
	// server's max payload allows means the largest the server accepts,
	// less header room (Link.MaxPart). 0 means that largest for messages
	// that fit in one such part, and DefaultPartSize for larger ones.
	PartSize int
	// MaxSender, MaxTotal and Stall are an Assembler's bounds.
	MaxSender int
	MaxTotal  int
	Stall     time.Duration
}

// SetLimits sets a's bounds from l, zero fields meaning the defaults. Call
// it before a receives its first part.
func (a *Assembler) SetLimits(l Limits) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.MaxSender, a.MaxTotal, a.Stall = l.MaxSender, l.MaxTotal, l.Stall
}
