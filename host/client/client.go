// This file defines Client: one connection to a hub in the client role,
// the routing of results and streamed output to AsyncResults, and the
// roster of live engines kept current by the hub's events.

package client

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/ship"
	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

// Config configures a Client.
type Config struct {
	Output  io.Writer     // where streamed engine output goes; nil = nowhere
	Stderr  io.Writer     // where progress bars go; nil = nowhere
	Quiet   bool          // do not stream engine output
	Sources *ship.Sources // texts of the code the host runs; nil = a new registry
	Hint    string        // how to start engines, for NoEnginesError
	// Identity is the key the connection proved itself with; its public
	// key is the client's id, to which the hub pins the client's
	// subscriptions. nil = a fresh random id (a hub without
	// authentication).
	Identity *transport.Identity
	// MaxPending and MaxPendingBytes bound what the client has received
	// and not handled yet (inbox.go); 0 = DefaultMaxPending and
	// DefaultMaxPendingBytes.
	MaxPending, MaxPendingBytes int
}

// Client is a connection to a hub. It is safe for concurrent use.
type Client struct {
	cfg     Config
	log     *slog.Logger
	nc      *nats.Conn
	id      string
	out     *transport.Link
	asm     transport.Assembler
	sources *ship.Sources

	// sub receives every subject of the client's own, in arrival order
	// and bounded in messages and bytes (inbox.go); slowing is set while
	// the client catches up after nats.go dropped some of them.
	sub     *nats.Subscription
	slowing atomic.Bool
	fences  fences // markers sent through sub (fence.go)
	// reconnects counts reconnections to the hub (reconnect.go).
	reconnects atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]*pendingTask
	jobs    map[Sink]*job // the calls of pending, for job reports (jobs.go)
	window  lbWindow
	roster  map[int]wire.EngineInfo
	epoch   uint64        // the hub's roster version the roster reflects
	changed chan struct{} // closed and replaced when the roster changes
	outMu   sync.Mutex

	life lifeState // reconnection and task records (reconnect.go, records.go)

	closed    chan struct{} // closed by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // the window's sender
}

// A Sink receives the results of the tasks it was tracked for: slot is
// the slot Track gave the result's engine. Complete is called once per
// slot, without the client's lock held.
type Sink interface {
	Complete(slot int, r wire.Result)
}

// pendingTask routes a task's results to its Sink (an AsyncResult).
type pendingTask struct {
	sink  Sink
	slots map[int]int // engine id → slot; engine -1 for load-balanced tasks
	lb    bool
	held  int // load-balanced: payload bytes it holds in the window once sent, else -1
	// sent is a load-balanced task as submitted, kept while it is
	// unfinished to submit it again after a hub restart (reconnect.go).
	sent *unsent
	// direct is a direct task as sent, kept while it is unfinished to
	// send it again when a hub crash lost it on its way (reconnect.go).
	direct *directSent
	// detached: submitted with detached=True, its results come from the hub.
	detached bool
	// announce is a detached direct task's submission as told to the hub,
	// told again after a reconnection (reconnect.go).
	announce *wire.TaskEvent
	// watch: another client's detached task whose results this client
	// fetches (FetchResults); it never aborts or resubmits it.
	watch bool
	// gone: engine → daemon of its engines the hub said are gone, whose
	// results sent before may still come (failEngines).
	gone map[int]string
}

// Connect makes a Client on the connection nc, which it owns from now on.
func Connect(ctx context.Context, nc *nats.Conn, cfg Config, log *slog.Logger) (*Client, error) {
	id := wire.NewID()
	if cfg.Identity != nil {
		id = cfg.Identity.ID()
	}
	c := &Client{cfg: cfg, log: log, nc: nc, id: id, pending: make(map[uint64]*pendingTask),
		roster: make(map[int]wire.EngineInfo), changed: make(chan struct{}), sources: cfg.Sources,
		closed: make(chan struct{})}
	if c.sources == nil {
		c.sources = new(ship.Sources)
	}
	c.out = transport.New(nc, c.id, wire.ClientAcks(c.id))
	if err := c.subscribe(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect client: %w", err)
	}
	if _, err := nc.Subscribe(wire.SubjectEvents, c.onEvent); err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect client: %w", err)
	}
	if err := checkAllowed(nc); err != nil {
		nc.Close()
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, DefaultWait)
	defer cancel()
	if _, err := c.refresh(rctx); err != nil {
		nc.Close()
		return nil, err
	}
	c.wg.Go(c.reportJobs)
	c.wg.Go(c.reportRecords)
	c.watchConnection()
	return c, nil
}

