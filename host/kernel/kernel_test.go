package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
	"go.starlark.net/starlark"
)

// testSession runs cells without a cluster: "sleep" waits for Interrupt,
// "fail" fails, anything else prints "ran CODE" and returns its length.
type testSession struct {
	k           *Kernel
	mu          sync.Mutex
	ran         []string
	done, total int
	interrupted chan struct{}
}

func (s *testSession) Progress() (int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done, s.total
}

func (s *testSession) Execute(ctx context.Context, n int, code string) (starlark.Value, error) {
	s.mu.Lock()
	s.ran = append(s.ran, code)
	s.mu.Unlock()
	switch code {
	case "sleep":
		select {
		case <-s.interrupted:
			return nil, &CellError{Name: "Interrupted", Value: "interrupted", Traceback: []string{"interrupted"}}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case "fail":
		return nil, &CellError{Name: "Error", Value: "boom", Traceback: []string{"<cell:1>:1:1: in <toplevel>", "Error: boom"}}
	case "longmap": // four tasks over 1.6s, as a long map's
		for i := range 5 {
			s.mu.Lock()
			s.done, s.total = i, 4
			s.mu.Unlock()
			time.Sleep(400 * time.Millisecond)
		}
		s.mu.Lock()
		s.done, s.total = 0, 0 // finished calls are forgotten
		s.mu.Unlock()
		return nil, nil
	case "progress":
		fmt.Fprint(s.k.Progress(), "\rmap [....] 0/2 tasks 0.0s")
		fmt.Fprint(s.k.Progress(), "\rmap [##..] 1/2 tasks 0.1s")
		fmt.Fprint(s.k.Progress(), "\rmap [####] 2/2 tasks 0.2s\n")
		return nil, nil
	}
	fmt.Fprintf(s.k.Stdout(), "ran %s\n", code)
	return starlark.MakeInt(len(code)), nil
}

func (s *testSession) Interrupt() {
	select {
	case s.interrupted <- struct{}{}:
	default:
	}
}

func (s *testSession) Complete(code string, cursor int) ([]string, int) {
	return []string{"load_balanced_view"}, strings.LastIndexByte(code[:cursor], '.') + 1
}
func (s *testSession) IsComplete(code string) (string, string) { return "incomplete", "    " }
func (s *testSession) Inspect(code string, cursor int) (string, bool) {
	return "doc of " + code, true
}

func (s *testSession) cells() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ran...)
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testClient is a Jupyter client made of real ZeroMQ sockets.
type testClient struct {
	t              *testing.T
	sign           *signer
	shell, control zmq4.Socket
	iopub, hb      zmq4.Socket
	session        string
}

// startKernel runs a kernel with a test session on free ports.
func startKernel(t *testing.T) (*Kernel, *testSession, *syncBuffer, <-chan struct{}) {
	t.Helper()
	logs := new(syncBuffer)
	log := slog.New(slog.NewTextHandler(logs, nil))
	k, err := NewKernel(Config{Conn: ConnInfo{IP: "127.0.0.1", Key: "test-key"}, Version: "test"}, log)
	if err != nil {
		t.Fatal(err)
	}
	s := &testSession{k: k, interrupted: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := k.Run(ctx, s); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return 20s after its context was cancelled")
		}
	})
	return k, s, logs, done
}

// dial connects a client to k's sockets; identity names its shell socket.
func dial(t *testing.T, k *Kernel, identity string) *testClient {
	t.Helper()
	ci := k.Conn()
	sign, _ := newSigner(ci.SignatureScheme, ci.Key)
	ctx := context.Background()
	c := &testClient{t: t, sign: sign, session: identity,
		shell:   zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity(identity))),
		control: zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity(identity+"-control"))),
		iopub:   zmq4.NewSub(ctx),
		hb:      zmq4.NewReq(ctx),
	}
	for _, d := range []struct {
		s    zmq4.Socket
		port int
	}{{c.shell, ci.ShellPort}, {c.control, ci.ControlPort}, {c.iopub, ci.IOPubPort}, {c.hb, ci.HBPort}} {
		if err := d.s.Dial(ci.endpoint(d.port)); err != nil {
			t.Fatalf("dial %d: %v", d.port, err)
		}
	}
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

