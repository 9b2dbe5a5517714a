// This file defines Daemon: one process's connection to the hub, its
// registration, heartbeats and the routing of tasks to its engines.

package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"go.starlark.net/starlarkstruct"

	"github.com/pirun-dev/pirun/engine/comm"
	"github.com/pirun-dev/pirun/engine/hostinfo"
	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

// Config is what a Daemon needs; host/cmd/pirun fills it from conf.Engine
// and flags. Fields must not change once New has been called.
type Config struct {
	Engines     int           // engines to run; 0 means one per CPU
	Name        string        // shown in status; defaults to the host name
	DataDir     string        // the folder the files module reads; "" = none
	OutDir      string        // the folder the files module writes; "" = DataDir
	MaxOutBytes int64         // the size OutDir may reach; 0 = DefaultMaxOutBytes, negative = no bound
	MaxSteps    uint64        // Starlark steps a task may take; 0 = unlimited
	TaskTimeout time.Duration // default task timeout; 0 = none
	Heartbeat   time.Duration // between heartbeats; 0 = 500ms
	Version     string        // the pirun version announced to the hub
	GOARM       string        // the GOARM this binary was built for, if any
	Startup     []Code        // run into each engine's namespace when it starts

	// MaxArrayBytes bounds one num array of a task, in bytes; 0 means
	// half of this machine's memory divided among the engines.
	MaxArrayBytes int64
	// MaxMemory bounds the memory of one engine's task, in bytes (see
	// memory.go); 0 means (RAM × 0.8 − 256 MiB) divided among the engines.
	MaxMemory int64

	// Transport sets the parts of the large messages the daemon sends
	// and bounds the ones it reassembles; zero fields take the defaults.
	Transport transport.Limits

	// OnRegistered, when set, is told the engines' ids each time the hub
	// registered them: again is false the first time, true after a
	// reconnection. It runs on the daemon's goroutines and must not block.
	OnRegistered func(ids []int, again bool)
}

// Code is Starlark source with the name errors should show for it.
type Code struct {
	File, Text string
}

// Dialer connects to the hub with the daemon's own options added.
type Dialer func(ctx context.Context, opts ...nats.Option) (*nats.Conn, error)

// RegisterError means the hub refused the daemon (protocol mismatch,
// permissions); retrying will not help.
type RegisterError struct{ Msg string }

func (e *RegisterError) Error() string { return e.Msg }

// Daemon runs the engines of one process.
type Daemon struct {
	// figuresAt is when a heartbeat last carried the host's figures
	// (only the heartbeat goroutine uses it).
	figuresAt time.Time

	cfg   Config
	dial  Dialer
	log   *slog.Logger
	id    string // the public key of ident, which the hub pins its permissions to
	ident *transport.Identity
	host  string
	name  string
	files *starlarkstruct.Module
	pub   *publisher
	comm  *comm.Mux // message passing between engines (package comm)
	asm   transport.Assembler
	link  *transport.Link // sends large messages in parts

	nc            *nats.Conn
	maxChunk      int
	reregistering atomic.Bool  // a registration after a reconnect is on its way
	running       atomic.Int32 // tasks running now, for the memory watchdog
	mem           *memWatch    // max_memory (memory.go)

	ready chan struct{} // closed once the engines exist
	quit  chan struct{} // closed when Run returns

	// intake orders a task's arrival with aborts, which come on another
	// subscription: an abort looks for the task on its engines and, not
	// finding it, remembers it, while an arriving task is checked against
	// the remembered aborts and queued; either one goes first, whole.
	// Without it an abort could look between the check and the queueing,
	// and the task would run.
	intake sync.Mutex

	mu      sync.Mutex
	engines map[int]*Engine
	stopped chan struct{} // closed when every engine was shut down
	cancels map[int]context.CancelCauseFunc
	aborted map[abortKey]time.Time // aborts that arrived before their task
	shut    []int                  // engines it shut down
	seen    seen                   // the direct tasks received (seen.go)
}

