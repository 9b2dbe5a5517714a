// This file defines Hub: the embedded NATS server plus the services that
// make it a pirun hub (registration, heartbeats, queries, scheduling).

package hub

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/sched"
	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

// Config configures a Hub. Zero fields take the defaults noted.
type Config struct {
	Host          string        // interface to listen on; "" = 127.0.0.1, "*" = all
	Port          int           // 0 = any free port; -1 with DontListen
	DontListen    bool          // in-process connections only (the embedded default)
	MaxPayload    int           // bytes per NATS message; 0 = 8 MiB
	Heartbeat     time.Duration // engines' heartbeat interval; 0 = 500ms
	EngineTimeout time.Duration // silence after which an engine is lost; 0 = 2.5s
	// StallTimeout is how long an engine whose connection stays open may
	// stay silent before it is lost; 0 = 30s. A whole process can stall
	// for seconds (a long allocation, a GC pause) while its connection,
	// and the server's PING/PONG on it, say it lives; see sweepOnce.
	StallTimeout time.Duration
	Version      string       // pirun version, announced to engines
	Policy       sched.Policy // load balancing; zero = sched.DefaultPolicy()
	Auth         *Auth        // credentials per role; nil = no authentication (in-process only)
	ID           string       // the hub's identity; "" = a fresh one
	Registry     string       // file keeping the engine ids given out across restarts; "" = none
	TLS          *tls.Config  // the listener's TLS; nil = plain TCP
	// HTTP is the dashboard's address, host:port (SPEC §13); "" serves none.
	HTTP string
	// HTTPToken guards a dashboard beyond loopback; "" makes one (see DashURL).
	HTTPToken string
	// StateDir keeps the task records and detached results across
	// restarts (the profile's state/); "" = the folder of Registry, or
	// memory only without one.
	StateDir string
	// TaskRecords bounds the task records; 0 = DefaultTaskRecords.
	TaskRecords int
	// ResultsMaxBytes bounds the detached results kept; 0 =
	// DefaultResultsMaxBytes.
	ResultsMaxBytes int64
	// DetachedMaxPending bounds the detached load-balanced tasks one
	// client may have pending; 0 = DefaultDetachedMaxPending.
	DetachedMaxPending int
	// DetachedMaxBytes bounds the bytes of all pending detached
	// load-balanced tasks; 0 = DefaultDetachedMaxBytes.
	DetachedMaxBytes int64
	// Transport sets the parts of the large messages the hub forwards
	// and bounds the ones it reassembles (TransportLimits reads them from
	// the [hub] table); zero fields take the defaults.
	Transport transport.Limits
}

// TransportLimits returns the settings of large messages of the [hub]
// table h, for Config.Transport.
func TransportLimits(h conf.Hub) transport.Limits {
	return transport.Limits{PartSize: int(h.PartSize), MaxSender: int(h.ReassemblyPerSender),
		MaxTotal: int(h.ReassemblyTotal), Stall: time.Duration(h.ReassemblyStall)}
}