// checkAllowed waits for the server to have seen the client's
// subscriptions and reports a permissions violation: credentials of
// another role, such as an engine's connection file relabelled.
func checkAllowed(nc *nats.Conn) error {
	if err := nc.FlushTimeout(DefaultWait); err != nil {
		return &ClusterError{Msg: "connect to the hub: " + err.Error()}
	}
	if err := nc.LastError(); errors.Is(err, nats.ErrPermissionViolation) {
		return &ClusterError{Msg: "the hub does not let these credentials act as a client (" + err.Error() +
			"): use the hub's security/client-connection.toml, not an engine's"}
	}
	return nil
}

// Close aborts nothing and drops the connection. Pending results are
// lost, and load-balanced tasks not yet submitted are never sent. It is
// idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.flushRecords(true) // the hub's records of its last tasks, on disk
	})
	c.nc.Close()
	c.wg.Wait()
	return nil
}

// Sources returns the registry of source texts this client ships from.
func (c *Client) Sources() *ship.Sources { return c.sources }

// Query asks the hub q.
func (c *Client) Query(ctx context.Context, q wire.Query) (*wire.QueryReply, error) {
	q.Client = c.id
	data, err := wire.MarshalMsg(&q)
	if err != nil {
		return nil, err
	}
	m, err := c.nc.RequestWithContext(ctx, wire.SubjectQuery, data)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, &ClusterError{Msg: "no pirun hub answers on this connection; is the hub running? (pirun hub)"}
		}
		return nil, &ClusterError{Msg: "ask the hub: " + err.Error()}
	}
	var r wire.QueryReply
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
		return nil, &ClusterError{Msg: "hub's answer: " + err.Error()}
	}
	if r.Error != "" {
		return nil, errors.New(r.Error)
	}
	return &r, nil
}

// refresh replaces the roster with the hub's list and returns the ids.
func (c *Client) refresh(ctx context.Context) ([]int, error) {
	r, err := c.Query(ctx, wire.Query{Op: wire.QueryEngines})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Epoch >= c.epoch { // else an event already brought newer news
		c.epoch = r.Epoch
		c.roster = make(map[int]wire.EngineInfo, len(r.Engines))
		for _, e := range r.Engines {
			c.roster[e.ID] = e
		}
		c.notifyLocked()
	}
	return c.idsLocked(), nil
}

func (c *Client) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// IDs returns the ids of the live engines, in order, as the hub says.
func (c *Client) IDs(ctx context.Context) ([]int, error) { return c.refresh(ctx) }

// KnownIDs returns the ids in the roster without asking the hub.
func (c *Client) KnownIDs() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.idsLocked()
}

func (c *Client) idsLocked() []int {
	ids := make([]int, 0, len(c.roster))
	for id := range c.roster {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// WaitForEngines blocks until at least n engines are connected.
func (c *Client) WaitForEngines(ctx context.Context, n int) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultWait)
	_, err := c.refresh(rctx)
	cancel()
	if err != nil {
		return err
	}
	for {
		c.mu.Lock()
		have, changed := len(c.roster), c.changed
		c.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return &NoEnginesError{Want: n, Have: have, Hint: c.cfg.Hint, Cause: context.Cause(ctx)}
		}
	}
}

func (c *Client) onEvent(m *nats.Msg) {
	var ev wire.Event
	if err := wire.UnmarshalMsg(m.Data, &ev); err != nil {
		c.log.Warn("drop a malformed event", "err", err)
		return
	}
	var gone []wire.EngineInfo
	if ev.Kind != wire.EventJoined {
		gone = ev.Engines
	}
	c.mu.Lock()
	if ev.Epoch == 0 || ev.Epoch > c.epoch { // else the roster already reflects it
		c.epoch = max(c.epoch, ev.Epoch)
		for _, e := range ev.Engines {
			if ev.Kind == wire.EventJoined {
				c.roster[e.ID] = e
			} else {
				delete(c.roster, e.ID)
			}
		}
		c.notifyLocked()
	}
	c.mu.Unlock()
	if ev.Kind == wire.EventJoined {
		c.askResend(ev.Engines)
	}
	if len(gone) > 0 {
		why := "died or was lost"
		if ev.Kind == wire.EventStopped {
			why = "was shut down"
		}
		c.failEngines(gone, why)
	}
}