// abortKey is an abort remembered before its task arrived: task ID of
// Client, asked by client By ("" for the hub, which may abort any task).
type abortKey struct {
	Client, By string
	ID         uint64
}

// New checks cfg and returns a Daemon that will connect with dial.
func New(cfg Config, dial Dialer, log *slog.Logger) (*Daemon, error) {
	if cfg.Engines < 0 {
		return nil, fmt.Errorf("engines: %d is negative; use 0 for one per CPU", cfg.Engines)
	}
	if cfg.Engines == 0 {
		cfg.Engines = runtime.NumCPU()
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 500 * time.Millisecond
	}
	host, _ := os.Hostname()
	ident, err := transport.NewIdentity()
	if err != nil {
		return nil, err
	}
	d := &Daemon{cfg: cfg, dial: dial, log: log, ident: ident, id: ident.ID(), host: host, name: cfg.Name,
		engines: make(map[int]*Engine), cancels: make(map[int]context.CancelCauseFunc), aborted: make(map[abortKey]time.Time), stopped: make(chan struct{}),
		ready: make(chan struct{}), quit: make(chan struct{})}
	if d.name == "" {
		d.name = host
	}
	d.asm.SetLimits(cfg.Transport)
	d.pub = newPublisher(d)
	d.mem = newMemWatch(d.memoryLimit(), cfg.Engines)
	d.comm = comm.NewMux(host, func(id int) bool { return d.engine(id) != nil }, log)
	if d.files, err = newFiles(cfg); err != nil {
		return nil, err
	}
	return d, nil
}

// Run connects, registers and runs the engines until ctx is done or every
// engine was shut down. It returns only after every goroutine it started
// has exited.
func (d *Daemon) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	refused := nats.ClosedHandler(func(nc *nats.Conn) {
		if errors.Is(nc.LastError(), nats.ErrAuthorization) {
			cancel(ErrRefused)
		}
	})
	nc, err := d.dial(ctx, nats.ReconnectHandler(d.onReconnect), d.ident.Option(),
		nats.CustomInboxPrefix(wire.EngineInbox(d.id)), refused)
	if err != nil {
		return err
	}
	d.nc = nc
	defer nc.Close()
	defer close(d.quit)
	d.link = transport.New(nc, d.id, wire.DaemonAcks(d.id))
	d.link.SetPartSize(d.cfg.Transport.PartSize)
	d.maxChunk = d.link.MaxPart()
	d.comm.Connect(nc, d.maxChunk, d.id)
	for subj, cb := range map[string]nats.MsgHandler{
		wire.DaemonTasksFrom(d.id, "*"):   d.onTasks,
		wire.DaemonControlFrom(d.id, "*"): d.onControl,
		wire.DaemonAdmin(d.id):            d.onAdmin,
		wire.DaemonAcks(d.id):             d.link.OnAck,
	} {
		sub, err := nc.Subscribe(subj, cb)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", subj, err)
		}
		sub.SetPendingLimits(-1, -1)
	}
	ids, err := d.registerFirst(ctx)
	if err != nil {
		return err
	}
	if d.cfg.OnRegistered != nil {
		d.cfg.OnRegistered(ids, false)
	}
	var wg sync.WaitGroup
	pubCtx, pubCancel := context.WithCancel(context.Background())
	wg.Go(func() { d.pub.run(pubCtx) })
	wg.Go(func() { d.watchMemory(pubCtx) })
	var workers sync.WaitGroup
	if err := d.start(runCtx, &workers, ids); err != nil {
		cancel(nil)
		workers.Wait()
		pubCancel()
		wg.Wait()
		return err
	}
	close(d.ready)
	d.heartbeats(runCtx)
	why := context.Cause(runCtx)
	cancel(nil)
	workers.Wait()
	pubCancel()
	wg.Wait()
	if errors.Is(why, ErrRefused) {
		return why
	}
	d.goodbye()
	return nil
}

