// This file defines Link: publishing envelopes on a connection, in parts
// with acknowledgements when they are larger than one NATS message, and
// Receive, which reassembles and acknowledges them.

package transport

import (
	"context"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// PartIdle is how long a sender waits for the receiver to acknowledge a
// part of a large message before giving up.
const PartIdle = time.Minute

// DefaultPartSize is the size of the parts of a message larger than the
// server's max payload, sent by a Link whose part size is not set (those
// that fit are cut at MaxPart, as before). Parts of 1 MiB rather than
// 8 MiB make the buffers NATS takes for each part (the server's and the
// receiver's, fresh memory each) small enough that the heap reuses them
// for the next parts once recycle's collections found them garbage:
// push + pull of 80 MB faults in ~14k pages instead of ~43k.
const DefaultPartSize = 1 << 20

// PartWindowBytes bounds the bytes of the parts unacknowledged at once:
// 16 MiB in flight stays well under the server's 64 MiB per-connection
// buffer, past which it drops a slow reader, and keeps the garbage of
// parts in flight small.
const PartWindowBytes = 16 << 20

// PartWindow returns how many parts of size bytes may be unacknowledged
// at once: PartWindowBytes of them, at least one and at most 64.
func PartWindow(size int) int { return min(max(PartWindowBytes/max(size, 1), 1), 64) }

// Link publishes on one connection; the receivers of its large messages
// acknowledge their parts on its acknowledgement subject, whose handler is
// OnAck. It is safe for concurrent use.
type Link struct {
	nc       *nats.Conn
	send     *Sender
	ackSubj  string
	partSize int // 0: the largest the server accepts
}

// New returns the Link of nc for the sender id (unique among senders),
// whose parts are acknowledged on ackSubj.
func New(nc *nats.Conn, id, ackSubj string) *Link {
	return &Link{nc: nc, send: NewSender(id), ackSubj: ackSubj}
}

// HeaderRefused, on a message to a part's reply subject, says that the
// receiver dropped the message whose stream id is the data, and why.
const HeaderRefused = "Pirun-Refused"

// OnAck is the handler of the link's acknowledgement subject: an
// acknowledgement, or a refusal that ends the send at once.
func (l *Link) OnAck(m *nats.Msg) {
	if reason := m.Header.Get(HeaderRefused); reason != "" {
		l.send.Refuse(string(m.Data), reason)
		return
	}
	l.send.Ack(string(m.Data))
}

// SetPartSize sets the size of the parts of large messages (Limits'
// PartSize; 0: see MaxPart and DefaultPartSize); call it before the
// first send.
func (l *Link) SetPartSize(n int) { l.partSize = n }

// MaxPart is the size of the parts of large messages: the part size set,
// at most the largest part the server accepts less header room (that
// largest if none is set).
func (l *Link) MaxPart() int {
	max := int(l.nc.MaxPayload()) - partHeaderRoom
	if l.partSize > 0 && l.partSize < max {
		return l.partSize
	}
	return max
}

// partFor returns the size of the parts of a message of size bytes:
// MaxPart, or DefaultPartSize for a message larger than MaxPart when no
// part size is set.
func (l *Link) partFor(size int) int {
	part := l.MaxPart()
	if l.partSize <= 0 && size > part {
		return min(part, DefaultPartSize)
	}
	return part
}

// partHeaderRoom is what a part leaves of the server's max payload for
// its NATS headers.
const partHeaderRoom = 4096

// SendMsg encodes msg and publishes it on subj. A Batch or Results is
// encoded as blocks, so that large payloads are not copied into it.
func (l *Link) SendMsg(ctx context.Context, subj string, msg any) error {
	switch m := msg.(type) {
	case *wire.Batch:
		return l.SendBatch(ctx, subj, m, nil)
	case *wire.Results:
		data, err := wire.MarshalResultsBlocks(m, nil, l.MaxPart())
		if err != nil {
			return err
		}
		return l.SendBlocks(ctx, subj, data)
	}
	data, err := wire.MarshalMsg(msg)
	if err != nil {
		return err
	}
	return l.SendData(ctx, subj, data)
}

// SendBatch encodes b, with payloads[i] (when not nil) as the payload of
// b.Tasks[i], and publishes it on subj.
func (l *Link) SendBatch(ctx context.Context, subj string, b *wire.Batch, payloads []wire.Blocks) error {
	data, err := wire.MarshalBatchBlocks(b, payloads, l.MaxPart())
	if err != nil {
		return err
	}
	return l.SendBlocks(ctx, subj, data)
}

// SendData publishes data on subj, in parts if it is large. It blocks
// until every part was acknowledged.
func (l *Link) SendData(ctx context.Context, subj string, data []byte) error {
	return l.SendBlocks(ctx, subj, wire.Blocks{data})
}

// SendBlocks publishes data on subj: as one message when its blocks make
// one part, else in parts, blocking until every part was acknowledged.
func (l *Link) SendBlocks(ctx context.Context, subj string, data wire.Blocks) error {
	part := l.partFor(data.Len())
	parts := data.Parts(part)
	if len(parts) <= 1 {
		return l.nc.Publish(subj, parts.Bytes())
	}
	return l.send.SendParts(ctx, parts, PartWindow(part), PartIdle, func(header string, part []byte) error {
		m := &nats.Msg{Subject: subj, Reply: l.ackSubj, Data: part, Header: nats.Header{}}
		m.Header.Set(wire.HeaderPart, header)
		return l.nc.PublishMsg(m)
	})
}

// Receive returns the whole message of m, reassembling and acknowledging
// parts with asm; nil means more parts are expected (or a refused part,
// whose error is returned). A refused part is answered with the reason on
// its reply subject, so that its sender stops at once. from is the
// sender's identity as m's subject proves it (a token the hub's
// permissions let only that sender publish): asm bounds memory per from.
func Receive(nc *nats.Conn, asm *Assembler, m *nats.Msg, from string) ([]byte, error) {
	h := m.Header.Get(wire.HeaderPart)
	if h == "" {
		return m.Data, nil
	}
	data, err := asm.Add(from, h, m.Data, time.Now())
	if m.Reply == "" {
		return data, err
	}
	stream := []byte(wire.Stream(h))
	if err != nil {
		reason := err.Error()
		if len(reason) > maxReason {
			reason = reason[:maxReason] + "…"
		}
		// A header value is one line.
		reason = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' {
				return ' '
			}
			return r
		}, reason)
		nc.PublishMsg(&nats.Msg{Subject: m.Reply, Data: stream, Header: nats.Header{HeaderRefused: {reason}}})
		return nil, err
	}
	nc.Publish(m.Reply, stream)
	return data, nil
}

// maxReason bounds the reason sent back with a refusal (it quotes parts of
// the peer's header).
const maxReason = 512