// Hub is a running pirun hub. Its methods are safe for concurrent use.
type Hub struct {
	cfg  Config
	log  *slog.Logger
	id   string
	auth *authenticator // nil without authentication
	ns   *server.Server
	nc   *nats.Conn      // the hub's own in-process connection
	out  *transport.Link // sends large messages in parts

	asked askedStop // a client's shutdown(hub=True) (shutdown.go)

	mu          sync.Mutex
	nextID      int
	epoch       uint64    // roster version, bumped at every change
	lastSweep   time.Time // when the sweeper last ran
	daemons     map[string]*daemonEntry
	engines     map[int]*engineEntry
	sched       *scheduler
	dash        *dashFeed // nil without Config.HTTP
	recs        *records
	detachedAsm transport.Assembler // detached results in parts (clients.go)
	clients     clientWatch         // clients' connections (clients.go)
	// readSockets reads a socket table (/proc/net/tcp); nil is
	// os.ReadFile. Tests set it before Start (liveness.go).
	readSockets func(name string) ([]byte, error)

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

type daemonEntry struct {
	reg      wire.Register
	ids      []int
	lastSeen time.Time
	probedAt time.Time // when the hub probed it, silent past EngineTimeout but connected; zero otherwise
	waiting  bool      // the hub waits for it, its machine answering (logged once)
	stats    []wire.EngineStat
	host     *wire.HostFigures // the machine's latest figures, or nil
	hostAt   time.Time         // when they came
}

type engineEntry struct {
	info   wire.EngineInfo
	daemon *daemonEntry
}

// New checks cfg and returns a Hub ready to Start.
func New(cfg Config, log *slog.Logger) (*Hub, error) {
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = 8 << 20
	}
	if cfg.MaxPayload < 64<<10 || cfg.MaxPayload > 64<<20 {
		return nil, fmt.Errorf("max payload %d: want 64 KiB to 64 MiB", cfg.MaxPayload)
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 500 * time.Millisecond
	}
	if cfg.EngineTimeout <= 0 {
		cfg.EngineTimeout = 5 * cfg.Heartbeat
	}
	if cfg.EngineTimeout <= cfg.Heartbeat {
		return nil, fmt.Errorf("engine timeout %v must be longer than the heartbeat %v", cfg.EngineTimeout, cfg.Heartbeat)
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = max(defaultStallTimeout, cfg.EngineTimeout)
	}
	if cfg.Policy.Prefetch == 0 {
		cfg.Policy = sched.DefaultPolicy()
	}
	if cfg.ID == "" {
		cfg.ID = wire.NewID()
	}
	h := &Hub{cfg: cfg, log: log, id: cfg.ID, daemons: make(map[string]*daemonEntry),
		engines: make(map[int]*engineEntry), stop: make(chan struct{}), asked: newAskedStop()}
	if err := h.loadRegistry(); err != nil {
		return nil, err
	}
	h.sched = newScheduler(h, cfg.Policy, h.stop, h.wg.Go, log)
	h.sched.asm.SetLimits(cfg.Transport)
	h.detachedAsm.SetLimits(cfg.Transport)
	if cfg.StateDir == "" && cfg.Registry != "" {
		cfg.StateDir = filepath.Dir(cfg.Registry)
		h.cfg.StateDir = cfg.StateDir
	}
	h.recs = newRecords(cfg.StateDir, cfg.TaskRecords, cfg.ResultsMaxBytes, log)
	h.recs.boundDetached(cfg.DetachedMaxPending, cfg.DetachedMaxBytes)
	h.sched.recs = h.recs
	h.sched.work = h.goWork
	if cfg.Auth != nil {
		h.auth = &authenticator{auth: cfg.Auth, log: log, named: make(map[uint64]namedConn), clients: make(map[uint64]string)}
	}
	return h, nil
}

// ID returns the hub's identity, which connection files carry.
func (h *Hub) ID() string { return h.id }

// Start starts the NATS server and the hub's services. It returns once
// clients can connect, or shuts everything down and returns an error.
func (h *Hub) Start() error {
	// The records are read before the server accepts anyone: no handler
	// may touch them while they load, and a client reconnecting after a
	// restart must find the hub listening to what it sends again.
	if err := h.loadRecords(); err != nil {
		return err
	}
	opts := h.serverOptions()
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("start hub: %w", err)
	}
	ns.SetLoggerV2(&natsLog{log: h.log}, false, false, false)
	h.ns = ns
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return h.listenError(opts)
	}
	nc, err := nats.Connect("", h.InProcess(), nats.Name("pirun-hub"), nats.MaxReconnects(0),
		h.cfg.Auth.hubOption())
	if err != nil {
		ns.Shutdown()
		return fmt.Errorf("start hub: connect to its own server: %w", err)
	}
	h.nc = nc
	h.out = transport.New(nc, "hub-"+h.id, wire.SubjectHubAcks)
	h.out.SetPartSize(h.cfg.Transport.PartSize)
	if h.cfg.HTTP != "" {
		if err := h.startDash(); err != nil {
			h.Shutdown()
			return fmt.Errorf("start hub: %w", err)
		}
	}
	if err := h.subscribe(); err != nil {
		h.Shutdown()
		return err
	}
	h.startRecords()
	h.wg.Go(h.sweep)
	h.wg.Go(h.sched.run)
	if h.auth != nil {
		h.wg.Go(h.watchRevoked)
	}
	return nil
}

// RevokeEvery is how often the hub looks for revoked engine credentials.
const RevokeEvery = 200 * time.Millisecond

