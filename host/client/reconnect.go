// This file defines what a client does when its hub goes away and comes
// back (SPEC §15, a hub restart loses no work): it says so on stderr,
// once each way, then submits again the load-balanced tasks it owns that
// have not finished (the restarted hub's queue is empty) and asks the
// daemons for the results of its direct tasks that were sent while it
// could not receive them. Results that arrive twice are dropped, so each
// is delivered once.

package client

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// lifeState is the client's view of its connection and its unsent task
// records; its fields have their own lock, apart from Client.mu.
type lifeState struct {
	mu      sync.Mutex
	away    bool             // the hub is unreachable now
	events  []wire.TaskEvent // task records not yet sent to the hub
	labels  map[uint64]Sink  // submitted events whose label is read at sending
	history []uint64         // ids of the calls' tasks this client submitted, in order
	// kept: results of its own finished tasks, for get_result (records.go).
	kept      map[uint64][]keptResult
	keptOrder []uint64
	keptBytes int
}

// ReconnectOptions are the nats.Options a client's connection should be
// dialled with so that it outlives a hub restart: it reconnects forever,
// every half second, and buffers what it sends meanwhile.
func ReconnectOptions() []nats.Option {
	return []nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(500 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, 100*time.Millisecond), nats.ReconnectBufSize(32 << 20)}
}

// watchConnection installs the connection's disconnect and reconnect
// handlers.
func (c *Client) watchConnection() {
	c.nc.SetDisconnectErrHandler(func(nc *nats.Conn, err error) {
		select {
		case <-c.closed:
			return
		default:
		}
		if nc.Opts.MaxReconnect == 0 || nc.IsClosed() {
			return // an in-process hub that stops with its run, or the end
		}
		c.life.mu.Lock()
		was := c.life.away
		c.life.away = true
		c.life.mu.Unlock()
		if was {
			return
		}
		why := ""
		if err != nil {
			why = " (" + err.Error() + ")"
		}
		c.say("pirun: lost the connection to the hub" + why + "; waiting for it to come back, tasks in flight will finish after it does")
	})
	c.nc.SetReconnectHandler(func(*nats.Conn) {
		c.life.mu.Lock()
		c.life.away = false
		c.life.mu.Unlock()
		c.reconnects.Add(1)
		c.say("pirun: reconnected to the hub")
		select {
		case <-c.closed:
			return
		default:
		}
		c.wg.Go(c.recover)
	})
}

// sendFailed reports whether a send that began when the client had
// reconnected since reconnects times failed for good: not when the hub is
// away now or the client reconnected since, for then recover submits the
// held tasks again (they may run, and a failure would be false).
func (c *Client) sendFailed(since uint64) bool {
	return !c.hubAway() && c.reconnects.Load() == since
}

// hubAway reports whether the hub is unreachable now.
func (c *Client) hubAway() bool {
	c.life.mu.Lock()
	defer c.life.mu.Unlock()
	return c.life.away || c.nc.IsReconnecting()
}

// say writes a line for the user on stderr (the log without one).
func (c *Client) say(msg string) {
	if c.cfg.Stderr == nil {
		c.log.Warn(msg)
		return
	}
	c.outMu.Lock()
	io.WriteString(c.cfg.Stderr, msg+"\n")
	c.outMu.Unlock()
}

// recover runs after a reconnection: it refreshes the roster, submits
// the unfinished load-balanced tasks again, and asks for lost results.
// The hub drops detached tasks it already finished (their results are
// asked for instead, askDetached), so none of those runs twice.
func (c *Client) recover() { c.recoverLost(true) }

// recoverLost is recover; after results were dropped (catchUp) the hub
// did not restart and still holds every detached task or its result, so
// withDetached false leaves those to askDetached alone. Ordinary
// load-balanced tasks are still submitted again: one whose result was
// dropped after it finished runs a second time (the scheduler keeps no
// record of finished ones).
func (c *Client) recoverLost(withDetached bool) {
	// The results that wait in the client's subscription are not lost:
	// handle them first, or their tasks would be sent again and run
	// twice. Handling a full backlog (DefaultMaxPendingBytes) takes
	// seconds, not fenceWait.
	fctx, fcancel := context.WithTimeout(context.Background(), fenceWait)
	if err := c.fence(fctx); err != nil {
		c.log.Warn("recover lost results", "err", err)
	}
	fcancel()
	c.awaitHub()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	defer cancel()
	c.resubmit(ctx, withDetached)
	if withDetached {
		c.announceDetached()
	}
	c.askResend(nil)
	c.askDetached(ctx)
}

