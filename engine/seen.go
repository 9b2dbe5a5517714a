// This file defines the daemon's memory of the direct tasks clients sent
// it, so that a task sent just before a hub crash is neither lost nor run
// twice (SPEC §15: a hub restart loses no work). A message on its way
// through a hub that dies is gone; after the restart each client asks its
// daemons which of its unfinished direct tasks they hold (OpResend with a
// reply) and sends the others again. A task that arrives twice, because
// the first copy was only late, not lost, runs once.

package engine

import (
	"hash/maphash"
	"sync"
)

// seenTasks bounds the direct tasks a daemon remembers: far more than a
// client keeps unfinished on one daemon in practice, in about 4.5 MiB.
const seenTasks = 1 << 16

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
	set   map[seenRef]struct{}
	order []seenRef
}

func (s *seen) refLocked(k seenKey) seenRef {
	if s.set == nil {
		s.seed = maphash.MakeSeed()
		s.set = make(map[seenRef]struct{})
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
	s.set[r] = struct{}{}
	s.order = append(s.order, r)
	if len(s.order) > seenTasks {
		delete(s.set, s.order[0])
		s.order = s.order[1:]
	}
	return true
}

// has reports whether k was received and is still remembered.
func (s *seen) has(k seenKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.set[s.refLocked(k)]
	return ok
}