// watchRevoked disconnects, within RevokeEvery, every connection made with
// a named engine credential whose file was deleted or replaced (`pirun
// hub revoke-engine`); the authenticator refuses its reconnections, which
// read the file again. The files are the source of truth, so the CLI
// needs neither a credential nor a running hub to revoke.
func (h *Hub) watchRevoked() {
	t := time.NewTicker(RevokeEvery)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		open := func(cid uint64) bool {
			cz, err := h.ns.Connz(&server.ConnzOptions{CID: cid})
			return err != nil || len(cz.Conns) > 0
		}
		for cid, name := range h.auth.revoked(open) {
			h.log.Warn("engine credential revoked: disconnecting its connection", "name", name, "cid", cid)
			h.ns.DisconnectClientByID(cid)
		}
	}
}

// listenError explains why the server did not come up.
func (h *Hub) listenError(opts *server.Options) error {
	addr := net.JoinHostPort(opts.Host, strconv.Itoa(opts.Port))
	if l, err := net.Listen("tcp", addr); err != nil {
		return fmt.Errorf("start hub: cannot listen on %s: %w; choose another --port or stop what uses it", addr, err)
	} else {
		l.Close()
	}
	return fmt.Errorf("start hub: the NATS server did not become ready within 10s on %s", addr)
}

func (h *Hub) serverOptions() *server.Options {
	host := h.cfg.Host
	switch host {
	case "":
		host = "127.0.0.1"
	case "*":
		host = "0.0.0.0"
	}
	port := h.cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:   "pirun-hub-" + h.id[:8],
		Host:         host,
		Port:         port,
		DontListen:   h.cfg.DontListen,
		NoSigs:       true,
		NoLog:        false,
		MaxPayload:   int32(h.cfg.MaxPayload),
		MaxPending:   64 << 20,
		PingInterval: pingInterval,
		MaxPingsOut:  maxPingsOut,
		TLSConfig:    h.cfg.TLS,
		// Daemons and clients sign the nonce with their identity key
		// (transport.Identity), with or without authentication.
		AlwaysEnableNonce: true,
	}
	if h.cfg.TLS != nil {
		opts.TLS, opts.TLSTimeout = true, 5
	}
	h.cfg.Auth.apply(opts, h.auth)
	return opts
}

// InProcess returns the nats.Option that connects to this hub without a
// socket (for the embedded default's client and engines).
func (h *Hub) InProcess() nats.Option { return nats.InProcessServer(h.ns) }

// ClientURL returns the URL the hub listens on ("" when DontListen).
func (h *Hub) ClientURL() string {
	if h.cfg.DontListen {
		return ""
	}
	return h.ns.ClientURL()
}

// Addr returns the address the hub listens on, or nil.
func (h *Hub) Addr() net.Addr {
	if h.cfg.DontListen {
		return nil
	}
	return h.ns.Addr()
}

// Shutdown stops the hub's services and its server. It is idempotent and
// waits for everything to stop.
func (h *Hub) Shutdown() {
	h.once.Do(func() {
		if h.dash != nil {
			h.dash.stop()
		}
		h.mu.Lock() // goWork adds to wg under mu only while stop is open
		close(h.stop)
		h.mu.Unlock()
		h.wg.Wait()
		if h.nc != nil {
			h.nc.Close()
		}
		if h.ns != nil {
			h.ns.Shutdown()
			h.ns.WaitForShutdown()
		}
	})
}

func (h *Hub) subscribe() error {
	for subj, cb := range map[string]nats.MsgHandler{
		wire.SubjectRegister:                h.onRegister,
		wire.RegisterFrom("*"):              h.onRegister,
		wire.SubjectHeartbeat:               h.onHeartbeat,
		wire.HeartbeatFrom("*"):             h.onHeartbeat,
		wire.DoneFrom("*"):                  h.onDoneFrom,
		wire.SubjectQuery:                   h.onQuery,
		wire.SubmitFrom("*"):                h.sched.onSubmit,
		wire.SubjectDone:                    h.sched.onDone,
		wire.SchedControlFrom("*"):          h.sched.onControl,
		wire.SubjectHubAcks:                 h.out.OnAck,
		wire.SubjectRecords:                 h.onRecords,
		wire.RecordsFrom("*"):               h.onRecords,
		wire.ClientAll(wire.DetachedClient): h.onDetached,
		wire.SubjectAdmin:                   h.onAdmin,
	} {
		sub, err := h.nc.Subscribe(subj, cb)
		if err != nil {
			return fmt.Errorf("start hub: subscribe %s: %w", subj, err)
		}
		sub.SetPendingLimits(-1, -1)
	}
	return h.nc.Flush()
}