// awaitHub refreshes the roster, asking until the hub answers (for at
// most DefaultWait): a hub that restarts subscribes a moment after it
// accepts connections, and what the client sent again before then would
// be lost.
func (c *Client) awaitHub() {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	defer cancel()
	for {
		_, err := c.refresh(ctx)
		if err == nil {
			return
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			c.log.Warn("refresh the engines after reconnecting", "err", err)
			return
		case <-c.closed:
			return
		}
	}
}

// resubmit sends the hub again every load-balanced task this client has
// sent and not seen finish (detached ones only when withDetached), in
// submission order, grouped by bundle.
func (c *Client) resubmit(ctx context.Context, withDetached bool) {
	c.mu.Lock()
	var runs []unsentRun
	for _, p := range c.pending {
		if !p.lb || p.sent == nil || (p.detached && !withDetached) {
			continue
		}
		u := p.sent
		if n := len(runs); n > 0 && sameBytes(runs[n-1].bundle, u.bundle) {
			runs[n-1].tasks = append(runs[n-1].tasks, u.task)
			continue
		}
		runs = append(runs, unsentRun{tasks: []wire.Task{u.task}, bundle: u.bundle})
	}
	c.mu.Unlock()
	n := 0
	for _, r := range runs {
		// Map order is random: put each run in submission order of ids
		// is not needed, the scheduler runs them as engines free up.
		for i := 0; i < len(r.tasks); i += windowRefill {
			part := r.tasks[i:min(i+windowRefill, len(r.tasks))]
			if err := c.sendBalanced(ctx, slices.Clone(part), r.bundle); err != nil {
				c.log.Warn("submit tasks again after reconnecting", "err", err)
				return
			}
			n += len(part)
		}
	}
	if n > 0 {
		c.log.Debug("submitted unfinished tasks again after the hub came back", "tasks", n)
	}
}

// announceDetached tells the hub again that this client submitted its
// unfinished detached direct tasks: a hub that restarted may never have
// heard (the news died with the old one, or was not yet on its disk), and
// it forwards a detached result only to the client it knows submitted it.
func (c *Client) announceDetached() {
	c.mu.Lock()
	var events []wire.TaskEvent
	for _, p := range c.pending {
		if p.announce == nil {
			continue
		}
		ev := *p.announce
		if l, ok := p.sink.(interface{ Label() string }); ok {
			ev.Label = l.Label()
		}
		events = append(events, ev)
	}
	c.mu.Unlock()
	for len(events) > 0 {
		n := min(len(events), maxRecordBatch)
		if data, err := wire.MarshalMsg(&wire.Records{Client: c.id, Events: events[:n]}); err == nil {
			c.nc.Publish(wire.RecordsFrom(c.id), data)
		}
		events = events[n:]
	}
}

// askResend asks the daemons of the given engines (all engines of
// pending direct tasks when nil) which of this client's unfinished direct
// tasks they received, and sends the others again: a task on its way
// through a hub that crashed is lost, and a daemon runs a task that
// arrives twice once. The daemons also send again the results of this
// client's tasks they still remember (sent while nobody could receive
// them); a detached task's results come from the hub instead.
func (c *Client) askResend(joined []wire.EngineInfo) {
	type asks struct {
		own, detached []uint64
		has           map[uint64]bool // a task on several of its engines is asked once
	}
	c.mu.Lock()
	daemons := make(map[string]*asks)
	for id, p := range c.pending {
		if p.lb || p.watch {
			continue
		}
		for engine := range p.slots {
			e, ok := c.roster[engine]
			if !ok {
				continue
			}
			if joined != nil && !slices.ContainsFunc(joined, func(j wire.EngineInfo) bool { return j.ID == engine }) {
				continue
			}
			a := daemons[e.Daemon]
			if a == nil {
				a = &asks{has: make(map[uint64]bool)}
				daemons[e.Daemon] = a
			}
			if a.has[id] {
				continue
			}
			a.has[id] = true
			if p.detached {
				a.detached = append(a.detached, id)
			} else {
				a.own = append(a.own, id)
			}
		}
	}
	c.mu.Unlock()
	for d, a := range daemons {
		// Not on the caller's goroutine: an event handler must not wait.
		go func() {
			c.checkDirect(d, c.id, a.own)
			c.checkDirect(d, wire.DetachedClient, a.detached)
		}()
	}
}

