// This file defines the daemon's publisher: the one goroutine that sends
// results, print output and scheduler acknowledgements, batching whatever
// is ready so that a busy daemon sends one message per batch, not per task.

package engine

import (
	"context"
	"sync"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// outItem is a result or a piece of output waiting to be sent.
type outItem struct {
	task   *wire.Task
	res    wire.Result
	value  wire.Blocks // the encoded value of res, in place of res.Value
	out    *wire.Output
	engine int
}

type publisher struct {
	d  *Daemon
	ch chan outItem

	// A round's results per client and scheduler acknowledgements per
	// engine, kept from one round to the next for their memory; only
	// run's goroutine uses them.
	results map[string]*clientResults
	done    map[int][]wire.TaskRef

	sent recent // results sent, for OpResend (resend.go)

	// Resends in flight (resend.go): wg holds them, run waits for them.
	mu        sync.Mutex
	wg        sync.WaitGroup
	quit      chan struct{}   // closed when run stops: resends give up
	stopped   bool            // quit is closed: no resend starts
	resending map[string]bool // askers (asker/client) with a resend in flight
}

// maxBatch bounds the items gathered into one round of messages.
const maxBatch = 512

func newPublisher(d *Daemon) *publisher {
	return &publisher{d: d, ch: make(chan outItem, 4096), quit: make(chan struct{})}
}

// result queues t's result. It blocks when the publisher is far behind,
// which slows the engines down instead of growing memory.
func (p *publisher) result(t *wire.Task, res wire.Result) {
	p.resultBlocks(t, res, nil)
}

// resultBlocks queues t's result whose encoded value, if not nil, is in
// value (sent without being copied into one slice).
func (p *publisher) resultBlocks(t *wire.Task, res wire.Result, value wire.Blocks) {
	p.queue(p.keep(t, res, value))
}

// keep remembers t's result for OpResend, before it is queued: a daemon
// answers for a finished task whose result waits behind others (seen.go),
// from the moment its engine no longer holds it.
func (p *publisher) keep(t *wire.Task, res wire.Result, value wire.Blocks) outItem {
	it := outItem{task: t, res: res, value: value, engine: res.Engine}
	if t.Client != "" { // startup code: nobody waits for it
		p.sent.add(it)
	}
	return it
}

// queue queues an item kept.
func (p *publisher) queue(it outItem) { p.ch <- it }

// output queues a piece of t's print output.
func (p *publisher) output(t *wire.Task, engine int, text string) {
	p.ch <- outItem{task: t, out: &wire.Output{Task: t.ID, Engine: engine, Host: p.d.host, Text: text}}
}

// run sends queued items until ctx is done, then sends what is left.
func (p *publisher) run(ctx context.Context) {
	for {
		select {
		case it := <-p.ch:
			p.round(it)
		case <-ctx.Done():
			p.stopResends()
			for {
				select {
				case it := <-p.ch:
					p.round(it)
				default:
					return
				}
			}
		}
	}
}

// round sends first and whatever else is queued right now. Output goes out
// at once, in order; results are grouped per client after it, so a task's
// output always reaches the client before its result.
func (p *publisher) round(first outItem) {
	if p.results == nil {
		p.results, p.done = make(map[string]*clientResults), make(map[int][]wire.TaskRef)
	}
	results, done := p.results, p.done
	add := func(it outItem) {
		if it.task.Client == "" { // startup code: nobody waits for it
			p.local(it)
			return
		}
		if it.out != nil {
			p.send(wire.ClientOutputFrom(it.task.Client, p.d.id), it.out)
			return
		}
		cr := results[it.task.Client]
		if cr == nil {
			cr = &clientResults{}
			results[it.task.Client] = cr
		}
		cr.rs.Results = append(cr.rs.Results, it.res)
		cr.values = append(cr.values, it.value)
		if it.task.Balanced {
			done[it.engine] = append(done[it.engine], wire.TaskRef{Client: it.task.Client, ID: it.task.ID})
		}
	}
	add(first)
	for n := 1; n < maxBatch; n++ {
		select {
		case it := <-p.ch:
			add(it)
			continue
		default:
		}
		break
	}
	for client, cr := range results {
		if len(cr.rs.Results) == 0 { // none for this client this round
			delete(results, client)
			continue
		}
		p.sendResults(wire.ClientResultsFrom(client, p.d.id), cr)
		cr.reset()
	}
	for engine, refs := range done {
		if len(refs) == 0 {
			delete(done, engine)
			continue
		}
		p.send(wire.DoneFrom(p.d.id), &wire.Done{Engine: engine, Tasks: refs})
		clear(refs)
		done[engine] = refs[:0]
	}
}

// send encodes and publishes one message, in parts if it is large.
func (p *publisher) send(subject string, msg any) {
	data, err := wire.MarshalMsg(msg)
	if err != nil {
		p.d.log.Error("encode message", "subject", subject, "err", err)
		return
	}
	if err := p.d.link.SendData(context.Background(), subject, data); err != nil {
		p.d.log.Warn("publish", "subject", subject, "bytes", len(data), "err", err)
	}
}

// clientResults is the results for one client, with their encoded values.
type clientResults struct {
	rs     wire.Results
	values []wire.Blocks
}

// reset empties cr once it was sent, keeping its memory but no reference
// to the values.
func (cr *clientResults) reset() {
	clear(cr.rs.Results)
	clear(cr.values)
	cr.rs.Results, cr.values = cr.rs.Results[:0], cr.values[:0]
}

// sendResults encodes and publishes results, their values uncopied.
func (p *publisher) sendResults(subject string, cr *clientResults) {
	data, err := wire.MarshalResultsBlocks(&cr.rs, cr.values, p.d.maxChunk)
	if err != nil {
		p.d.log.Error("encode message", "subject", subject, "err", err)
		return
	}
	if err := p.d.link.SendBlocks(context.Background(), subject, data); err != nil {
		p.d.log.Warn("publish", "subject", subject, "bytes", data.Len(), "err", err)
	}
}

// local logs the output and failures of tasks no client sent (startup code).
func (p *publisher) local(it outItem) {
	switch {
	case it.out != nil:
		p.d.log.Info("startup output", "engine", it.out.Engine, "text", it.out.Text)
	case it.res.Err != nil:
		p.d.log.Error("startup code failed", "engine", it.engine, "task", it.task.Label,
			"err", it.res.Err.Message, "backtrace", it.res.Err.Backtrace)
	}
}
