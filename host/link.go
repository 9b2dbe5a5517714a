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

// sendMsg encodes msg and publishes it on subj.
func (l *link) sendMsg(ctx context.Context, subj string, msg any) error {
	data, err := wire.MarshalMsg(msg)
	if err != nil {
		return err
	}
	return l.sendData(ctx, subj, data)
}

// sendData publishes data on subj, in parts if it is large. It blocks
// until every part was acknowledged.
func (l *link) sendData(ctx context.Context, subj string, data []byte) error {
	max := l.maxPart()
	if len(data) <= max {
		return l.nc.Publish(subj, data)
	}
	return l.send.Send(ctx, data, max, partWindow, partIdle, func(header string, part []byte) error {
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