// ErrRefused is Run's error when the hub refused the daemon's credential
// on a reconnection: revoked, or the hub's credentials were made anew.
var ErrRefused = errors.New("the hub refused this engine's credential on reconnecting: it was revoked (pirun hub revoke-engine) or the hub's credentials were made anew; get a current engine connection file from the hub's security/ folder")

// goodbye tells the hub this daemon stops, and waits (briefly) for the
// hub to have forgotten it: the connection closing after that is not
// reported as engines lost.
func (d *Daemon) goodbye() {
	if data, err := wire.MarshalMsg(&wire.Heartbeat{Daemon: d.id, Leaving: true}); err == nil {
		d.nc.Request(wire.HeartbeatFrom(d.id), data, time.Second)
	}
}

// start creates the engines with the given ids and starts their workers.
func (d *Daemon) start(ctx context.Context, workers *sync.WaitGroup, ids []int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		e, err := newEngine(d, id)
		if err != nil {
			return err
		}
		for _, c := range d.cfg.Startup {
			e.enqueue(job{task: &wire.Task{ID: 0, Kind: wire.KindExecute, File: c.File, Code: c.Text, Label: "startup " + c.File}})
		}
		ectx, cancel := context.WithCancelCause(ctx)
		d.engines[id] = e
		d.cancels[id] = cancel
		workers.Go(func() { e.work(ectx) })
	}
	return nil
}

// register asks the hub for engine ids, reclaiming old ones if given.
func (d *Daemon) register(ctx context.Context, reclaim []int) ([]int, error) {
	req := &wire.Register{Protocol: wire.ProtocolVersion, Version: d.cfg.Version, GOOS: runtime.GOOS,
		GOARCH: runtime.GOARCH, GOARM: d.cfg.GOARM, Host: d.host, PID: os.Getpid(), Name: d.name,
		Daemon: d.id, Engines: d.cfg.Engines, Reclaim: reclaim, Started: time.Now().UnixNano()}
	if reclaim != nil {
		req.Engines = len(reclaim) // the engines it still runs: some may have been shut down
	}
	if cid, err := d.nc.GetClientID(); err == nil {
		req.ConnID = cid
	}
	data, err := wire.MarshalMsg(req)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, registerWait)
	defer cancel()
	msg, err := d.nc.RequestWithContext(rctx, wire.RegisterFrom(d.id), data)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, fmt.Errorf("register with the hub: nothing answers on this NATS server; is it a pirun hub? (%w)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("register with the hub: %w", err)
	}
	var reply wire.Registered
	if err := wire.UnmarshalMsg(msg.Data, &reply); err != nil {
		var pe *wire.ProtocolError
		if errors.As(err, &pe) {
			return nil, &RegisterError{Msg: fmt.Sprintf("the hub speaks protocol version %d, this engine speaks version %d; run the same pirun release on the hub and every engine", pe.Got, pe.Want)}
		}
		return nil, fmt.Errorf("register with the hub: %w", err)
	}
	if reply.Error != "" {
		return nil, &RegisterError{Msg: "the hub refused this engine: " + reply.Error}
	}
	if len(reply.IDs) != req.Engines {
		return nil, fmt.Errorf("register with the hub: asked for %d engine ids, got %d", req.Engines, len(reply.IDs))
	}
	d.log.Info("registered", "engines", reply.IDs, "hub", reply.HubID)
	return reply.IDs, nil
}

// registerWait bounds the wait for the hub's answer to a registration (a
// variable for tests).
var registerWait = 10 * time.Second

// registerFirst registers the daemon's engines, asking again while the
// hub does not answer in time (frozen, or too busy): it answered nothing
// else, and an engine that exited then would be lost to the cluster. A
// refusal, or no hub on this server, ends it.
func (d *Daemon) registerFirst(ctx context.Context) ([]int, error) {
	for {
		ids, err := d.register(ctx, nil)
		if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
			return ids, err
		}
		d.log.Warn("the hub did not answer the registration; asking again", "err", err)
	}
}

