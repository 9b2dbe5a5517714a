// This file defines Kernel: its sockets, the goroutines that serve them,
// and how a message is received, checked and answered.

package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/go-zeromq/zmq4"
	"go.starlark.net/starlark"
)

// Session runs the cells of a kernel. The kernel calls Execute, Complete,
// IsComplete and Inspect from one goroutine, one call at a time;
// Interrupt may come from another at any time.
type Session interface {
	// Execute runs the cell code as cell number n (0: the next free
	// number) and returns the value of its final expression, or nil. A
	// failure is a *CellError when the session can say more.
	Execute(ctx context.Context, n int, code string) (starlark.Value, error)
	// Interrupt cancels the running cell and aborts its remote tasks.
	Interrupt()
	// Complete returns the candidates for the word that ends at byte
	// offset cursor of code, and the byte offset where that word starts.
	Complete(code string, cursor int) (matches []string, start int)
	// IsComplete says whether code is "complete", "incomplete" (with the
	// indent of the next line) or "invalid".
	IsComplete(code string) (status, indent string)
	// Inspect returns the documentation of the name at byte offset
	// cursor of code.
	Inspect(code string, cursor int) (doc string, ok bool)
}

// CellError is a failed cell as Jupyter shows it.
type CellError struct {
	Name      string   // ename: the kind of error
	Value     string   // evalue: the message
	Traceback []string // lines, the last one the message
}

func (e *CellError) Error() string { return e.Name + ": " + e.Value }

// Config configures a Kernel. It is plain data.
type Config struct {
	Conn    ConnInfo
	Version string // pirun's version, for kernel_info
	Banner  string // kernel_info's banner
}

// Kernel serves the Jupyter protocol on the sockets of a connection file.
// NewKernel binds them; Run serves until a shutdown_request or until its
// context is done. Stdout, Stderr and Progress are safe for concurrent
// use and may be used before Run.
type Kernel struct {
	cfg  Config
	log  *slog.Logger
	sign *signer
	sess string // this kernel's session id

	shell, control, stdin *routerSocket
	iopub                 *pubSocket
	hb                    zmq4.Socket

	parent atomic.Pointer[Header] // the request whose output is being sent
	count  int                    // execution_count; only the shell goroutine touches it
	disp   progressState

	queued  chan *Message // the shell requests received, not yet handled (Run sets it)
	session Session
	cancel  context.CancelFunc
	restart atomic.Bool
}

// NewKernel binds the sockets that cfg.Conn names. Ports that are 0 are
// chosen by the system and written back into the kernel's ConnInfo (see
// [Kernel.Conn]). Close releases them.
func NewKernel(cfg Config, log *slog.Logger) (*Kernel, error) {
	if err := cfg.Conn.Validate(); err != nil {
		return nil, err
	}
	sign, err := newSigner(cfg.Conn.SignatureScheme, cfg.Conn.Key)
	if err != nil {
		return nil, err
	}
	k := &Kernel{cfg: cfg, log: log, sign: sign, sess: newID()}
	ctx := context.Background()
	k.shell = &routerSocket{s: zmq4.NewRouter(ctx)}
	k.control = &routerSocket{s: zmq4.NewRouter(ctx)}
	k.stdin = &routerSocket{s: zmq4.NewRouter(ctx)}
	k.iopub = &pubSocket{s: zmq4.NewPub(ctx)}
	k.hb = zmq4.NewRep(ctx)
	socks := []zmq4.Socket{k.shell.s, k.control.s, k.iopub.s, k.stdin.s, k.hb}
	for i, p := range k.cfg.Conn.ports() {
		if err := socks[i].Listen(k.cfg.Conn.endpoint(*p.port)); err != nil {
			k.Close()
			return nil, fmt.Errorf("listen on %s (%s of the connection file): %w", k.cfg.Conn.endpoint(*p.port), p.name, err)
		}
		if a, ok := socks[i].Addr().(*net.TCPAddr); ok {
			*p.port = a.Port
		}
	}
	return k, nil
}

// Conn returns the connection information the kernel listens on.
func (k *Kernel) Conn() ConnInfo { return k.cfg.Conn }

// Close closes the sockets. It is idempotent.
func (k *Kernel) Close() {
	for _, s := range []zmq4.Socket{k.shell.s, k.control.s, k.iopub.s, k.stdin.s, k.hb} {
		if s != nil {
			s.Close()
		}
	}
}

// Restart reports whether Run ended on a shutdown_request with restart
// true.
func (k *Kernel) Restart() bool { return k.restart.Load() }

