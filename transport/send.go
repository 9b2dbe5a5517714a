// This file defines Sender: the sending side of chunked messages, which
// keeps a window of parts unacknowledged and stops at once when the
// receiver refuses the message.

package transport

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// Sender sends chunked messages and waits for their acknowledgements.
// It is safe for concurrent use; each SendParts uses its own stream id.
//
// A stream id is the sender's prefix and 64 random bits: only the
// receiver, which reads it in the parts' headers, can acknowledge or
// refuse the stream, as the sender ignores acknowledgements and refusals
// of ids it did not make. Another connection allowed to publish on the
// sender's acknowledgement subject cannot guess one, so it can neither
// hurry a transfer past its window nor abort it.
type Sender struct {
	mu      sync.Mutex
	streams map[string]*outStream
	prefix  string
}

// outStream is one message being sent: its acknowledgements, and the
// receiver's refusal if any.
type outStream struct {
	acks    chan int
	refused chan string
}

// NewSender returns a Sender whose stream ids are "prefix-" and 64
// random bits in base 36; the prefix (such as a client or daemon id) only
// helps reading logs: receivers bound memory by the identity the network
// proves, not by what a stream id claims.
func NewSender(prefix string) *Sender {
	return &Sender{streams: make(map[string]*outStream), prefix: prefix}
}

// SendParts calls publish for each of parts (a message cut with
// Blocks.Parts; they may differ in size), keeping at most window parts
// unacknowledged. The receiver's acknowledgements must reach s.Ack and its
// refusals s.Refuse. It returns when every part was acknowledged, the
// receiver refused the message (an error wrapping ErrRefused), ctx is
// done, or no acknowledgement came within idle (ErrNoAck).
func (s *Sender) SendParts(ctx context.Context, parts wire.Blocks, window int, idle time.Duration,
	publish func(header string, part []byte) error) error {
	total, size := len(parts), parts.Len()
	st := &outStream{acks: make(chan int, total), refused: make(chan string, 1)}
	stream := s.newStream(st)
	defer func() {
		s.mu.Lock()
		delete(s.streams, stream)
		s.mu.Unlock()
	}()
	acked := 0
	timer := time.NewTimer(idle)
	defer timer.Stop()
	for part, data := range parts {
		for part-acked >= window {
			if err := st.wait(ctx, timer, idle, &acked); err != nil {
				return err
			}
		}
		if err := publish(wire.PartHeader(stream, part, total, size), data); err != nil {
			return err
		}
	}
	for acked < total {
		if err := st.wait(ctx, timer, idle, &acked); err != nil {
			return err
		}
	}
	return nil
}

// ErrNoAck means the receiver of a chunked message stopped acknowledging.
var ErrNoAck = errors.New("receiver stopped acknowledging a large message")

func (st *outStream) wait(ctx context.Context, timer *time.Timer, idle time.Duration, acked *int) error {
	timer.Reset(idle)
	select {
	case <-st.acks:
		*acked++
		return nil
	case reason := <-st.refused:
		return fmt.Errorf("%w by its receiver: %s", ErrRefused, reason)
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return ErrNoAck
	}
}

// Ack records the receiver's acknowledgement of one part of stream.
// Unknown streams (finished or abandoned) are ignored.
func (s *Sender) Ack(stream string) {
	if st := s.stream(stream); st != nil {
		select {
		case st.acks <- 1:
		default:
		}
	}
}

// Refuse records that the receiver dropped stream, for reason: its
// SendParts returns at once.
func (s *Sender) Refuse(stream, reason string) {
	if st := s.stream(stream); st != nil {
		select {
		case st.refused <- reason:
		default:
		}
	}
}

func (s *Sender) stream(id string) *outStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[id]
}

// newStream registers st under a fresh stream id and returns the id.
func (s *Sender) newStream(st *outStream) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		var b [8]byte
		rand.Read(b[:]) // never fails (crypto/rand)
		id := s.prefix + "-" + strconv.FormatUint(binary.LittleEndian.Uint64(b[:]), 36)
		if _, taken := s.streams[id]; !taken {
			s.streams[id] = st
			return id
		}
	}
}