// failEngines fails the pending direct tasks of engines that are gone.
// Results their daemons sent before may still wait in the client's
// subscription (the hub's event comes on another): it handles those
// first (a fence), taking them from the engines' daemons although the
// roster no longer has them, and fails the tasks still pending after.
func (c *Client) failEngines(engines []wire.EngineInfo, why string) {
	type slot struct {
		p      *pendingTask
		id     uint64
		engine int
	}
	var lost []slot
	c.mu.Lock()
	for id, p := range c.pending {
		if p.lb {
			continue // the hub's scheduler retries or fails those
		}
		for _, e := range engines {
			if _, ok := p.slots[e.ID]; ok {
				if p.gone == nil {
					p.gone = make(map[int]string)
				}
				p.gone[e.ID] = e.Daemon
				lost = append(lost, slot{p, id, e.ID})
			}
		}
	}
	c.mu.Unlock()
	if len(lost) == 0 {
		return
	}
	// Not on the event handler's goroutine, which must not wait; it ends
	// at once when the client closes.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), fenceWait)
		if err := c.fence(ctx); err != nil {
			c.log.Debug("fail the tasks of engines gone", "err", err)
		}
		cancel()
		select {
		case <-c.closed:
			return // nobody waits for them any more
		default:
		}
		c.mu.Lock()
		var fails []func()
		select {
		case <-c.closed:
			lost = nil // closed meanwhile
		default:
		}
		for _, s := range lost {
			if _, ok := s.p.slots[s.engine]; !ok || c.pending[s.id] != s.p {
				continue // its result came
			}
			r := wire.Result{Task: s.id, Engine: s.engine, Status: wire.StatusLost,
				Err: &wire.Error{Type: wire.EngineError, Message: fmt.Sprintf("engine %d %s while the task was queued or running", s.engine, why)}}
			if f := c.deliverLocked(r); f != nil {
				fails = append(fails, f)
			}
		}
		c.refillLocked()
		c.mu.Unlock()
		for _, f := range fails {
			f()
		}
	}()
}

// sender returns the daemon that sent m: the last token of a subject of
// ClientResultsFrom or ClientOutputFrom, which the hub lets only that
// daemon publish on; "" for the hub's own ClientResults.
func (c *Client) sender(m *nats.Msg) string {
	if m.Subject == wire.ClientResults(c.id) {
		return ""
	}
	return wire.LastToken(m.Subject)
}

// onOutput streams an engine's print, reassembled when it came in parts,
// if its daemon runs the engine.
func (c *Client) onOutput(m *nats.Msg) {
	data, err := transport.Receive(c.nc, &c.asm, m, senderOf(c.sender(m))) // a large print comes in parts
	if err != nil {
		c.log.Warn("drop a large print", "err", err)
	}
	if data == nil {
		return
	}
	var o wire.Output
	if err := wire.UnmarshalMsg(data, &o); err == nil && c.sentBy(o.Task, o.Engine, c.sender(m)) {
		c.stream(o)
	}
}

// onResults delivers a batch of results, reassembled when it came in
// parts.
func (c *Client) onResults(m *nats.Msg) {
	data, err := transport.Receive(c.nc, &c.asm, m, senderOf(c.sender(m)))
	if err != nil {
		c.log.Warn("drop a large result", "err", err)
	}
	if data == nil {
		return
	}
	var rs wire.Results
	if err := wire.UnmarshalMsg(data, &rs); err != nil {
		c.log.Warn("drop malformed results", "err", err)
		return
	}
	c.deliver(rs.Results, c.sender(m))
}

// sentBy reports whether engine belongs to daemon in the roster, or did
// when the hub said it is gone and task was on it.
func (c *Client) sentBy(task uint64, engine int, daemon string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.roster[engine]; ok && e.Daemon == daemon {
		return true
	}
	p := c.pending[task] // an engine gone whose output and result may still come (failEngines)
	return p != nil && p.gone[engine] == daemon && daemon != ""
}

