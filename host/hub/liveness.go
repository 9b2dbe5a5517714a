// This file defines how the hub tells a dead engine daemon from a stalled
// one. Heartbeats come from their own goroutine, but a whole engine
// process can stall for seconds: go.starlark.net's `[0] * 100000000`
// copies 1.6 GB in one non-preemptible call, and the Go collector waits
// for it to stop the world, heartbeats and NATS's PONGs included. Its
// machine still acknowledges TCP, which a dead machine or a cut link does
// not. So a daemon is lost (Hub.sweepOnce applies this, reading the
// socket table without the hub's lock):
//
//   - at once when its connection closes (the process died, even by
//     SIGKILL: its kernel closes the socket);
//   - silent past EngineTimeout, when its machine does not acknowledge the
//     hub's bytes: the hub probes it with a message and reads the socket's
//     state (Linux's /proc/net/tcp: bytes waiting past a retransmission
//     timeout), and where that cannot be read, at EngineTimeout as before;
//   - when the server's PING/PONG closes its connection, frozen past
//     (maxPingsOut+1) × pingInterval (a stopped process), or silent past
//     StallTimeout.

package hub

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// pingInterval and maxPingsOut are the server's PING/PONG on every
// connection: one that answers none of maxPingsOut PINGs in a row is
// closed, some (maxPingsOut+1) × pingInterval after it froze.
const (
	pingInterval = 2 * time.Second
	maxPingsOut  = 7
)

// defaultStallTimeout is Config.StallTimeout's default.
const defaultStallTimeout = 30 * time.Second

// sweep declares daemons lost when they stop sending heartbeats.
func (h *Hub) sweep() {
	t := time.NewTicker(h.cfg.Heartbeat / 2)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			h.sweepOnce(now)
		}
	}
}

// sweepCheck is what sweepOnce notes of a daemon under h.mu, to judge it
// without the lock.
type sweepCheck struct {
	d      *daemonEntry
	seen   time.Time // d.lastSeen when noted: a heartbeat since voids the verdict
	silent time.Duration
	late   bool // silent past EngineTimeout, and the hub able to tell
	probed bool // probed already, silent and connected
}

// Verdicts of sweepOnce on a daemon.
const (
	verdictAlive = iota
	verdictClosed
	verdictSilent      // past StallTimeout, or its machine's state unknown
	verdictUnreachable // its machine does not acknowledge TCP
	verdictProbe       // silent and connected: probe it
	verdictWaiting     // silent, its machine acknowledging: a stalled process
)

// sweepOnce judges every daemon. It notes their state under h.mu, reads
// the server's connections and the kernel's socket table without it (a
// slow /proc or many daemons never hold up heartbeats, registrations or
// queries), and applies the verdicts under h.mu again to the daemons
// that sent nothing meanwhile.
func (h *Hub) sweepOnce(now time.Time) {
	h.mu.Lock()
	stalled := !h.lastSweep.IsZero() && now.Sub(h.lastSweep) > 2*h.cfg.Heartbeat
	h.lastSweep = now
	checks := make([]sweepCheck, 0, len(h.daemons))
	for _, d := range h.daemons {
		silent := now.Sub(d.lastSeen)
		// Heartbeats judge engines across a network; a stalled hub (its
		// own sweeper late) has not read theirs yet, and in-process
		// engines die only with their connection.
		late := !stalled && !h.cfg.DontListen && silent > h.cfg.EngineTimeout
		checks = append(checks, sweepCheck{d: d, seen: d.lastSeen, silent: silent, late: late, probed: !d.probedAt.IsZero()})
	}
	h.mu.Unlock()

	verdicts := make([]int, len(checks))
	var tab socketTables
	for i, c := range checks {
		verdicts[i] = h.judge(c, &tab)
	}

	h.mu.Lock()
	var lost []wire.EngineInfo
	var probe []string
	for i, c := range checks {
		d := c.d
		if verdicts[i] == verdictAlive || h.daemons[d.reg.Daemon] != d || !d.lastSeen.Equal(c.seen) {
			continue // alive, gone, or heard from since it was noted
		}
		silent := c.silent.Round(time.Millisecond)
		switch verdicts[i] {
		case verdictProbe:
			d.probedAt = now
			probe = append(probe, d.reg.Daemon)
			continue
		case verdictWaiting:
			if !d.waiting {
				d.waiting = true
				h.log.Info("engines silent but connected, their machine answering: waiting for the process (a long allocation or GC pause?)",
					"ids", d.ids, "host", d.reg.Host, "silent", silent)
			}
			continue
		case verdictClosed:
			h.log.Warn("engines lost: their connection closed", "ids", d.ids, "host", d.reg.Host)
		case verdictUnreachable:
			h.log.Warn("engines lost: no heartbeat, and their machine does not acknowledge the hub's messages (network down or machine off)",
				"ids", d.ids, "host", d.reg.Host, "silent", silent)
		default:
			h.log.Warn("engines lost: no heartbeat", "ids", d.ids, "host", d.reg.Host, "silent", silent)
		}
		lost = append(lost, h.dropLocked(d)...)
	}
	epoch := h.epoch
	h.mu.Unlock()
	for _, d := range probe {
		// Bytes for its machine to acknowledge; a stats request without a
		// reply costs the daemon a lock or two when it wakes.
		h.publish(wire.DaemonControlFrom(d, wire.SenderHub), &wire.Control{Op: wire.OpStats})
	}
	h.dash.gone(lost, true)
	if len(lost) > 0 {
		h.publish(wire.SubjectEvents, &wire.Event{Kind: wire.EventLost, Engines: lost, Epoch: epoch})
	}
}

