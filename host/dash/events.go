// This file defines /api/events: server-sent events fed by one ticker
// that runs only while at least one page watches.

package dash

import (
	"net/http"
	"time"
)

// events streams a "status" event with the snapshot's JSON now and then
// each interval, until the client leaves or the server shuts down.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if !s.noQuery(w, r) {
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		plain(w, http.StatusInternalServerError, "pirun dashboard: this connection cannot stream events")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	if r.Method == http.MethodHead {
		return
	}
	ch, stop := s.watch()
	s.reportWatching()
	if ch == nil {
		plain(w, http.StatusServiceUnavailable, "pirun dashboard: shutting down")
		return
	}
	defer stop()
	rc := http.NewResponseController(w)
	data := s.snapshot(false)
	w.Write([]byte("retry: 2000\n"))
	for {
		rc.SetWriteDeadline(time.Now().Add(10 * s.cfg.Interval))
		if !writeEvent(w, data) {
			return
		}
		flusher.Flush()
		select {
		case data = <-ch:
		case <-r.Context().Done():
			return
		case <-s.quit:
			return
		}
	}
}

// writeEvent writes one "status" event; data is one line of JSON.
func writeEvent(w http.ResponseWriter, data []byte) bool {
	if _, err := w.Write([]byte("event: status\ndata: ")); err != nil {
		return false
	}
	if _, err := w.Write(data); err != nil {
		return false
	}
	_, err := w.Write([]byte("\n\n"))
	return err == nil
}

// watch adds a watcher and starts the ticker if it is the first. It
// returns a nil channel once shutdown has begun.
func (s *Server) watch() (<-chan []byte, func()) {
	ch := make(chan []byte, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil
	}
	s.watchers[ch] = struct{}{}
	if !s.ticking {
		s.ticking = true
		s.wg.Go(s.tick)
	}
	return ch, func() {
		s.mu.Lock()
		delete(s.watchers, ch)
		s.mu.Unlock()
	}
}

// tick builds a snapshot each interval and hands it to every watcher,
// replacing one a slow watcher has not taken yet. It ends when nobody
// watches or the server shuts down.
func (s *Server) tick() {
	t := time.NewTicker(s.cfg.Interval)
	defer t.Stop()
	defer s.reportWatching()
	for {
		select {
		case <-s.quit:
		case <-t.C:
		}
		s.mu.Lock()
		if len(s.watchers) == 0 || s.closed {
			s.ticking = false // under the lock that watch takes: a new page starts a new ticker
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		data := s.snapshot(true)
		s.mu.Lock()
		for ch := range s.watchers {
			select {
			case <-ch:
			default:
			}
			ch <- data
		}
		s.mu.Unlock()
	}
}

// reportWatching tells Config.Watching whether the ticker runs now, if
// that changed since it was last told.
func (s *Server) reportWatching() {
	if s.cfg.Watching == nil {
		return
	}
	s.report.Lock()
	defer s.report.Unlock()
	on := s.watching()
	if on != s.reported {
		s.reported = on
		s.cfg.Watching(on)
	}
}

// watching reports whether the ticker runs (for tests).
func (s *Server) watching() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ticking
}