// Run serves the protocol with s running the cells, until a
// shutdown_request or until ctx is done. It closes the sockets when it
// returns, after every goroutine it started has ended.
func (k *Kernel) Run(ctx context.Context, s Session) error {
	k.session = s
	ctx, k.cancel = context.WithCancel(ctx)
	defer k.cancel()
	shellIn := make(chan *Message, 64)
	k.queued = shellIn
	var wg sync.WaitGroup
	wg.Go(func() { k.heartbeat(ctx) })
	wg.Go(func() { k.receive(ctx, k.shell, "shell", shellIn) })
	controlIn := make(chan *Message, 16)
	wg.Go(func() { k.receive(ctx, k.control, "control", controlIn) })
	wg.Go(func() { k.receive(ctx, k.stdin, "stdin", nil) })
	var control sync.WaitGroup
	control.Go(func() { k.serveControl(ctx, controlIn) })
	k.publish(nil, "status", map[string]string{"execution_state": "starting"})
	k.serveShell(ctx, shellIn)
	k.cancel()
	control.Wait() // its last replies go out before the sockets close
	k.Close()      // ends the readers' Recv
	wg.Wait()
	return nil
}

// receive reads messages from one socket, checks them and hands them to
// out (nil: logged and dropped). Bad input is logged, never fatal.
func (k *Kernel) receive(ctx context.Context, sock *routerSocket, channel string, out chan<- *Message) {
	defer func() {
		if out != nil {
			close(out)
		}
	}()
	for {
		raw, err := sock.s.Recv()
		if err != nil {
			if ctx.Err() == nil {
				k.log.Error("kernel: receive failed; the channel stops", "channel", channel, "err", err)
			}
			return
		}
		m, err := k.sign.decode(raw.Frames)
		switch {
		case errors.Is(err, ErrBadSignature):
			k.log.Error("kernel: message with a bad signature dropped (is the connection file's key the client's?)", "channel", channel, "frames", len(raw.Frames))
			continue
		case err != nil:
			k.log.Error("kernel: malformed message dropped", "channel", channel, "err", err)
			continue
		case out == nil:
			k.log.Warn("kernel: message on a channel this kernel does not read, dropped", "channel", channel, "msg_type", m.Header.MsgType)
			continue
		}
		select {
		case out <- m:
		case <-ctx.Done():
			return
		}
	}
}

// heartbeat echoes every ping.
func (k *Kernel) heartbeat(ctx context.Context) {
	for {
		msg, err := k.hb.Recv()
		if err != nil {
			if ctx.Err() == nil {
				k.log.Error("kernel: heartbeat stopped", "err", err)
			}
			return
		}
		if err := k.hb.Send(msg); err != nil && ctx.Err() == nil {
			k.log.Warn("kernel: heartbeat reply failed", "err", err)
		}
	}
}

// reply sends a reply to req on sock.
func (k *Kernel) reply(sock *routerSocket, req *Message, msgType string, content any) {
	m, err := k.newMessage(&req.Header, msgType, content)
	if err != nil {
		k.log.Error("kernel: cannot encode a reply", "msg_type", msgType, "err", err)
		return
	}
	m.Identities = req.Identities
	frames, err := k.sign.encode(m)
	if err == nil {
		err = sock.send(frames)
	}
	if err != nil {
		// a client gone, or one that reconnected: not the kernel's failure
		k.log.Warn("kernel: reply not delivered", "msg_type", msgType, "err", err)
	}
}

// publish sends a message on iopub with parent as its parent header.
func (k *Kernel) publish(parent *Header, msgType string, content any) {
	m, err := k.newMessage(parent, msgType, content)
	if err != nil {
		k.log.Error("kernel: cannot encode an iopub message", "msg_type", msgType, "err", err)
		return
	}
	m.Identities = [][]byte{[]byte("kernel." + k.sess + "." + msgType)}
	frames, err := k.sign.encode(m)
	if err == nil {
		err = k.iopub.send(frames)
	}
	if err != nil {
		k.log.Warn("kernel: iopub message not sent", "msg_type", msgType, "err", err)
	}
}

// newMessage returns a message of msgType answering parent (nil: none).
func (k *Kernel) newMessage(parent *Header, msgType string, content any) (*Message, error) {
	body, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	m := &Message{Header: Header{MsgID: newID(), Session: k.sess, Username: "pirun", Date: now(),
		MsgType: msgType, Version: ProtocolVersion}, Content: body, Metadata: json.RawMessage("{}")}
	if parent != nil {
		if m.Parent, err = json.Marshal(parent); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// routerSocket is a ROUTER socket whose sends are serialised.
type routerSocket struct {
	s  zmq4.Socket
	mu sync.Mutex
}

func (r *routerSocket) send(frames [][]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.s.SendMulti(zmq4.NewMsgFrom(frames...))
}

// pubSocket is the iopub PUB socket whose sends are serialised, so that
// the messages of one request keep their order.
type pubSocket struct {
	s  zmq4.Socket
	mu sync.Mutex
}

func (p *pubSocket) send(frames [][]byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.s.SendMulti(zmq4.NewMsgFrom(frames...))
}