// onReconnect registers again after the connection came back, keeping
// the engines' ids (and so their namespaces).
func (d *Daemon) onReconnect(*nats.Conn) {
	d.mu.Lock()
	ids := d.ids()
	d.mu.Unlock()
	if len(ids) == 0 {
		return // every engine was shut down: registering would ask for new ids
	}
	if !d.reregistering.CompareAndSwap(false, true) {
		return // a registration is on its way; the hub's answer to it will do
	}
	go func() {
		defer d.reregistering.Store(false)
		got, err := d.register(context.Background(), ids)
		switch {
		case err != nil:
			d.log.Error("register again after reconnecting", "err", err)
		case !slices.Equal(got, ids):
			d.log.Error("the hub gave these engines other ids; clients will see them under the new ones", "had", ids, "got", got)
		}
		if err == nil {
			// Every one it remembers: a dead connection may go unnoticed
			// for minutes (pings), and what was sent meanwhile is lost.
			d.pub.resendDetached()
		}
		if err == nil && d.cfg.OnRegistered != nil {
			d.cfg.OnRegistered(got, true)
		}
	}()
}

// wasShutDown reports whether this daemon ran engine id and shut it down.
func (d *Daemon) wasShutDown(id int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Contains(d.shut, id)
}

// ids returns the engine ids in order; d.mu must be held.
func (d *Daemon) ids() []int {
	ids := make([]int, 0, len(d.engines))
	for id := range d.engines {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// heartbeats sends a Heartbeat every interval until ctx is done or every
// engine was shut down.
func (d *Daemon) heartbeats(ctx context.Context) {
	t := time.NewTicker(d.cfg.Heartbeat)
	defer t.Stop()
	d.heartbeat()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.stopped:
			return
		case <-t.C:
			d.heartbeat()
		}
	}
}

func (d *Daemon) heartbeat() {
	hb := wire.Heartbeat{Daemon: d.id, Engines: d.stats(nil)}
	if len(hb.Engines) == 0 {
		return // shut down, and leaving: a hub that forgot it must not ask it back
	}
	if now := time.Now(); now.Sub(d.figuresAt) >= figuresEvery {
		hb.Host, d.figuresAt = hostFigures(), now
	}
	data, err := wire.MarshalMsg(&hb)
	if err == nil {
		err = d.nc.Publish(wire.HeartbeatFrom(d.id), data)
	}
	if err != nil {
		d.log.Warn("heartbeat", "err", err)
	}
}

// stats returns the counters of the given engines (all when nil).
func (d *Daemon) stats(ids []int) []wire.EngineStat {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []wire.EngineStat
	for _, id := range d.ids() {
		if ids == nil || slices.Contains(ids, id) {
			out = append(out, d.engines[id].stat())
		}
	}
	return out
}

// statsOf is stats with the task ids of client's tasks.
func (d *Daemon) statsOf(ids []int, client string) []wire.EngineStat {
	d.mu.Lock()
	engines := make([]*Engine, 0, len(d.engines))
	for _, id := range d.ids() {
		if ids == nil || slices.Contains(ids, id) {
			engines = append(engines, d.engines[id])
		}
	}
	d.mu.Unlock()
	out := make([]wire.EngineStat, len(engines))
	for i, e := range engines {
		out[i] = e.statOf(client)
	}
	return out
}

// engine returns the engine with the given id, or nil.
func (d *Daemon) engine(id int) *Engine {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.engines[id]
}

// receive returns the whole message of m, reassembling parts; nil means
// more parts are expected or the part was bad (logged). Its sender is the
// subject's last token (wire.DaemonTasksFrom), which the hub's permissions
// pin to the sending connection's identity.
func (d *Daemon) receive(m *nats.Msg) []byte {
	data, err := transport.Receive(d.nc, &d.asm, m, wire.LastToken(m.Subject))
	if err != nil {
		d.log.Warn("drop a large message", "subject", m.Subject, "err", err)
	}
	return data
}

