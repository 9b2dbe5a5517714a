// This file defines the kernel's answers to each request: kernel_info,
// execute, complete, is_complete, inspect, history, comm_info on shell,
// and interrupt and shutdown on control.

package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// serveShell handles shell requests one at a time, in order.
func (k *Kernel) serveShell(ctx context.Context, in <-chan *Message) {
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-in:
			if !ok {
				return
			}
			k.handle(ctx, k.shell, m, in)
		}
	}
}

// serveControl handles control requests, which may come while a cell runs.
func (k *Kernel) serveControl(ctx context.Context, in <-chan *Message) {
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-in:
			if !ok {
				return
			}
			k.handle(ctx, k.control, m, nil)
		}
	}
}

// handle answers one request between status busy and idle. queue is the
// shell's queue (nil on control), for stop_on_error.
func (k *Kernel) handle(ctx context.Context, sock *routerSocket, m *Message, queue <-chan *Message) {
	k.publish(&m.Header, "status", map[string]string{"execution_state": "busy"})
	defer k.publish(&m.Header, "status", map[string]string{"execution_state": "idle"})
	switch t := m.Header.MsgType; t {
	case "kernel_info_request":
		k.reply(sock, m, "kernel_info_reply", k.kernelInfo())
	case "execute_request":
		k.execute(ctx, sock, m, queue)
	case "complete_request":
		k.complete(sock, m)
	case "is_complete_request":
		k.isComplete(sock, m)
	case "inspect_request":
		k.inspect(sock, m)
	case "history_request":
		k.reply(sock, m, "history_reply", map[string]any{"status": "ok", "history": []any{}})
	case "comm_info_request":
		k.reply(sock, m, "comm_info_reply", map[string]any{"status": "ok", "comms": map[string]any{}})
	case "interrupt_request":
		k.session.Interrupt()
		k.reply(sock, m, "interrupt_reply", map[string]any{"status": "ok"})
	case "shutdown_request":
		k.shutdown(sock, m)
	default:
		k.log.Warn("kernel: unknown request ignored", "msg_type", t, "from", m.Header.Session)
		if strings.HasSuffix(t, "_request") {
			k.reply(sock, m, strings.TrimSuffix(t, "_request")+"_reply", errorContent("UnknownRequest",
				fmt.Sprintf("pirun's kernel does not handle %s", t), nil))
		}
	}
}

// kernelInfo is the content of kernel_info_reply.
func (k *Kernel) kernelInfo() map[string]any {
	return map[string]any{
		"status":                 "ok",
		"protocol_version":       ProtocolVersion,
		"implementation":         "pirun",
		"implementation_version": k.cfg.Version,
		"language_info": map[string]any{
			"name":            "starlark",
			"version":         k.cfg.Version,
			"mimetype":        "text/x-starlark",
			"file_extension":  ".star",
			"pygments_lexer":  "python",
			"codemirror_mode": "python",
		},
		"banner":     k.cfg.Banner,
		"help_links": []any{},
	}
}

// decodeContent decodes a request's content into v, replying with an
// error when it does not fit.
func (k *Kernel) decodeContent(sock *routerSocket, m *Message, replyType string, v any) bool {
	if err := json.Unmarshal(m.Content, v); err != nil {
		k.log.Error("kernel: bad request content", "msg_type", m.Header.MsgType, "err", err)
		k.reply(sock, m, replyType, errorContent("BadRequest", fmt.Sprintf("%s: content: %v", m.Header.MsgType, err), nil))
		return false
	}
	return true
}

// errorContent is the content of an error reply or message.
func errorContent(ename, evalue string, traceback []string) map[string]any {
	if traceback == nil {
		traceback = []string{ename + ": " + evalue}
	}
	return map[string]any{"status": "error", "ename": ename, "evalue": evalue, "traceback": traceback}
}

// executeRequest is the content of execute_request.
type executeRequest struct {
	Code         string `json:"code"`
	Silent       bool   `json:"silent"`
	StoreHistory *bool  `json:"store_history"`
	AllowStdin   bool   `json:"allow_stdin"`
	StopOnError  *bool  `json:"stop_on_error"`
}