func (c *testClient) close() {
	for _, s := range []zmq4.Socket{c.shell, c.control, c.iopub, c.hb} {
		s.Close()
	}
}

// request sends a request of msgType on sock and returns its msg_id.
func (c *testClient) request(sock zmq4.Socket, msgType string, content any) string {
	c.t.Helper()
	body, _ := json.Marshal(content)
	m := &Message{Header: Header{MsgID: newID(), Session: c.session, MsgType: msgType, Version: ProtocolVersion, Date: now()},
		Content: body}
	frames, err := c.sign.encode(m)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := sock.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatalf("send %s: %v", msgType, err)
	}
	return m.Header.MsgID
}

// recv reads the next message of sock, failing after the deadline.
func (c *testClient) recv(sock zmq4.Socket, within time.Duration) *Message {
	c.t.Helper()
	type result struct {
		m   zmq4.Msg
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := sock.Recv()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			c.t.Fatalf("recv: %v", r.err)
		}
		frames := r.m.Frames
		if sock.Type() == zmq4.Sub {
			frames = frames[1:] // the topic
		}
		m, err := c.sign.decode(frames)
		if err != nil {
			c.t.Fatalf("decode a kernel message: %v", err)
		}
		return m
	case <-time.After(within):
		c.t.Fatalf("no message within %v", within)
	}
	return nil
}

// waitIOPub sends kernel_info requests until iopub delivers, as
// jupyter_client does: a PUB socket drops what it sends before a
// subscription arrives (the "slow joiner").
func (c *testClient) waitIOPub() {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	got := make(chan struct{})
	go func() {
		c.iopub.Recv()
		close(got)
	}()
	for {
		c.request(c.shell, "kernel_info_request", map[string]any{})
		c.recv(c.shell, 10*time.Second)
		select {
		case <-got:
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("iopub delivered nothing within 20s of kernel_info requests")
		}
	}
}

// untilIdle collects the iopub messages answering parent up to its idle
// status.
func (c *testClient) untilIdle(parent string) []*Message {
	c.t.Helper()
	var out []*Message
	for {
		m := c.recv(c.iopub, 10*time.Second)
		var p Header
		json.Unmarshal(m.Parent, &p)
		if p.MsgID != parent {
			continue
		}
		out = append(out, m)
		if m.Header.MsgType == "status" && strings.Contains(string(m.Content), `"idle"`) {
			return out
		}
	}
}

func msgTypes(ms []*Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Header.MsgType)
	}
	return out
}

func TestKernelInfoAndExecute(t *testing.T) {
	k, s, _, _ := startKernel(t)
	c := dial(t, k, "client-a")
	c.waitIOPub()

	id := c.request(c.shell, "kernel_info_request", map[string]any{})
	reply := c.recv(c.shell, 10*time.Second)
	var info struct {
		ProtocolVersion string `json:"protocol_version"`
		Implementation  string `json:"implementation"`
		LanguageInfo    struct {
			Name, FileExtension, PygmentsLexer string
		} `json:"language_info"`
	}
	json.Unmarshal(reply.Content, &info)
	var parent Header
	json.Unmarshal(reply.Parent, &parent)
	if reply.Header.MsgType != "kernel_info_reply" || parent.MsgID != id || info.ProtocolVersion != "5.3" ||
		info.Implementation != "pirun" || info.LanguageInfo.Name != "starlark" {
		t.Errorf("kernel_info reply = %s %s (parent %s), want kernel_info_reply for %s, 5.3, pirun, starlark",
			reply.Header.MsgType, reply.Content, parent.MsgID, id)
	}
	c.untilIdle(id)

	id = c.request(c.shell, "execute_request", map[string]any{"code": "abc", "silent": false})
	reply = c.recv(c.shell, 10*time.Second)
	if got := string(reply.Content); !strings.Contains(got, `"status":"ok"`) || !strings.Contains(got, `"execution_count":1`) {
		t.Errorf("execute_reply = %s, want status ok and execution_count 1", got)
	}
	pub := c.untilIdle(id)
	if got, want := strings.Join(msgTypes(pub), " "), "status execute_input stream execute_result status"; got != want {
		t.Errorf("iopub for an execute = %s, want %s", got, want)
	}
	if len(pub) == 5 {
		if got := string(pub[2].Content); !strings.Contains(got, `"text":"ran abc\n"`) {
			t.Errorf("stream = %s, want the cell's output", got)
		}
		if got := string(pub[3].Content); !strings.Contains(got, `"text/plain":"3"`) {
			t.Errorf("execute_result = %s, want text/plain 3", got)
		}
	}
	if got := s.cells(); len(got) != 1 || got[0] != "abc" {
		t.Errorf("cells run = %q, want [abc]", got)
	}
}