// stream writes an engine's print output with its engine prefix.
func (c *Client) stream(o wire.Output) {
	if c.cfg.Quiet || c.cfg.Output == nil {
		return
	}
	prefix := fmt.Sprintf("[engine %d %s] ", o.Engine, o.Host)
	var b strings.Builder
	for line := range strings.Lines(o.Text) {
		b.WriteString(prefix)
		b.WriteString(line)
	}
	if !strings.HasSuffix(o.Text, "\n") {
		b.WriteByte('\n')
	}
	c.outMu.Lock()
	io.WriteString(c.cfg.Output, b.String())
	c.outMu.Unlock()
}

// deliver completes the tasks of results rs that daemon sent ("" for the
// hub). A result is accepted only from the daemon the task was given to:
// for a direct task, the daemon of its engine in the roster; for a
// load-balanced one, a daemon the hub gave it to, the only ones that know
// its random id besides the hub (an engine reads no other daemon's tasks).
func (c *Client) deliver(rs []wire.Result, daemon string) {
	c.mu.Lock()
	fs := make([]func(), 0, len(rs))
	for _, r := range rs {
		if p := c.pending[r.Task]; daemon != "" && p != nil {
			// A load-balanced task may run on an engine whose joining the
			// client has not heard of yet.
			if e, ok := c.roster[r.Engine]; (ok || !p.lb) && e.Daemon != daemon && p.gone[r.Engine] != daemon {
				c.log.Warn("drop a result from a daemon the task was not given to", "task", r.Task, "engine", r.Engine, "daemon", daemon)
				continue
			}
		}
		if f := c.deliverLocked(r); f != nil {
			fs = append(fs, f)
		}
	}
	c.refillLocked()
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// deliverLocked removes r's slot from pending and returns the call that
// completes it (made without c.mu), or nil for an unknown or late result.
func (c *Client) deliverLocked(r wire.Result) func() {
	p := c.pending[r.Task]
	if p == nil {
		return nil
	}
	key := r.Engine
	if p.lb {
		key = -1
	}
	slot, ok := p.slots[key]
	if !ok {
		return nil // a second answer for the same task: dropped
	}
	if r.Status != wire.StatusOK {
		c.failedLocked(p.sink)
	}
	if !p.watch {
		c.recordLocked(wire.TaskEvent{Task: r.Task, Engine: r.Engine, Status: r.Status, Time: r.Finished, Started: r.Started}, nil)
		c.keepResultLocked(r)
	}
	delete(p.slots, key)
	if len(p.slots) == 0 {
		delete(c.pending, r.Task)
		c.window.done(p)
	}
	return func() { p.sink.Complete(slot, r) }
}

// Track records where the results of task id go. For direct tasks it
// fails at once when an engine is no longer in the roster.
func (c *Client) Track(id uint64, sink Sink, slots map[int]int, lb bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !lb {
		for engine := range slots {
			if _, ok := c.roster[engine]; !ok {
				return &EngineGoneError{ID: engine}
			}
		}
	}
	c.pending[id] = &pendingTask{sink: sink, slots: slots, lb: lb, held: -1}
	c.trackJobLocked(id, sink)
	c.recordSubmitLocked(id, sink, slots, lb)
	return nil
}

// Untrack forgets a task whose sending failed.
func (c *Client) Untrack(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// SinkOf returns the Sink of an unfinished task of this client, or nil.
func (c *Client) SinkOf(id uint64) Sink {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pending[id]; ok {
		return p.sink
	}
	return nil
}

// NextID returns a fresh task id: 63 random bits, so that no daemon can
// guess the id of a task it was not given and answer for it.
func (c *Client) NextID() uint64 {
	var b [8]byte
	for {
		rand.Read(b[:]) // never fails (crypto/rand)
		if id := binary.LittleEndian.Uint64(b[:]) >> 1; id != 0 {
			return id
		}
	}
}

// DaemonOf returns the daemon running engine id.
func (c *Client) DaemonOf(id int) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.roster[id]
	if !ok {
		return "", &EngineGoneError{ID: id}
	}
	return e.Daemon, nil
}

// EngineInfo returns what the roster knows of engine id.
func (c *Client) EngineInfo(id int) (wire.EngineInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.roster[id]
	return e, ok
}

// AbortPending aborts every task of this client that has not finished
// (after Ctrl-C), on the engines and in the scheduler.
func (c *Client) AbortPending() { c.abortWhere(func(uint64, int) bool { return true }) }

// AbortOn aborts this client's unfinished direct tasks on the given
// engines (load-balanced tasks are the scheduler's: see AbortTasks).
func (c *Client) AbortOn(engines []int) {
	c.abortWhere(func(_ uint64, engine int) bool { return engine >= 0 && slices.Contains(engines, engine) })
}

// AbortTasks aborts this client's unfinished tasks with the given ids,
// wherever they are; it reports the ids it does not know (finished, or
// never this client's).
func (c *Client) AbortTasks(ids []uint64) (unknown []uint64) {
	c.mu.Lock()
	for _, id := range ids {
		if _, ok := c.pending[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	c.mu.Unlock()
	c.abortWhere(func(id uint64, _ int) bool { return slices.Contains(ids, id) })
	return unknown
}

// abortWhere aborts the pending tasks for which keep(task, engine) holds
// (engine -1 for a load-balanced task).
func (c *Client) abortWhere(keep func(id uint64, engine int) bool) {
	c.mu.Lock()
	var lb []uint64
	direct := make(map[string][]uint64)
	engines := make(map[string][]int)
	for id, p := range c.pending {
		if p.watch {
			continue
		}
		if p.lb {
			if keep(id, -1) {
				lb = append(lb, id)
			}
			continue
		}
		for engine := range p.slots {
			if !keep(id, engine) {
				continue
			}
			if e, ok := c.roster[engine]; ok {
				direct[e.Daemon] = append(direct[e.Daemon], id)
				if !slices.Contains(engines[e.Daemon], engine) {
					engines[e.Daemon] = append(engines[e.Daemon], engine)
				}
			}
		}
	}
	c.mu.Unlock()
	if len(lb) > 0 {
		c.Abort(lb, true, nil)
	}
	for d, ids := range direct {
		c.Abort(ids, false, map[string][]int{d: engines[d]})
	}
	c.nc.Flush()
}

// Abort asks the engines (or the scheduler) to abort tasks. Load-balanced
// tasks still waiting in the client's window are aborted here.
func (c *Client) Abort(ids []uint64, lb bool, daemons map[string][]int) {
	if lb {
		c.abortUnsent(ids)
	}
	for owner, ids := range c.byOwner(ids) {
		ctl := wire.Control{Op: wire.OpAbort, Client: owner, Tasks: ids}
		if lb {
			c.publish(wire.SchedControlFrom(c.id), &ctl)
			continue
		}
		for d, engines := range daemons {
			ctl.Engines = engines
			c.publish(wire.DaemonControlFrom(d, c.id), &ctl)
		}
	}
}

func (c *Client) publish(subj string, msg any) {
	if err := c.out.SendMsg(context.Background(), subj, msg); err != nil {
		c.log.Warn("publish", "subject", subj, "err", err)
	}
}

// QueueStatus returns the hub's per-engine counters and unassigned tasks.
func (c *Client) QueueStatus(ctx context.Context) (*wire.QueryReply, error) {
	return c.Query(ctx, wire.Query{Op: wire.QueryQueueStatus})
}

// Shutdown stops the given engines (all when ids is empty).
func (c *Client) Shutdown(ctx context.Context, ids []int) error {
	_, err := c.Query(ctx, wire.Query{Op: wire.QueryShutdown, Engines: ids, All: len(ids) == 0})
	if err != nil {
		return err
	}
	_, err = c.refresh(ctx)
	return err
}

// DefaultWait bounds how long a client waits for the hub to answer.
const DefaultWait = 10 * time.Second

// The submission window: a client keeps at most windowTasks load-balanced
// tasks, and windowBytes of their payloads, at the hub at once, and sends
// the rest as results come back. The hub's task records stay bounded
// whatever the size of a map (a million-task map would otherwise hold a
// million records, a gigabyte, in the hub), and the window is far larger
// than what engines hold (prefetch × engines), so it costs no speed.
const (
	windowTasks = 1 << 13
	windowBytes = 64 << 20
	// windowRefill is the room that must free up before more is sent, so
	// that refills go in batches.
	windowRefill = windowTasks / 8
)

// lbWindow is the client's submission window; Client.mu guards it.
type lbWindow struct {
	queue   []unsent // in submission order
	tasks   int      // sent and not finished
	bytes   int      // their payload bytes
	sending bool     // a sender goroutine runs
}

// unsent is a load-balanced task waiting for room in the window.
type unsent struct {
	task   wire.Task
	bundle []byte
	p      *pendingTask
}

// done releases p's room when p was a sent load-balanced task.
func (w *lbWindow) done(p *pendingTask) {
	if p.held >= 0 {
		w.tasks--
		w.bytes -= p.held
		p.held = -1
	}
	p.sent = nil
}

// fits reports whether a task of n payload bytes fits in the window now;
// an empty window takes any task.
func (w *lbWindow) fits(n int) bool {
	return w.tasks == 0 || (w.tasks < windowTasks && w.bytes+n <= windowBytes)
}

// SubmitBalanced submits tasks, already tracked, to the hub's scheduler:
// those that fit in the window at once (returning any error of sending
// them), the rest from a goroutine as results free up room.
//
// Detached tasks (detached=True) are all sent at once, and it returns
// once the hub keeps them on disk, or with the reason it refused them
// (submitDetached).
func (c *Client) SubmitBalanced(ctx context.Context, tasks []wire.Task, bundle []byte) error {
	if isDetached(tasks) {
		return c.submitDetached(ctx, tasks, bundle)
	}
	c.mu.Lock()
	n := 0
	if len(c.window.queue) == 0 {
		for n < len(tasks) && c.window.fits(len(tasks[n].Payload)) {
			c.holdLocked(tasks[n], bundle)
			n++
		}
	}
	for _, t := range tasks[n:] {
		c.window.queue = append(c.window.queue, unsent{task: t, bundle: bundle, p: c.pending[t.ID]})
	}
	if n == 0 {
		c.refillLocked() // else the results of the first n start the sender
	}
	c.mu.Unlock()
	if n == 0 {
		return nil
	}
	since := c.reconnects.Load() // they are held: a reconnection from now submits them again
	err := c.sendBalanced(ctx, tasks[:n], bundle)
	if err != nil && ctx.Err() == nil && !c.sendFailed(since) {
		return nil // submitted again once the hub is back (reconnect.go)
	}
	if err != nil {
		c.mu.Lock()
		for _, t := range tasks[:n] {
			if p := c.pending[t.ID]; p != nil {
				c.window.done(p)
			}
		}
		c.refillLocked() // the caller untracks the rest; the sender drops them
		c.mu.Unlock()
	}
	return err
}

// holdLocked counts t in the window and keeps it to submit again after
// a hub restart; c.mu is held.
func (c *Client) holdLocked(t wire.Task, bundle []byte) {
	c.window.tasks++
	c.window.bytes += len(t.Payload)
	if p := c.pending[t.ID]; p != nil {
		p.held = len(t.Payload)
		p.sent = &unsent{task: t, bundle: bundle}
	}
}

// refillLocked starts the sender when tasks wait and enough room freed
// up; c.mu is held.
func (c *Client) refillLocked() {
	w := &c.window
	if w.sending || len(w.queue) == 0 || (w.tasks > 0 && windowTasks-w.tasks < windowRefill) {
		return
	}
	select {
	case <-c.closed:
		return
	default:
	}
	w.sending = true
	c.wg.Go(c.sendWindow)
}

// sendWindow sends waiting tasks while they fit, then exits. Close
// cancels a send in progress.
func (c *Client) sendWindow() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		run, ok := c.takeRun()
		if !ok {
			return
		}
		if len(run.tasks) == 0 {
			continue
		}
		since := c.reconnects.Load() // they are held: a reconnection from now submits them again
		if err := c.sendBalanced(ctx, run.tasks, run.bundle); err != nil && c.sendFailed(since) {
			c.failUnsent(run.tasks, err)
		} // else they are submitted again once the hub is back (reconnect.go)
	}
}

// unsentRun is consecutive waiting tasks that share a bundle.
type unsentRun struct {
	tasks  []wire.Task
	bundle []byte
}

// takeRun takes the waiting tasks that fit now and share a bundle, and
// counts them in the window; it drops tasks aborted while waiting. It
// returns false, and the sender stops, when nothing was taken (a later
// result starts it again).
func (c *Client) takeRun() (unsentRun, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &c.window
	var run unsentRun
	i := 0
	for ; i < len(w.queue) && w.fits(len(w.queue[i].task.Payload)); i++ {
		u := w.queue[i]
		if u.p == nil || c.pending[u.task.ID] != u.p {
			continue // aborted or failed while waiting
		}
		if len(run.tasks) > 0 && !sameBytes(u.bundle, run.bundle) {
			break
		}
		run.bundle = u.bundle
		c.holdLocked(u.task, u.bundle)
		run.tasks = append(run.tasks, u.task)
	}
	clear(w.queue[:i])
	w.queue = w.queue[i:]
	if len(w.queue) == 0 {
		w.queue = nil
	}
	if i == 0 {
		w.sending = false
		return run, false
	}
	return run, true
}

// sameBytes reports whether a and b are the same slice (a shared bundle).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// failUnsent completes tasks whose submission failed.
func (c *Client) failUnsent(tasks []wire.Task, err error) {
	rs := make([]wire.Result, len(tasks))
	for i, t := range tasks {
		rs[i] = wire.Result{Task: t.ID, Engine: -1, Status: wire.StatusLost,
			Err: &wire.Error{Type: wire.EngineError, Message: "the task could not be submitted to the hub: " + err.Error()}}
	}
	c.deliver(rs, "")
}

// abortUnsent completes the tasks among ids still waiting in the window
// as aborted; they are never sent.
func (c *Client) abortUnsent(ids []uint64) {
	c.mu.Lock()
	if len(c.window.queue) == 0 {
		c.mu.Unlock()
		return
	}
	abort := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		abort[id] = true
	}
	var rs []wire.Result
	for _, u := range c.window.queue {
		if abort[u.task.ID] && u.p != nil && c.pending[u.task.ID] == u.p {
			rs = append(rs, wire.Result{Task: u.task.ID, Engine: -1, Status: wire.StatusAborted,
				Err: &wire.Error{Type: wire.TaskAborted, Message: "aborted before it started"}})
		}
	}
	c.mu.Unlock()
	c.deliver(rs, "")
}