// onTasks decodes a batch and queues each task on its engines. Tasks that
// arrive between registration and the engines' creation wait for it.
func (d *Daemon) onTasks(m *nats.Msg) {
	select {
	case <-d.ready:
	case <-d.quit:
		return
	}
	data := d.receive(m)
	if data == nil {
		return
	}
	var b wire.Batch
	if err := wire.UnmarshalMsg(data, &b); err != nil {
		d.log.Warn("drop a malformed task batch", "subject", m.Subject, "err", err)
		return
	}
	sender, refused := wire.LastToken(m.Subject), 0
	defer func() {
		if refused > 1 {
			d.log.Warn("refused tasks sent under another client's id", "sender", sender, "tasks", refused)
		}
	}()
	for i := range b.Tasks {
		t := &b.Tasks[i]
		if sender != wire.SenderHub && t.Client != sender && t.Client != wire.DetachedClient {
			if refused++; refused == 1 {
				d.log.Warn("refuse a task sent under another client's id", "sender", sender, "client", t.Client, "task", t.ID)
			}
			continue
		}
		if sender != wire.SenderHub && t.Client == wire.DetachedClient {
			t.Owner = sender // the proven submitter, the only client that may abort it
		}
		if sender != wire.SenderHub {
			t.Balanced = false // only the hub's scheduler dispatches load-balanced tasks
		}
		if sender != wire.SenderHub && !d.seen.add(seenKey{Client: t.Client, By: sender, ID: t.ID}) {
			// Sent again after a hub restart, and the first copy came
			// after all: it runs once.
			d.log.Debug("drop a direct task received twice", "sender", sender, "task", t.ID)
			continue
		}
		var bundle []byte
		if t.Bundle > 0 && t.Bundle <= len(b.Bundles) {
			bundle = b.Bundles[t.Bundle-1]
		}
		for _, id := range t.Targets {
			d.take(t, id, bundle)
		}
	}
}

// testHookTake, when a test sets it, runs between an arriving task's
// check against the remembered aborts and its queueing.
var testHookTake func(t *wire.Task)

// take queues t on engine id, or answers it: aborted before it came, or
// its engine gone.
func (d *Daemon) take(t *wire.Task, id int, bundle []byte) {
	e := d.engine(id)
	if e == nil && t.Balanced && d.wasShutDown(id) {
		return // shut down as it came: the hub's scheduler retries or fails it
	}
	if e == nil {
		d.pub.result(t, wire.Result{Task: t.ID, Engine: id, Status: wire.StatusLost, Host: d.host,
			Attempt: t.Attempt, Err: &wire.Error{Type: wire.EngineError,
				Message: "engine " + strconv.Itoa(id) + " is not running in this process (it was shut down)"}})
		return
	}
	d.intake.Lock()
	aborted := d.wasAborted(t)
	if testHookTake != nil {
		testHookTake(t)
	}
	if !aborted {
		e.enqueue(job{task: t, bundle: bundle})
	}
	d.intake.Unlock()
	if aborted {
		d.pub.result(t, e.failed(t, wire.StatusAborted, wire.TaskAborted, "aborted before it started"))
	}
}

// abortMemory is how long an abort that found no task is remembered, in
// case it overtook its task (aborts and tasks travel on separate subjects).
const abortMemory = time.Minute

// remember records aborted task ids of client that were not found on an
// engine, asked by client by ("" for the hub).
func (d *Daemon) remember(client, by string, ids []uint64) {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for ref, at := range d.aborted {
		if now.Sub(at) > abortMemory {
			delete(d.aborted, ref)
		}
	}
	for _, id := range ids {
		if len(d.aborted) >= 1<<16 {
			break
		}
		d.aborted[abortKey{Client: client, By: by, ID: id}] = now
	}
}