// execute runs a cell.
func (k *Kernel) execute(ctx context.Context, sock *routerSocket, m *Message, queue <-chan *Message) {
	var req executeRequest
	if !k.decodeContent(sock, m, "execute_reply", &req) {
		return
	}
	store := !req.Silent && (req.StoreHistory == nil || *req.StoreHistory)
	n := 0
	if store {
		k.count++
		n = k.count
	}
	k.parent.Store(&m.Header)
	if !req.Silent {
		k.publish(&m.Header, "execute_input", map[string]any{"code": req.Code, "execution_count": k.count})
	}
	stopBar := k.watchProgress(&m.Header)
	v, err := k.session.Execute(ctx, n, req.Code)
	stopBar()
	k.progressEnd()
	if err != nil {
		var ce *CellError
		if !errors.As(err, &ce) {
			ce = &CellError{Name: "Error", Value: err.Error(), Traceback: []string{err.Error()}}
		}
		content := errorContent(ce.Name, ce.Value, ce.Traceback)
		k.publish(&m.Header, "error", content)
		content["execution_count"] = k.count
		var queued []*Message
		if req.StopOnError == nil || *req.StopOnError {
			queued = drain(queue) // before the reply: see abortQueued
		}
		k.reply(sock, m, "execute_reply", content)
		k.abortQueued(queued)
		return
	}
	if v != nil && !req.Silent {
		k.publish(&m.Header, "execute_result", map[string]any{"execution_count": k.count,
			"data": render(v), "metadata": map[string]any{}})
	}
	k.reply(sock, m, "execute_reply", map[string]any{"status": "ok", "execution_count": k.count,
		"user_expressions": map[string]any{}, "payload": []any{}})
}

// abortQueued answers the execute requests that were queued behind a
// failed cell with status "aborted", as stop_on_error asks; other requests
// run. As in ipykernel (stop_on_error_timeout 0), requests that come after
// it are not aborted: the queue is drained before the failed cell's reply
// goes out, so a client that sends its next cell once it has the reply
// always gets it run.
func (k *Kernel) abortQueued(queued []*Message) {
	for _, m := range queued {
		if m.Header.MsgType != "execute_request" {
			k.handle(context.Background(), k.shell, m, nil)
			continue
		}
		k.publish(&m.Header, "status", map[string]string{"execution_state": "busy"})
		k.reply(k.shell, m, "execute_reply", map[string]any{"status": "aborted", "execution_count": k.count})
		k.publish(&m.Header, "status", map[string]string{"execution_state": "idle"})
	}
}

// drain returns the messages waiting in queue, without waiting for more.
func drain(queue <-chan *Message) []*Message {
	var out []*Message
	for {
		select {
		case m, ok := <-queue:
			if !ok {
				return out
			}
			out = append(out, m)
		default:
			return out
		}
	}
}

// codeRequest is the content of complete, inspect and is_complete
// requests.
type codeRequest struct {
	Code      string `json:"code"`
	CursorPos int    `json:"cursor_pos"`
}

// complete answers complete_request. Cursor positions are counted in
// unicode code points on the wire.
func (k *Kernel) complete(sock *routerSocket, m *Message) {
	var req codeRequest
	if !k.decodeContent(sock, m, "complete_reply", &req) {
		return
	}
	cursor := byteOffset(req.Code, req.CursorPos)
	matches, start := k.session.Complete(req.Code, cursor)
	if matches == nil {
		matches = []string{}
	}
	k.reply(sock, m, "complete_reply", map[string]any{"status": "ok", "matches": matches,
		"cursor_start": utf8.RuneCountInString(req.Code[:start]), "cursor_end": req.CursorPos, "metadata": map[string]any{}})
}

// isComplete answers is_complete_request.
func (k *Kernel) isComplete(sock *routerSocket, m *Message) {
	var req codeRequest
	if !k.decodeContent(sock, m, "is_complete_reply", &req) {
		return
	}
	status, indent := k.session.IsComplete(req.Code)
	content := map[string]any{"status": status}
	if status == "incomplete" {
		content["indent"] = indent
	}
	k.reply(sock, m, "is_complete_reply", content)
}

// inspect answers inspect_request.
func (k *Kernel) inspect(sock *routerSocket, m *Message) {
	var req codeRequest
	if !k.decodeContent(sock, m, "inspect_reply", &req) {
		return
	}
	doc, ok := k.session.Inspect(req.Code, byteOffset(req.Code, req.CursorPos))
	data := map[string]any{}
	if ok {
		data["text/plain"] = doc
	}
	k.reply(sock, m, "inspect_reply", map[string]any{"status": "ok", "found": ok, "data": data, "metadata": map[string]any{}})
}

// shutdown answers shutdown_request, then ends Run.
func (k *Kernel) shutdown(sock *routerSocket, m *Message) {
	var req struct {
		Restart bool `json:"restart"`
	}
	json.Unmarshal(m.Content, &req) // a malformed one still shuts down, as asked
	k.restart.Store(req.Restart)
	k.session.Interrupt()
	k.reply(sock, m, "shutdown_reply", map[string]any{"status": "ok", "restart": req.Restart})
	k.publish(&m.Header, "shutdown_reply", map[string]any{"status": "ok", "restart": req.Restart})
	k.cancel()
}

// byteOffset returns the byte offset of the n-th code point of s.
func byteOffset(s string, n int) int {
	if n <= 0 {
		return 0
	}
	i := 0
	for off := range s {
		if i == n {
			return off
		}
		i++
	}
	return len(s)
}