func TestBadSignatureDropped(t *testing.T) {
	k, s, logs, _ := startKernel(t)
	c := dial(t, k, "client-b")
	c.waitIOPub()
	good := c.sign
	c.sign, _ = newSigner("hmac-sha256", "wrong-key")
	c.request(c.shell, "execute_request", map[string]any{"code": "evil"})
	c.sign = good
	// malformed input of every kind must not stop the kernel either
	c.shell.SendMulti(zmq4.NewMsgFrom([]byte("no delimiter")))
	c.shell.SendMulti(zmq4.NewMsgFrom(signed(good, `{"msg_type":"execute_request"}`, "{}", "{}", "not json")...))
	c.request(c.shell, "no_such_request", map[string]any{})
	if reply := c.recv(c.shell, 10*time.Second); reply.Header.MsgType != "no_such_reply" ||
		!strings.Contains(string(reply.Content), `"status":"error"`) {
		t.Errorf("reply to an unknown request = %s %s, want no_such_reply with status error", reply.Header.MsgType, reply.Content)
	}
	id := c.request(c.shell, "execute_request", map[string]any{"code": "good"})
	c.recv(c.shell, 10*time.Second)
	c.untilIdle(id)
	if got := s.cells(); len(got) != 1 || got[0] != "good" {
		t.Errorf("cells run = %q, want only [good]: a badly signed message must never run", got)
	}
	for _, want := range []string{"bad signature", "no <IDS|MSG> delimiter", "unknown request"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs = %q, want a line about %q", logs.String(), want)
		}
	}
}

func TestHeartbeatCompleteInspect(t *testing.T) {
	k, _, _, _ := startKernel(t)
	c := dial(t, k, "client-c")
	if err := c.hb.Send(zmq4.NewMsgString("ping")); err != nil {
		t.Fatal(err)
	}
	m, err := c.hb.Recv()
	if err != nil || string(m.Frames[0]) != "ping" {
		t.Errorf("heartbeat echo = %q, %v; want ping", m.Frames, err)
	}
	c.request(c.shell, "complete_request", map[string]any{"code": "é.load_", "cursor_pos": 7})
	if got := string(c.recv(c.shell, 10*time.Second).Content); !strings.Contains(got, `"cursor_start":2`) ||
		!strings.Contains(got, `"cursor_end":7`) || !strings.Contains(got, "load_balanced_view") {
		t.Errorf("complete_reply = %s, want cursor_start 2, cursor_end 7 (code points) and the match", got)
	}
	c.request(c.shell, "is_complete_request", map[string]any{"code": "def f():"})
	if got := string(c.recv(c.shell, 10*time.Second).Content); got != `{"indent":"    ","status":"incomplete"}` {
		t.Errorf("is_complete_reply = %s, want incomplete with an indent", got)
	}
	c.request(c.shell, "inspect_request", map[string]any{"code": "map", "cursor_pos": 3})
	if got := string(c.recv(c.shell, 10*time.Second).Content); !strings.Contains(got, `"found":true`) || !strings.Contains(got, "doc of map") {
		t.Errorf("inspect_reply = %s, want found and the doc", got)
	}
	c.request(c.shell, "comm_info_request", map[string]any{})
	if got := string(c.recv(c.shell, 10*time.Second).Content); got != `{"comms":{},"status":"ok"}` {
		t.Errorf("comm_info_reply = %s, want no comms", got)
	}
}