// judge returns the verdict on the daemon of c, without h.mu: its
// connection's state and, for one silent and connected, its machine's.
func (h *Hub) judge(c sweepCheck, tab *socketTables) int {
	switch {
	case !h.connected(c.d.reg.ConnID):
		return verdictClosed
	case !c.late:
		return verdictAlive
	case c.silent > h.cfg.StallTimeout:
		return verdictSilent
	case !c.probed:
		return verdictProbe
	}
	unreached, known := h.unreachable(c.d.reg.ConnID, tab)
	switch {
	case !known:
		return verdictSilent
	case unreached:
		return verdictUnreachable
	}
	return verdictWaiting
}

// connected reports whether the client connection cid is open; 0 (not
// known) counts as open, leaving the judgement to heartbeats.
func (h *Hub) connected(cid uint64) bool {
	if cid == 0 {
		return true
	}
	cz, err := h.ns.Connz(&server.ConnzOptions{CID: cid})
	return err != nil || len(cz.Conns) > 0
}

// socketTables holds the kernel's socket tables, each read at most once
// per sweep, when a daemon first needs it.
type socketTables struct {
	text map[string]string // file → its text; "" when unreadable
}

func (t *socketTables) get(h *Hub, file string) string {
	if text, ok := t.text[file]; ok {
		return text
	}
	read := h.readSockets
	if read == nil {
		read = os.ReadFile
	}
	b, err := read(file)
	if t.text == nil {
		t.text = make(map[string]string)
	}
	t.text[file] = ""
	if err == nil {
		t.text[file] = string(b)
	}
	return t.text[file]
}

// unreachable reports whether the machine at the other end of client
// connection cid fails to acknowledge TCP: bytes the hub sent it wait
// past a retransmission timeout. known is false where that cannot be
// told: not Linux, an unknown connection, no such socket.
func (h *Hub) unreachable(cid uint64, tab *socketTables) (unreached, known bool) {
	if cid == 0 {
		return false, false
	}
	cz, err := h.ns.Connz(&server.ConnzOptions{CID: cid})
	if err != nil || len(cz.Conns) == 0 {
		return false, false
	}
	local, ok := h.ns.Addr().(*net.TCPAddr)
	if !ok {
		return false, false
	}
	remote := net.ParseIP(cz.Conns[0].IP)
	if remote == nil {
		return false, false
	}
	// An IPv4 peer of an IPv4 listener is in tcp; of a dual-stack one, in
	// tcp6 as ::ffff:a.b.c.d (To16).
	for file, addr := range map[string]net.IP{"/proc/net/tcp": remote.To4(), "/proc/net/tcp6": remote.To16()} {
		if addr == nil {
			continue
		}
		text := tab.get(h, file)
		if text == "" {
			continue
		}
		if st, ok := socketState(text, procAddr(addr, cz.Conns[0].Port), local.Port); ok {
			return st.unacked(), true
		}
	}
	return false, false
}

// tcpState is a socket's line of /proc/net/tcp.
type tcpState struct {
	txQueue uint64 // bytes sent and not acknowledged (or not sent yet)
	timer   int    // 1: a retransmission is pending; 4: a zero-window probe
	retrans int    // retransmission timeouts without an acknowledgement
}

// unacked reports whether the peer let a retransmission timeout pass
// without acknowledging what was sent to it. A live peer whose process
// stalls still acknowledges; one whose receive window is full gets
// zero-window probes (timer 4), which it acknowledges too.
func (s tcpState) unacked() bool { return s.txQueue > 0 && s.timer == 1 && s.retrans > 0 }

// socketState finds the established socket from local port lport to
// remote (as procAddr writes it) in the text of /proc/net/tcp or tcp6.
func socketState(text, remote string, lport int) (tcpState, bool) {
	suffix := fmt.Sprintf(":%04X", lport)
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 7 || f[2] != remote || !strings.HasSuffix(f[1], suffix) || f[3] != "01" {
			continue
		}
		tx, _, _ := strings.Cut(f[4], ":")
		tr, _, _ := strings.Cut(f[5], ":")
		var st tcpState
		var err error
		if st.txQueue, err = strconv.ParseUint(tx, 16, 64); err != nil {
			return tcpState{}, false
		}
		timer, err1 := strconv.ParseUint(tr, 16, 8)
		retrans, err2 := strconv.ParseUint(f[6], 16, 32)
		if err1 != nil || err2 != nil {
			return tcpState{}, false
		}
		st.timer, st.retrans = int(timer), int(retrans)
		return st, true
	}
	return tcpState{}, false
}

// procAddr writes ip:port as /proc/net/tcp does: each 32-bit word of the
// address (in network order in memory) printed as a native integer; ip
// has 4 bytes for tcp, 16 for tcp6.
func procAddr(ip net.IP, port int) string {
	var b strings.Builder
	for i := 0; i+4 <= len(ip); i += 4 {
		fmt.Fprintf(&b, "%08X", binary.NativeEndian.Uint32(ip[i:i+4]))
	}
	fmt.Fprintf(&b, ":%04X", port)
	return b.String()
}