// askBatch bounds the task ids of one question to a daemon (8 bytes or
// so each, far below a NATS message).
const askBatch = 1 << 14

// checkDirect asks daemon which of the direct tasks ids (of client: this
// client, or wire.DetachedClient for the detached ones it submitted) it
// received, and sends it the others again. A daemon that does not answer
// is gone or not back yet: the hub's event of its engines' loss fails
// their tasks, the one of their joining asks again.
func (c *Client) checkDirect(daemon, client string, ids []uint64) {
	for len(ids) > askBatch {
		c.checkDirect(daemon, client, ids[:askBatch])
		ids = ids[askBatch:]
	}
	if len(ids) == 0 {
		return
	}
	data, err := wire.MarshalMsg(&wire.Control{Op: wire.OpResend, Client: client, Tasks: ids})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultWait)
	defer cancel()
	m, err := c.nc.RequestWithContext(ctx, wire.DaemonControlFrom(daemon, c.id), data)
	var r wire.ControlReply
	if err == nil {
		err = wire.UnmarshalMsg(m.Data, &r)
	}
	if err == nil && r.Error != "" {
		err = errors.New(r.Error)
	}
	if err != nil {
		c.log.Debug("ask a daemon which direct tasks it received", "daemon", daemon, "err", err)
		return
	}
	known := make(map[uint64]bool, len(r.Known))
	for _, id := range r.Known {
		known[id] = true
	}
	lost := slices.DeleteFunc(slices.Clone(ids), func(id uint64) bool { return known[id] })
	if n := c.sendAgain(ctx, daemon, lost); n > 0 {
		c.log.Info("sent again the direct tasks a hub restart lost on their way", "daemon", daemon, "tasks", n)
	}
}

// sendAgain sends daemon again the unfinished direct tasks among ids, to
// those of their engines it runs whose results have not come, and
// returns how many it sent.
func (c *Client) sendAgain(ctx context.Context, daemon string, ids []uint64) int {
	var again []directSent
	c.mu.Lock()
	for _, id := range ids {
		p := c.pending[id]
		if p == nil || p.direct == nil {
			continue
		}
		var targets []int
		for engine := range p.slots {
			if e, ok := c.roster[engine]; ok && e.Daemon == daemon {
				targets = append(targets, engine)
			}
		}
		if len(targets) > 0 {
			ds := *p.direct
			ds.task.Targets = slices.Sorted(slices.Values(targets))
			again = append(again, ds)
		}
	}
	c.mu.Unlock()
	n := 0
	for _, ds := range again {
		select {
		case <-c.closed:
			return n
		default:
		}
		if err := c.SendDirect(ctx, []wire.Task{ds.task}, []wire.Blocks{ds.payload}, ds.bundle); err != nil {
			c.log.Warn("send a direct task again after the hub restarted", "task", ds.task.ID, "err", err)
			continue
		}
		n++
	}
	return n
}

// askDetached asks the hub for the results of this client's unfinished
// detached tasks: it sends those it has and the rest when they come.
func (c *Client) askDetached(ctx context.Context) {
	c.mu.Lock()
	var ids []uint64
	for id, p := range c.pending {
		if p.detached {
			ids = append(ids, id)
		}
	}
	c.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	if _, err := c.Query(ctx, wire.Query{Op: wire.QueryResults, Tasks: ids}); err != nil {
		c.log.Warn("ask the hub for detached results after reconnecting", "err", err)
	}
}