func TestInterruptStopOnErrorShutdown(t *testing.T) {
	k, s, _, done := startKernel(t)
	c := dial(t, k, "client-d")
	c.waitIOPub()
	sleeping := c.request(c.shell, "execute_request", map[string]any{"code": "sleep"})
	queued := c.request(c.shell, "execute_request", map[string]any{"code": "after"})
	deadline := time.Now().Add(10 * time.Second)
	for len(s.cells()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cell did not start within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for len(k.queued) == 0 { // the next cell waits in the kernel's queue
		if time.Now().After(deadline) {
			t.Fatal("the second request was not queued within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.request(c.control, "interrupt_request", map[string]any{})
	if got := c.recv(c.control, 10*time.Second); got.Header.MsgType != "interrupt_reply" {
		t.Errorf("control reply = %s, want interrupt_reply", got.Header.MsgType)
	}
	if got := string(c.recv(c.shell, 10*time.Second).Content); !strings.Contains(got, `"ename":"Interrupted"`) {
		t.Errorf("execute_reply of the interrupted cell = %s, want ename Interrupted", got)
	}
	reply := c.recv(c.shell, 10*time.Second)
	var p Header
	json.Unmarshal(reply.Parent, &p)
	if got := string(reply.Content); p.MsgID != queued || !strings.Contains(got, `"status":"aborted"`) {
		t.Errorf("reply to the queued cell = %s, want status aborted (stop_on_error)", got)
	}
	if got := s.cells(); len(got) != 1 {
		t.Errorf("cells run = %q, want only the interrupted one", got)
	}
	c.untilIdle(sleeping) // after the queue was flushed

	id := c.request(c.shell, "execute_request", map[string]any{"code": "progress"})
	c.recv(c.shell, 10*time.Second)
	pub := c.untilIdle(id)
	if got, want := strings.Join(msgTypes(pub), " "), "status execute_input display_data update_display_data update_display_data status"; got != want {
		t.Errorf("iopub of a progress bar = %s, want %s", got, want)
	} else if !strings.Contains(string(pub[4].Content), `2/2 tasks`) || !strings.Contains(string(pub[4].Content), `progress value=\"2\" max=\"2\"`) {
		t.Errorf("last progress update = %s, want 2/2 tasks and a <progress>", pub[4].Content)
	}

	id = c.request(c.shell, "execute_request", map[string]any{"code": "longmap"})
	c.recv(c.shell, 10*time.Second)
	pub = c.untilIdle(id)
	if types := msgTypes(pub); len(types) < 4 || types[2] != "display_data" || types[len(types)-2] != "update_display_data" {
		t.Errorf("iopub of a long map = %s, want a display_data then updates", types)
	} else if last := string(pub[len(pub)-2].Content); !strings.Contains(last, "4/4 tasks") {
		t.Errorf("last update of a long map's bar = %s, want 4/4 tasks", last)
	}

	c.request(c.control, "shutdown_request", map[string]any{"restart": true})
	if got := string(c.recv(c.control, 10*time.Second).Content); got != `{"restart":true,"status":"ok"}` {
		t.Errorf("shutdown_reply = %s, want restart true, status ok", got)
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return within 20s of a shutdown_request")
	}
	if !k.Restart() {
		t.Errorf("Restart() = false after a shutdown_request with restart true")
	}
}

// TestReconnect covers zmq4's ROUTER after a client goes away: a new
// client with the same identity (jupyter_client reuses its session id)
// must get its replies, and one with another identity too.
func TestReconnect(t *testing.T) {
	k, _, _, _ := startKernel(t)
	for i, identity := range []string{"same", "same", "other"} {
		c := dial(t, k, identity)
		c.request(c.shell, "kernel_info_request", map[string]any{})
		if got := c.recv(c.shell, 15*time.Second); got.Header.MsgType != "kernel_info_reply" {
			t.Errorf("client %d (%s): reply %s, want kernel_info_reply", i, identity, got.Header.MsgType)
		}
		c.close()
	}
}

// TestIOPubSubscriberGone covers zmq4's PUB with a subscriber that went
// away: the others keep getting every message of their requests.
func TestIOPubSubscriberGone(t *testing.T) {
	k, _, _, _ := startKernel(t)
	gone, stays := dial(t, k, "gone"), dial(t, k, "stays")
	gone.waitIOPub()
	stays.waitIOPub()
	gone.close()
	for i := range 3 {
		id := stays.request(stays.shell, "execute_request", map[string]any{"code": fmt.Sprintf("cell%d", i)})
		stays.recv(stays.shell, 10*time.Second)
		if got, want := strings.Join(msgTypes(stays.untilIdle(id)), " "), "status execute_input stream execute_result status"; got != want {
			t.Errorf("iopub of cell %d after a subscriber left = %s, want %s", i, got, want)
		}
	}
}