// wasAborted reports whether t was aborted before it arrived, by the hub
// or by its owner. The entry stays (until it expires) for the task's
// other engines on this daemon.
func (d *Daemon) wasAborted(t *wire.Task) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, byHub := d.aborted[abortKey{Client: t.Client, ID: t.ID}]
	_, byOwner := d.aborted[abortKey{Client: t.Client, By: t.OwnerID(), ID: t.ID}]
	return byHub || byOwner && t.OwnerID() != ""
}

// onControl answers aborts, revokes, stats and shutdowns. Its sender is
// the subject's last token (wire.DaemonControlFrom), pinned by the hub's
// permissions: a client may only abort or ask again for its own tasks;
// the rest is the hub's.
func (d *Daemon) onControl(m *nats.Msg) {
	var c wire.Control
	var reply wire.ControlReply
	sender := wire.LastToken(m.Subject)
	if err := wire.UnmarshalMsg(m.Data, &c); err != nil {
		d.log.Warn("drop a malformed control message", "err", err)
		reply.Error = err.Error()
	} else if why := controlRefused(sender, &c); why != "" {
		d.log.Warn("refuse a control message", "sender", sender, "op", c.Op, "client", c.Client, "why", why)
		reply.Error = "control refused for sender " + sender + ": " + why
	} else {
		switch c.Op {
		case wire.OpAbort:
			by := sender // a client aborts only the tasks it owns
			if sender == wire.SenderHub {
				by = ""
			}
			if n := d.abort(c, by); n > 0 {
				d.log.Warn("refuse to abort another client's detached tasks", "sender", sender, "tasks", n)
				reply.Error = fmt.Sprintf("abort refused for sender %s: %d of the tasks are detached jobs of another client; only the client that submitted a detached job, or `pirun abort` on the hub's machine, may stop it", sender, n)
			}
		case wire.OpRevoke:
			for _, id := range d.targets(c.Engines) {
				if e := d.engine(id); e != nil {
					reply.Revoked = append(reply.Revoked, e.revoke(c.Client, c.Tasks)...)
				}
			}
		case wire.OpStats:
			if c.Verbose {
				reply.Stats = d.statsOf(c.Engines, c.Client)
			} else {
				reply.Stats = d.stats(c.Engines)
			}
		case wire.OpShutdown:
			d.shutdown(c.Engines)
		case wire.OpRegister:
			select {
			case <-d.stopped: // shut down while the hub's question was on its way
			default:
				d.log.Warn("the hub lost track of these engines; registering again")
				d.onReconnect(d.nc)
			}
		case wire.OpResend:
			by := sender
			if sender == wire.SenderHub {
				by = ""
			}
			reply.Known = d.known(c.Client, sender, c.Tasks)
			// A detached task's result goes to the hub again: one that
			// came before this daemon registered again was dropped.
			d.pub.resend(c.Client, by, c.Tasks)
		case wire.OpAbortClient:
			if c.Client != "" {
				for _, id := range d.targets(c.Engines) {
					if e := d.engine(id); e != nil {
						e.abortClient(c.Client)
					}
				}
			}
		}
	}
	if m.Reply != "" {
		if data, err := wire.MarshalMsg(&reply); err == nil {
			m.Respond(data)
		}
	}
}

