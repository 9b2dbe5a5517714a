// This file defines how the hub tells a dead engine daemon from a stalled
// one. Heartbeats come from their own goroutine, but a whole engine
// process can stall for seconds: go.starlark.net's `[0] * 100000000`
// copies 1.6 GB in one non-preemptible call, and the Go collector waits
// for it to stop the world, heartbeats and NATS's PONGs included. Its
// machine still acknowledges TCP, which a dead machine or a cut link does
// not. So a daemon is lost (Hub.sweepOnce, in hub.go, applies this):
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

// unreachable reports whether the machine at the other end of client
// connection cid fails to acknowledge TCP: bytes the hub sent it wait
// past a retransmission timeout. known is false where that cannot be
// told: not Linux, an unknown connection, no such socket.
func (h *Hub) unreachable(cid uint64) (unreached, known bool) {
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
		b, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		if st, ok := socketState(string(b), procAddr(addr, cz.Conns[0].Port), local.Port); ok {
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
