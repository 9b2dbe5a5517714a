// This file defines how a message larger than one NATS message travels: as
// numbered parts with windowed acknowledgements, so that a fast sender
// cannot run a slow receiver (or the hub's per-connection buffer) out of
// memory. The transport (NATS) is plugged in by the caller.

package wire

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Header names used on parts of a chunked message.
const (
	// HeaderPart is "stream part total size" on every part of a chunked message.
	HeaderPart = "Pirun-Part"
)

// PartHeader formats the HeaderPart value.
func PartHeader(stream string, part, total int, size int) string {
	return stream + " " + strconv.Itoa(part) + " " + strconv.Itoa(total) + " " + strconv.Itoa(size)
}

// ParsePartHeader parses a HeaderPart value.
func ParsePartHeader(h string) (stream string, part, total, size int, err error) {
	f := strings.Fields(h)
	if len(f) != 4 {
		return "", 0, 0, 0, fmt.Errorf("malformed %s header %q", HeaderPart, h)
	}
	var nums [3]int
	for i, s := range f[1:] {
		if nums[i], err = strconv.Atoi(s); err != nil || nums[i] < 0 {
			return "", 0, 0, 0, fmt.Errorf("malformed %s header %q", HeaderPart, h)
		}
	}
	part, total, size = nums[0], nums[1], nums[2]
	if total == 0 || part >= total {
		return "", 0, 0, 0, fmt.Errorf("malformed %s header %q: part %d of %d", HeaderPart, h, part, total)
	}
	return f[0], part, total, size, nil
}

// Sender sends chunked messages and waits for their acknowledgements.
// It is safe for concurrent use; each Send uses its own stream id.
type Sender struct {
	mu      sync.Mutex
	streams map[string]chan int
	seq     uint64
	prefix  string
}

// NewSender returns a Sender whose stream ids start with prefix (which
// must be unique to this sender, such as a client or daemon id).
func NewSender(prefix string) *Sender {
	return &Sender{streams: make(map[string]chan int), prefix: prefix}
}

// SendParts calls publish for each of parts (a message cut with
// Blocks.Parts; they may differ in size), keeping at most window parts
// unacknowledged. The receiver's acknowledgements must reach s.Ack. It
// returns when every part was acknowledged, ctx is done, or no
// acknowledgement came within idle.
func (s *Sender) SendParts(ctx context.Context, parts Blocks, window int, idle time.Duration,
	publish func(header string, part []byte) error) error {
	total, size := len(parts), parts.Len()
	acks := make(chan int, total)
	s.mu.Lock()
	s.seq++
	stream := s.prefix + "-" + strconv.FormatUint(s.seq, 36)
	s.streams[stream] = acks
	s.mu.Unlock()
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
			if err := waitAck(ctx, acks, timer, idle, &acked); err != nil {
				return err
			}
		}
		if err := publish(PartHeader(stream, part, total, size), data); err != nil {
			return err
		}
	}
	for acked < total {
		if err := waitAck(ctx, acks, timer, idle, &acked); err != nil {
			return err
		}
	}
	return nil
}

// ErrNoAck means the receiver of a chunked message stopped acknowledging.
var ErrNoAck = errors.New("receiver stopped acknowledging a large message")

func waitAck(ctx context.Context, acks chan int, timer *time.Timer, idle time.Duration, acked *int) error {
	timer.Reset(idle)
	select {
	case <-acks:
		*acked++
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return ErrNoAck
	}
}

// Ack records the receiver's acknowledgement of one part of stream.
// Unknown streams (finished or abandoned) are ignored.
func (s *Sender) Ack(stream string) {
	s.mu.Lock()
	ch := s.streams[stream]
	s.mu.Unlock()
	if ch != nil {
		select {
		case ch <- 1:
		default:
		}
	}
}

// Assembler reassembles chunked messages. It bounds the bytes held for
// incomplete messages and drops streams that stall. It is safe for
// concurrent use.
type Assembler struct {
	mu       sync.Mutex
	partial  map[string]*partialMsg
	held     int
	MaxBytes int           // total bytes of incomplete messages (0: 1 GiB)
	Stall    time.Duration // drop a stream with no part for this long (0: 1 minute)
}

type partialMsg struct {
	sb   strings.Builder // pad bytes, then the parts so far, in memory not cleared first
	pad  int             // bytes before the message, so that its second part is 8-byte aligned
	size int             // announced total
	next int
	seen time.Time
}

// Add records one part and returns the whole message once its last part
// arrived. Parts of a stream must arrive in order (NATS keeps the order
// between one publisher and one subscriber).
func (a *Assembler) Add(header string, data []byte, now time.Time) ([]byte, error) {
	stream, part, total, size, err := ParsePartHeader(header)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire(now)
	p := a.partial[stream]
	if p == nil {
		if part != 0 {
			return nil, fmt.Errorf("chunked message %s: part %d arrived without its start", stream, part)
		}
		if limit := a.maxBytes(); size > limit-a.held {
			return nil, fmt.Errorf("chunked message %s: %d bytes would exceed the %d bytes allowed in flight", stream, size, limit)
		}
		// A large array's bytes travel as parts of their own, the first
		// after the message's head (Blocks.Parts): starting the second
		// part on an 8-byte boundary lets a decoder keep an array in place
		// (Decoder.KeepArrays) instead of copying it.
		p = &partialMsg{size: size, pad: -len(data) & 7}
		if total == 1 {
			p.pad = 0
		}
		p.sb.Grow(p.pad + size)
		p.sb.WriteString("\x00\x00\x00\x00\x00\x00\x00"[:p.pad])
		if a.partial == nil {
			a.partial = make(map[string]*partialMsg)
		}
		a.partial[stream] = p
		a.held += size
	}
	if part != p.next || p.sb.Len()-p.pad+len(data) > p.size {
		a.drop(stream, p)
		return nil, fmt.Errorf("chunked message %s: part %d out of order or larger than announced", stream, part)
	}
	p.sb.Write(data)
	p.next++
	p.seen = now
	if p.next < total {
		return nil, nil
	}
	a.drop(stream, p)
	if p.sb.Len()-p.pad != size {
		return nil, fmt.Errorf("chunked message %s: got %d bytes, announced %d", stream, p.sb.Len()-p.pad, size)
	}
	if size == 0 {
		return []byte{}, nil
	}
	whole := p.sb.String()[p.pad:]
	return unsafe.Slice(unsafe.StringData(whole), len(whole)), nil // p is dropped: the bytes are the caller's
}

// Stream returns the stream id of a part header, for acknowledgements.
func Stream(header string) string {
	s, _, _ := strings.Cut(header, " ")
	return s
}

func (a *Assembler) maxBytes() int {
	if a.MaxBytes > 0 {
		return a.MaxBytes
	}
	return 1 << 30
}

func (a *Assembler) drop(stream string, p *partialMsg) {
	delete(a.partial, stream)
	a.held -= p.size
}

func (a *Assembler) expire(now time.Time) {
	stall := a.Stall
	if stall == 0 {
		stall = time.Minute
	}
	for s, p := range a.partial {
		if p.next > 0 && now.Sub(p.seen) > stall {
			a.drop(s, p)
		}
	}
}
