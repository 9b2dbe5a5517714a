// This file defines link: publishing envelopes on a connection, in parts
// with acknowledgements when they are larger than one NATS message.

package host

import (
	"context"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// partIdle is how long a sender waits for the receiver to acknowledge a
// part of a large message before giving up.
const partIdle = time.Minute

// partWindow is how many parts may be unacknowledged at once: with 8 MiB
// parts, 32 MiB in flight stays well under the server's 64 MiB
// per-connection buffer, past which it drops a slow reader.
const partWindow = 4

type link struct {
	nc      *nats.Conn
	send    *wire.Sender
	ackSubj string
}

func newLink(nc *nats.Conn, id, ackSubj string) *link {
	return &link{nc: nc, send: wire.NewSender(id), ackSubj: ackSubj}
}

// onAck is the handler of the link's acknowledgement subject.
func (l *link) onAck(m *nats.Msg) { l.send.Ack(string(m.Data)) }

// maxPart is the largest part the server accepts, less header room.
func (l *link) maxPart() int { return int(l.nc.MaxPayload()) - 4096 }

// sendMsg encodes msg and publishes it on subj. A Batch or Results is
// encoded as blocks, so that large payloads are not copied into it.
func (l *link) sendMsg(ctx context.Context, subj string, msg any) error {
	switch m := msg.(type) {
	case *wire.Batch:
		return l.sendBatch(ctx, subj, m, nil)
	case *wire.Results:
		data, err := wire.MarshalResultsBlocks(m, nil, l.maxPart())
		if err != nil {
			return err
		}
		return l.sendBlocks(ctx, subj, data)
	}
	data, err := wire.MarshalMsg(msg)
	if err != nil {
		return err
	}
	return l.sendData(ctx, subj, data)
}

// sendBatch encodes b, with payloads[i] (when not nil) as the payload of
// b.Tasks[i], and publishes it on subj.
func (l *link) sendBatch(ctx context.Context, subj string, b *wire.Batch, payloads []wire.Blocks) error {
	data, err := wire.MarshalBatchBlocks(b, payloads, l.maxPart())
	if err != nil {
		return err
	}
	return l.sendBlocks(ctx, subj, data)
}

// sendData publishes data on subj, in parts if it is large. It blocks
// until every part was acknowledged.
func (l *link) sendData(ctx context.Context, subj string, data []byte) error {
	return l.sendBlocks(ctx, subj, wire.Blocks{data})
}

// sendBlocks publishes data on subj: as one message when its blocks make
// one part, else in parts, blocking until every part was acknowledged.
func (l *link) sendBlocks(ctx context.Context, subj string, data wire.Blocks) error {
	parts := data.Parts(l.maxPart())
	if len(parts) <= 1 {
		return l.nc.Publish(subj, parts.Bytes())
	}
	return l.send.SendParts(ctx, parts, partWindow, partIdle, func(header string, part []byte) error {
		m := &nats.Msg{Subject: subj, Reply: l.ackSubj, Data: part, Header: nats.Header{}}
		m.Header.Set(wire.HeaderPart, header)
		return l.nc.PublishMsg(m)
	})
}

// receive returns the whole message of m, reassembling and acknowledging
// parts with asm; nil means more parts are expected (or a bad part, whose
// error is returned).
func receive(nc *nats.Conn, asm *wire.Assembler, m *nats.Msg) ([]byte, error) {
	h := m.Header.Get(wire.HeaderPart)
	if h == "" {
		return m.Data, nil
	}
	data, err := asm.Add(h, m.Data, time.Now())
	if m.Reply != "" {
		nc.Publish(m.Reply, []byte(wire.Stream(h)))
	}
	return data, err
}
