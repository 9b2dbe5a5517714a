// This file defines the daemon's memory of the direct tasks clients sent
// it, so that a task sent just before a hub crash is neither lost nor run
// twice (SPEC §15: a hub restart loses no work). A message on its way
// through a hub that dies is gone; after the restart each client asks its
// daemons which of its unfinished direct tasks they hold (OpResend with a
// reply) and sends the others again. A task that arrives twice, because
// the first copy was only late, not lost, runs once.
//
// A task counts as received while an engine holds it, while the daemon
// still has its result to send again, or for seenSettle after it arrived
// (between those states). A task that finished longer ago and whose
// result the daemon no longer has is forgotten when asked about: its
// result was lost, so the client sends it again and it runs again, rather
// than the client waiting for ever.

package engine

import (
	"hash/maphash"
	"sync"
	"time"
)

// seenTasks bounds the direct tasks a daemon remembers: far more than a
// client keeps unfinished on one daemon in practice, in about 4.5 MiB.
const seenTasks = 1 << 16

// seenSettle is how long after its arrival a task counts as received
// whatever an engine or the daemon's results say: long enough for it to
// get from the network to an engine's queue, or from its engine to the
// daemon's memory of results sent.
const seenSettle = time.Minute

// seenKey names a direct task by its sender: task ID of Client, sent by
// client By (By is Client, except for detached tasks, whose Client is
// wire.DetachedClient). Keying by sender means that no other client can
// make the daemon drop a task as a copy by sending one with its id first.
type seenKey = abortKey

// seenRef is a seenKey as remembered: its two names hashed, so that an
// entry takes 16 bytes, not two copies of 56-byte client ids. Two senders
// collide only if their hashes and a task's random 63-bit id both match.
type seenRef struct{ id, who uint64 }

// seen is a bounded FIFO set of the direct tasks received. It is safe for
// concurrent use.
type seen struct {
	mu    sync.Mutex
	seed  maphash.Seed
	set   map[seenRef]int64 // when it arrived, in Unix nanoseconds
	order []seenRef
}

func (s *seen) refLocked(k seenKey) seenRef {
	if s.set == nil {
		s.seed = maphash.MakeSeed()
		s.set = make(map[seenRef]int64)
	}
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(k.Client)
	h.WriteByte(0)
	h.WriteString(k.By)
	return seenRef{id: k.ID, who: h.Sum64()}
}

// add remembers k, forgetting the oldest past seenTasks, and reports
// whether k is new.
func (s *seen) add(k seenKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.refLocked(k)
	if _, ok := s.set[r]; ok {
		return false
	}
	s.set[r] = time.Now().UnixNano()
	s.order = append(s.order, r)
	for len(s.order) > seenTasks {
		delete(s.set, s.order[0])
		s.order = s.order[1:]
	}
	return true
}

// arrived returns when k arrived, if it is still remembered.
func (s *seen) arrived(k seenKey) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.set[s.refLocked(k)]
	return time.Unix(0, at), ok
}

// has reports whether k was received and is still remembered.
func (s *seen) has(k seenKey) bool {
	_, ok := s.arrived(k)
	return ok
}

// forget forgets k: a copy of it that arrives now runs. Its place in the
// order stays until it ages out (the set is what add and has read).
func (s *seen) forget(k seenKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.set, s.refLocked(k))
}
