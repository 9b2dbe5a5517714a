// This file defines how pirun mpi shows its ranks: output lines prefixed
// "[rank 1] " and one line per failed rank.

package api

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// RankFailure is the report of rank's failure te, for pirun mpi's stderr.
func RankFailure(rank int, te *TaskError) string {
	text := te.Backtrace
	if text == "" {
		text = string(te.Kind) + ": " + te.Message
	}
	host := te.Host
	if host == "" {
		host = "a host without a name"
	}
	return fmt.Sprintf("rank %d (engine %d on %s): %s", rank, te.Engine, host, strings.TrimSuffix(text, "\n"))
}

// NewRankWriter returns a RankWriter onto w.
func NewRankWriter(w io.Writer) *RankWriter { return &RankWriter{w: w} }

// RankWriter rewrites the "[engine 3 host] " prefix of streamed output
// lines to "[rank 1] ". It is safe for concurrent use.
type RankWriter struct {
	w     io.Writer
	mu    sync.Mutex
	ranks map[int]int // engine id → rank
}

var engineLine = regexp.MustCompile(`(?m)^\[engine (\d+) [^\]\n]*\] `)

// SetRanks maps engines[rank] to rank.
func (rw *RankWriter) SetRanks(engines []int) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.ranks = make(map[int]int, len(engines))
	for rank, id := range engines {
		rw.ranks[id] = rank
	}
}

func (rw *RankWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	out := engineLine.ReplaceAllFunc(p, func(prefix []byte) []byte {
		id, err := strconv.Atoi(string(engineLine.FindSubmatch(prefix)[1]))
		if rank, ok := rw.ranks[id]; err == nil && ok {
			return []byte("[rank " + strconv.Itoa(rank) + "] ")
		}
		return prefix
	})
	if _, err := rw.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