// respond answers a request with msg, logging failures.
func (h *Hub) respond(m *nats.Msg, msg any) {
	if m.Reply == "" {
		return
	}
	data, err := wire.MarshalMsg(msg)
	if err == nil {
		err = m.Respond(data)
	}
	if err != nil {
		h.log.Warn("answer request", "subject", m.Subject, "err", err)
	}
}

// publish encodes and publishes msg on subj.
func (h *Hub) publish(subj string, msg any) {
	data, err := wire.MarshalMsg(msg)
	if err == nil {
		err = h.nc.Publish(subj, data)
	}
	if err != nil && !h.stopping() {
		h.log.Warn("publish", "subject", subj, "err", err)
	}
}

// goWork runs f in a goroutine Shutdown waits for, and reports false,
// running nothing, once Shutdown has begun. Callers do not hold h.mu.
func (h *Hub) goWork(f func()) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopping() {
		return false
	}
	h.wg.Go(f)
	return true
}

// stopping reports whether Shutdown has begun.
func (h *Hub) stopping() bool {
	select {
	case <-h.stop:
		return true
	default:
		return false
	}
}

func (h *Hub) onRegister(m *nats.Msg) {
	var req wire.Register
	if err := wire.UnmarshalMsg(m.Data, &req); err != nil {
		var pe *wire.ProtocolError
		msg := "malformed registration: " + err.Error()
		if errors.As(err, &pe) {
			msg = fmt.Sprintf("the engine speaks protocol version %d, the hub speaks version %d; run the same pirun release on the hub and every engine", pe.Got, pe.Want)
		}
		h.log.Warn("refuse engine", "reason", msg)
		h.respond(m, &wire.Registered{HubID: h.id, Error: msg, Protocol: wire.ProtocolVersion, Version: h.cfg.Version})
		return
	}
	if from := sender(m.Subject, wire.SubjectRegister); from != "" && from != req.Daemon {
		h.log.Warn("refuse a registration naming another daemon", "daemon", req.Daemon, "from", from)
		h.respond(m, &wire.Registered{HubID: h.id, Error: fmt.Sprintf("daemon %s cannot register as daemon %s", from, req.Daemon)})
		return
	}
	if req.Engines < 1 || req.Engines > 4096 || req.Daemon == "" {
		h.respond(m, &wire.Registered{HubID: h.id, Error: fmt.Sprintf("bad registration: %d engines from daemon %q", req.Engines, req.Daemon)})
		return
	}
	ids, infos, epoch, same := h.register(req)
	if same {
		h.log.Debug("a registration repeated on the same connection", "ids", ids, "host", req.Host)
	} else {
		h.dash.joined(ids)
		h.log.Info("engines joined", "ids", ids, "host", req.Host, "pid", req.PID, "arch", arch(req))
	}
	h.respond(m, &wire.Registered{HubID: h.id, IDs: ids, Heartbeat: int64(h.cfg.Heartbeat),
		Protocol: wire.ProtocolVersion, Version: h.cfg.Version})
	if !same {
		h.publish(wire.SubjectEvents, &wire.Event{Kind: wire.EventJoined, Engines: infos, Epoch: epoch})
	}
}

// register records a daemon and assigns its engine ids, reusing the ids
// it reclaims when they are free.
//
// A registration from the connection the daemon is registered on, for
// the ids it has, is a repeat (the hub asked it to register while its
// first registration was on its way, or the daemon asked again, the
// answer late): it changes nothing and reports same; dropping the daemon
// would fail or retry the tasks it holds.
func (h *Hub) register(req wire.Register) (ids []int, infos []wire.EngineInfo, epoch uint64, same bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.daemons[req.Daemon]; old != nil && req.ConnID != 0 && old.reg.ConnID == req.ConnID &&
		(slices.Equal(old.ids, req.Reclaim) || req.Reclaim == nil && len(old.ids) == req.Engines) {
		old.lastSeen = time.Now()
		for _, id := range old.ids {
			infos = append(infos, h.engines[id].info)
		}
		return old.ids, infos, h.epoch, true
	}
	h.epoch++
	if old := h.daemons[req.Daemon]; old != nil {
		h.dropLocked(old)
	}
	d := &daemonEntry{reg: req, lastSeen: time.Now()}
	for i := range req.Engines {
		id := -1
		if i < len(req.Reclaim) && req.Reclaim[i] >= 0 && h.engines[req.Reclaim[i]] == nil {
			// Its own id, from before a reconnect (or a restart of the
			// hub that lost its registry): keep it, and never give it out.
			id = req.Reclaim[i]
			h.nextID = max(h.nextID, id+1)
		} else {
			id = h.nextID
			h.nextID++
		}
		info := wire.EngineInfo{ID: id, Daemon: req.Daemon, Host: req.Host, Name: req.Name,
			PID: req.PID, Arch: arch(req), Version: req.Version, Joined: time.Now().UnixNano()}
		h.engines[id] = &engineEntry{info: info, daemon: d}
		d.ids = append(d.ids, id)
		infos = append(infos, info)
	}
	h.daemons[req.Daemon] = d
	h.sched.addEngines(req.Daemon, d.ids)
	h.saveRegistryLocked()
	return d.ids, infos, h.epoch, false
}