// ID is the client's id, the one its tasks carry.
func (c *Client) ID() string { return c.id }

// Config returns the configuration the client was made with.
func (c *Client) Config() Config { return c.cfg }

// MaxPart is the largest message part the hub accepts, less header room;
// payloads are encoded in blocks of at most this size.
func (c *Client) MaxPart() int { return c.out.MaxPart() }

// MPIEngines waits until n engines are connected (at least one when n is
// 0) and returns the ids of the first n (all of them when n is 0), the
// ranks of a `pirun mpi` run in order.
func (c *Client) MPIEngines(ctx context.Context, n int) ([]int, error) {
	if err := c.WaitForEngines(ctx, max(n, 1)); err != nil {
		return nil, err
	}
	ids := c.KnownIDs()
	if n > 0 && len(ids) > n {
		ids = ids[:n]
	}
	return ids, nil
}

// Progress returns the tasks finished and the tasks in all of the Sinks
// that still wait for a task (a call counts until its last task is done),
// for a notebook's progress bar of long maps. Sinks that cannot tell
// (have no Progress method) count for nothing. It is safe for concurrent
// use.
func (c *Client) Progress() (done, total int) {
	c.mu.Lock()
	sinks := make(map[Sink]struct{})
	for _, p := range c.pending {
		sinks[p.sink] = struct{}{}
	}
	c.mu.Unlock()
	for s := range sinks {
		if p, ok := s.(interface{ Progress() (done, total int) }); ok {
			d, t := p.Progress()
			done += d
			total += t
		}
	}
	return done, total
}

// senderOf is the sender of a message on one of the client's subjects
// whose sending daemon (Client.sender) is daemon: that daemon, or the hub,
// which alone may publish on the subjects without a daemon.
func senderOf(daemon string) string {
	if daemon == "" {
		return wire.SenderHub
	}
	return daemon
}
