// This file defines the daemon's memory of the direct tasks clients sent
// it, so that a task sent just before a hub crash is neither lost nor run
// twice (SPEC §15: a hub restart loses no work). A message on its way
// through a hub that dies is gone; after the restart each client asks its
// daemons which of its unfinished direct tasks they hold (OpResend with a
// reply) and sends the others again. A task that arrives twice, because
// the first copy was only late, not lost, runs once.

package engine

import "sync"

// seenTasks bounds the direct tasks a daemon remembers: far more than a
// client keeps unfinished on one daemon in practice, and about 4 MiB.
const seenTasks = 1 << 16

// seenKey names a direct task by its sender: task ID of Client, sent by
// client By (By is Client, except for detached tasks, whose Client is
// wire.DetachedClient). Keying by sender means that no other client can
// make the daemon drop a task as a copy by sending one with its id first.
type seenKey = abortKey

// seen is a bounded FIFO set of the direct tasks received. It is safe for
// concurrent use.
type seen struct {
	mu    sync.Mutex
	set   map[seenKey]struct{}
	order []seenKey
}

// add remembers k, forgetting the oldest past seenTasks, and reports
// whether k is new.
func (s *seen) add(k seenKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[k]; ok {
		return false
	}
	if s.set == nil {
		s.set = make(map[seenKey]struct{})
	}
	s.set[k] = struct{}{}
	s.order = append(s.order, k)
	if len(s.order) > seenTasks {
		delete(s.set, s.order[0])
		s.order[0] = seenKey{}
		s.order = s.order[1:]
	}
	return true
}

// has reports whether k was received and is still remembered.
func (s *seen) has(k seenKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.set[k]
	return ok
}