func arch(r wire.Register) string {
	s := r.GOOS + "/" + r.GOARCH
	if r.GOARM != "" {
		s += "/v" + r.GOARM
	}
	return s
}

func (h *Hub) onHeartbeat(m *nats.Msg) {
	var hb wire.Heartbeat
	if err := wire.UnmarshalMsg(m.Data, &hb); err != nil {
		h.log.Warn("drop a malformed heartbeat", "err", err)
		return
	}
	if from := sender(m.Subject, wire.SubjectHeartbeat); from != "" && from != hb.Daemon {
		h.log.Warn("drop a heartbeat naming another daemon", "daemon", hb.Daemon, "from", from)
		return
	}
	if hb.Leaving {
		h.leave(hb.Daemon)
		if m.Reply != "" {
			m.Respond(nil) // the daemon waits for this before it closes its connection
		}
		return
	}
	now := time.Now()
	h.mu.Lock()
	d := h.daemons[hb.Daemon]
	if d != nil {
		h.dash.heartbeat(now, d.stats, hb.Engines)
		d.lastSeen, d.probedAt, d.waiting = now, time.Time{}, false
		d.stats = hb.Engines
		if hb.Host != nil {
			d.host, d.hostAt = hb.Host, now
		}
	}
	h.mu.Unlock()
	if d == nil {
		// Declared lost (or a hub restart): it is alive, so let it back in,
		// unless it has no engines left: then it was shut down and is leaving.
		if len(hb.Engines) > 0 {
			h.publish(wire.DaemonControlFrom(hb.Daemon, wire.SenderHub), &wire.Control{Op: wire.OpRegister})
		}
		return
	}
	h.sched.observe(hb.Engines)
}

// sender returns the daemon that sent a message on base's pinned form
// (wire.RegisterFrom and the like), "" on base itself: the hub's own
// connection, or a hub without authentication.
func sender(subj, base string) string {
	if subj == base {
		return ""
	}
	return wire.LastToken(subj)
}

// onDoneFrom passes the scheduler a daemon's Done if its engine is one of
// that daemon's. A report for an engine the hub no longer knows is late,
// not forged: its daemon left (or was lost) while it was on its way, and
// the scheduler already let go of that engine's tasks.
func (h *Hub) onDoneFrom(m *nats.Msg) {
	var d wire.Done
	if err := wire.UnmarshalMsg(m.Data, &d); err != nil {
		h.log.Warn("drop a malformed done report", "err", err)
		return
	}
	from := wire.LastToken(m.Subject)
	h.mu.Lock()
	owner, ok := h.daemonOf(d.Engine)
	h.mu.Unlock()
	switch {
	case !ok:
		h.log.Debug("drop a done report for an engine that is gone", "engine", d.Engine, "from", from)
		return
	case owner != from:
		h.log.Warn("drop a done report for an engine of another daemon", "engine", d.Engine, "from", from)
		return
	}
	h.sched.onDone(m)
}

// leave forgets a daemon that stopped cleanly.
func (h *Hub) leave(daemon string) {
	h.mu.Lock()
	var gone []wire.EngineInfo
	if d := h.daemons[daemon]; d != nil {
		gone = h.dropLocked(d)
	}
	epoch := h.epoch
	h.mu.Unlock()
	h.dash.gone(gone, false)
	if len(gone) > 0 {
		h.log.Info("engines stopped", "count", len(gone))
		h.publish(wire.SubjectEvents, &wire.Event{Kind: wire.EventStopped, Engines: gone, Epoch: epoch})
	}
}