// abort aborts c's tasks on c's engines for client by ("" for the hub)
// and returns how many tasks it refused: detached tasks by owns not.
func (d *Daemon) abort(c wire.Control, by string) (refused int) {
	found := make(map[uint64]bool)
	targets := d.targets(c.Engines)
	all := len(targets) > 0 // none yet: the daemon is starting
	type removed struct {
		e *Engine
		t *wire.Task
	}
	var out []removed
	d.intake.Lock()
	for _, id := range targets {
		e := d.engine(id)
		if e == nil {
			// Not started yet (an abort may come as the daemon starts,
			// before its tasks) or shut down: it holds none of them.
			all = false
			continue
		}
		had, ts := e.abort(c.Client, by, c.Tasks, found)
		all = had && all
		for _, t := range ts {
			out = append(out, removed{e, t})
		}
	}
	if !all {
		// Some may still be on their way (aborts and tasks travel on
		// separate subjects), or on their way to another of its engines.
		d.remember(c.Client, by, c.Tasks)
	}
	d.intake.Unlock()
	// Reported without intake: the publisher may be slow, and no task
	// should wait for it to be taken in.
	for _, r := range out {
		d.pub.result(r.t, r.e.failed(r.t, wire.StatusAborted, wire.TaskAborted, "aborted before it started"))
	}
	for _, mine := range found {
		if !mine {
			refused++
		}
	}
	return refused
}

// controlRefused says why sender may not send c, or "" when it may: the
// hub may send anything; a client only aborts its own tasks (or the
// detached ones it submitted, whose Client is wire.DetachedClient and
// Owner the client: see Daemon.abort) and asks its own results again.
func controlRefused(sender string, c *wire.Control) string {
	switch {
	case sender == wire.SenderHub:
		return ""
	case c.Op != wire.OpAbort && c.Op != wire.OpResend:
		return "only the hub may send this operation"
	case c.Client == sender, c.Client == wire.DetachedClient:
		return "" // detached: Daemon.abort and Daemon.known act only on sender's own
	}
	return "a client may act only on its own tasks, not client " + c.Client + "'s"
}

// known returns the ids among ids of the direct tasks of client, sent by
// by, that this daemon received and still answers for: queued, running,
// arrived less than seenSettle ago, or finished with its result still
// remembered. A client asks after a hub restart and sends the others
// again (seen.go); one that finished and whose result is gone is
// forgotten, so that its copy runs again.
func (d *Daemon) known(client, by string, ids []uint64) []uint64 {
	held := make(map[uint64]bool, len(ids)) // true once an engine holds it
	for _, id := range ids {
		held[id] = false
	}
	for _, id := range d.targets(nil) {
		if e := d.engine(id); e != nil {
			e.holds(client, by, held)
		}
	}
	var out []uint64
	done := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		if done[id] {
			continue // asked twice
		}
		done[id] = true
		k := seenKey{Client: client, By: by, ID: id}
		at, seen := d.seen.arrived(k)
		switch {
		case held[id], seen && time.Since(at) < seenSettle, d.pub.sent.has(client, by, id):
			out = append(out, id)
		case seen:
			d.seen.forget(k) // finished, its result lost: it runs again
		}
	}
	return out
}

// targets returns ids, or every engine id when ids is empty.
func (d *Daemon) targets(ids []int) []int {
	if len(ids) > 0 {
		return ids
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ids()
}

// shutdown stops the given engines (all when empty); the daemon stops
// when it has none left.
func (d *Daemon) shutdown(ids []int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(ids) == 0 {
		ids = d.ids()
	}
	for _, id := range ids {
		if cancel, ok := d.cancels[id]; ok {
			cancel(errShutdown)
			delete(d.cancels, id)
			delete(d.engines, id)
			d.shut = append(d.shut, id)
		}
	}
	if len(d.engines) == 0 {
		select {
		case <-d.stopped:
		default:
			close(d.stopped)
		}
	}
}

// figuresEvery is how often heartbeats carry the host's figures: reading
// them costs the kernel some 0.1-0.3 ms (/proc/stat, /proc/meminfo), so
// not at every heartbeat; the hub keeps the last ones it got.
const figuresEvery = time.Second

// hostFigures reads this machine's figures for the dashboard.
func hostFigures() *wire.HostFigures {
	f := hostinfo.Collect()
	return &wire.HostFigures{CPUs: f.CPUs, CPUPercent: f.CPUPercent, Load: f.Load, MemUsed: f.MemUsed,
		MemTotal: f.MemTotal, TempC: f.TempC, Throttled: f.Throttled}
}