// dropLocked forgets a daemon and its engines; h.mu must be held.
func (h *Hub) dropLocked(d *daemonEntry) []wire.EngineInfo {
	h.epoch++
	var infos []wire.EngineInfo
	for _, id := range d.ids {
		if e := h.engines[id]; e != nil && e.daemon == d {
			infos = append(infos, e.info)
			delete(h.engines, id)
		}
	}
	delete(h.daemons, d.reg.Daemon)
	h.sched.removeEngines(d.ids)
	return infos
}

// daemonOf returns the daemon id of engine id; h.mu must be held.
func (h *Hub) daemonOf(id int) (string, bool) {
	e := h.engines[id]
	if e == nil {
		return "", false
	}
	return e.daemon.reg.Daemon, true
}

func (h *Hub) onQuery(m *nats.Msg) {
	var q wire.Query
	if err := wire.UnmarshalMsg(m.Data, &q); err != nil {
		h.respond(m, &wire.QueryReply{HubID: h.id, Error: "malformed query: " + err.Error()})
		return
	}
	switch q.Op {
	case wire.QueryEngines:
		engines, epoch := h.engineList()
		h.respond(m, &wire.QueryReply{HubID: h.id, Engines: engines, URL: h.ClientURL(), Epoch: epoch})
	case wire.QueryQueueStatus:
		if q.Verbose {
			go h.respond(m, h.queueStatusOf(asker(m.Reply, q.Client)))
		} else {
			go h.respond(m, h.queueStatus())
		}
	case wire.QueryShutdown:
		if q.Hub {
			if !h.goWork(func() { h.shutdownHub(m) }) {
				h.respond(m, &wire.QueryReply{HubID: h.id, Error: "the hub is stopping already; nothing more to shut down"})
			}
		} else {
			go h.respond(m, h.shutdownEngines(q.Engines))
		}
	case wire.QueryTasks:
		// Listing (no ids) shows a client only its own records; only an
		// unconfined connection (the hub credential) lists everyone's.
		// Records asked by id are shown to whoever knows the ids.
		of := ""
		if len(q.Tasks) == 0 && !unconfined(m.Reply) {
			if of = asker(m.Reply, q.Client); of == "" {
				h.respond(m, &wire.QueryReply{HubID: h.id, Error: "list task records from a client's own inbox, or with the hub credential"})
				return
			}
		}
		recs, unknown := h.recs.query(q.Tasks, q.Limit, of)
		h.respond(m, &wire.QueryReply{HubID: h.id, Records: recs, Unknown: unknown})
	case wire.QueryResults:
		h.fetchResults(m, q)
	default:
		h.respond(m, &wire.QueryReply{HubID: h.id, Error: fmt.Sprintf("unknown query %d", q.Op)})
	}
}

// engineList returns the live engines by id, and the roster version.
func (h *Hub) engineList() ([]wire.EngineInfo, uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]wire.EngineInfo, 0, len(h.engines))
	for id := range h.nextID {
		if e := h.engines[id]; e != nil {
			out = append(out, e.info)
		}
	}
	return out, h.epoch
}

// daemonsOf groups engine ids by daemon (all engines when ids is empty).
func (h *Hub) daemonsOf(ids []int) map[string][]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string][]int)
	if len(ids) == 0 {
		for id := range h.engines {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		if d, ok := h.daemonOf(id); ok {
			out[d] = append(out[d], id)
		}
	}
	return out
}

// control sends c to every daemon holding the engines and gathers replies.
func (h *Hub) control(c wire.Control, ids []int) []wire.ControlReply {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var replies []wire.ControlReply
	for d, engines := range h.daemonsOf(ids) {
		c := c
		c.Engines = engines
		wg.Go(func() {
			r, err := request(h.nc, wire.DaemonControlFrom(d, wire.SenderHub), &c, 2*time.Second)
			if err != nil {
				h.log.Warn("control request", "daemon", d, "op", c.Op, "err", err)
				return
			}
			mu.Lock()
			replies = append(replies, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	return replies
}

// queueStatusOf is queueStatus with the task ids of client's tasks: a
// client sees its own ids, not other clients' (load-balanced task ids
// are secrets between the hub and the daemon running them).
func (h *Hub) queueStatusOf(client string) *wire.QueryReply {
	r := &wire.QueryReply{HubID: h.id, Unassigned: h.sched.queued()}
	if client == "" {
		r.Error = "a verbose queue_status must come from a client's own inbox"
		return r
	}
	r.UnassignedIDs = h.sched.queuedOf(client)
	for _, c := range h.control(wire.Control{Op: wire.OpStats, Verbose: true, Client: client}, nil) {
		r.Stats = append(r.Stats, c.Stats...)
	}
	return r
}

// asker returns the client whose task ids a query may list: the one whose
// inbox gets the answer. A remote client may subscribe only to its own
// inbox (_INBOX.<its id>.>, pinned by the hub's permissions), so when the
// reply goes to an identity's inbox, that identity is the asker whatever
// the query claims; a reply elsewhere (an in-process client's plain
// inbox) can be read by no permission-bound client, and the query's own
// Client stands.
func asker(reply, claimed string) string {
	rest, ok := strings.CutPrefix(reply, wire.ClientInboxPrefix+".")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ".")
	if id == claimed || !nkeys.IsValidPublicUserKey(id) {
		return claimed
	}
	return id
}

// unconfined reports whether a reply subject can be read only by an
// unconfined connection (the hub credential, in-process): an inbox that is
// not an identity's. A client bound by clientPermissions reads only its
// own identity's inbox, so it never sees an answer sent elsewhere.
func unconfined(reply string) bool {
	rest, ok := strings.CutPrefix(reply, wire.ClientInboxPrefix+".")
	if !ok {
		return false
	}
	id, _, _ := strings.Cut(rest, ".")
	return !nkeys.IsValidPublicUserKey(id)
}

func (h *Hub) queueStatus() *wire.QueryReply {
	r := &wire.QueryReply{HubID: h.id, Unassigned: h.sched.queued()}
	for _, c := range h.control(wire.Control{Op: wire.OpStats}, nil) {
		r.Stats = append(r.Stats, c.Stats...)
	}
	return r
}

func (h *Hub) shutdownEngines(ids []int) *wire.QueryReply {
	// No task goes to them meanwhile: their daemon would answer it Lost,
	// and the scheduler could not retry it.
	h.sched.leave(ids)
	h.control(wire.Control{Op: wire.OpShutdown}, ids)
	h.mu.Lock()
	var gone []wire.EngineInfo
	if len(ids) == 0 {
		for id := range h.engines {
			ids = append(ids, id)
		}
	}
	h.epoch++
	for _, id := range ids {
		e := h.engines[id]
		if e == nil {
			continue
		}
		gone = append(gone, e.info)
		delete(h.engines, id)
		h.sched.removeEngines([]int{id})
		d := e.daemon
		d.ids = deleteInt(d.ids, id)
		if len(d.ids) == 0 {
			delete(h.daemons, d.reg.Daemon)
		}
	}
	epoch := h.epoch
	h.mu.Unlock()
	h.dash.gone(gone, false)
	if len(gone) > 0 {
		h.publish(wire.SubjectEvents, &wire.Event{Kind: wire.EventStopped, Engines: gone, Epoch: epoch})
	}
	return &wire.QueryReply{HubID: h.id, Engines: gone}
}

func deleteInt(s []int, v int) []int {
	out := s[:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// sendData publishes msg on subj, in parts if it is large; a send waiting
// for acknowledgements gives up when the hub stops.
func (h *Hub) sendData(subj string, msg any) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-h.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := h.out.SendMsg(ctx, subj, msg); err != nil {
		h.log.Warn("publish", "subject", subj, "err", err)
	}
}

// receive is transport.Receive on the hub's connection (for the
// scheduler); the sender is the subject's last token (wire.SubmitFrom).
func (h *Hub) receive(asm *transport.Assembler, m *nats.Msg) ([]byte, error) {
	return transport.Receive(h.nc, asm, m, wire.LastToken(m.Subject))
}

// ask is request on the hub's connection (for the scheduler).
func (h *Hub) ask(subj string, msg any, timeout time.Duration) (wire.ControlReply, error) {
	return request(h.nc, subj, msg, timeout)
}

// request sends msg on subj and decodes a ControlReply.
func request(nc *nats.Conn, subj string, msg any, timeout time.Duration) (wire.ControlReply, error) {
	var r wire.ControlReply
	data, err := wire.MarshalMsg(msg)
	if err != nil {
		return r, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	m, err := nc.RequestWithContext(ctx, subj, data)
	if err != nil {
		return r, err
	}
	err = wire.UnmarshalMsg(m.Data, &r)
	return r, err
}
