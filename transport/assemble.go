// This file defines Assembler: the receiving side of chunked messages,
// which holds the parts of a message until its last one arrives. Nothing a
// peer announces reserves memory: a message's parts are kept as they
// arrive and joined once all are there; incomplete messages are bounded
// per sender and in total, and abandoned ones are dropped.

package transport

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// Default bounds of an Assembler whose fields are zero.
const (
	// DefaultMaxSender bounds the bytes of one sender's incomplete
	// messages, and so the size of one chunked message: a 256 MiB value
	// (SPEC §6) plus its envelope and the other values of its task.
	DefaultMaxSender = 288 << 20
	// DefaultMaxTotal bounds the bytes of all incomplete messages.
	DefaultMaxTotal = 1 << 30
	// DefaultStall is how long an incomplete message may go without a
	// part before it is dropped (a sender gives up after PartIdle).
	DefaultStall = 30 * time.Second
)

// ErrRefused wraps the errors of parts that an Assembler refused: the
// receiver tells the sender so (Receive answers on the part's reply
// subject), which then stops sending instead of waiting for
// acknowledgements.
var ErrRefused = errors.New("large message refused")

// Assembler reassembles chunked messages. It holds only bytes that
// arrived (the parts as they came, joined once the last one is there,
// never a buffer of an announced size), bounds the bytes of incomplete messages per sender and in total,
// and drops a message with no part for Stall. It is safe for concurrent
// use; the zero Assembler has the default bounds.
type Assembler struct {
	MaxSender int           // bytes of one sender's incomplete messages (0: DefaultMaxSender)
	MaxTotal  int           // bytes of all incomplete messages (0: DefaultMaxTotal)
	Stall     time.Duration // drop a message with no part for this long (0: DefaultStall)

	mu      sync.Mutex
	partial map[streamKey]*partialMsg
	senders map[string]int // bytes held per sender
	held    int            // bytes held in all
	sweep   *time.Timer    // drops stalled messages while some are held
	swept   time.Time      // when expire last looked at every message
}

// streamKey names an incomplete message: its sender's identity and the
// stream id the sender chose, so that no sender can add parts to, or
// drop, another's message whatever stream id it claims.
type streamKey struct{ from, stream string }

type partialMsg struct {
	sender string
	parts  [][]byte // the parts so far, as they came (each its own NATS message's memory)
	got    int      // their bytes
	held   int      // bytes counted against the bounds: the parts and bookkeeping
	size   int      // announced bytes, never allocated before they all arrived
	total  int      // announced parts
	next   int      // the part expected next
	seen   time.Time
}

// Add records one part from the sender whose authenticated identity is
// from, whose HeaderPart value is header, and returns the
// whole message once its last part arrived (nil before). Parts of a
// stream must arrive in order (NATS keeps the order between one publisher
// and one subscriber). An error wraps ErrRefused when the message is
// dropped: bad header, part out of order, more bytes than announced, or a
// bound exceeded. The bounds per sender count by from, never by what the
// header claims: from must be what the network proves (the subject token
// that the hub's permissions pin to one connection's identity).
func (a *Assembler) Add(from, header string, data []byte, now time.Time) ([]byte, error) {
	stream, part, total, size, err := wire.ParsePartHeader(header)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire(now)
	key := streamKey{from, stream}
	p := a.partial[key]
	if p == nil {
		if part != 0 {
			return nil, fmt.Errorf("%w: message %s: part %d arrived without its start (dropped earlier, or never sent)", ErrRefused, stream, part)
		}
		if max := a.maxSender(); size > max {
			return nil, fmt.Errorf("%w: message %s announces %d bytes, over the %d bytes a receiver takes from one sender; send it in smaller pieces", ErrRefused, stream, size, max)
		}
		p = &partialMsg{sender: from, size: size, total: total}
		if a.partial == nil {
			a.partial, a.senders = make(map[streamKey]*partialMsg), make(map[string]int)
		}
		if err := a.charge(p, msgOverhead+len(stream)); err != nil {
			return nil, fmt.Errorf("%w: message %s: %w", ErrRefused, stream, err)
		}
		a.partial[key] = p
		if a.sweep == nil {
			a.sweep = time.AfterFunc(a.stall(), a.onSweep)
		}
	}
	if part != p.next || total != p.total || size != p.size || p.got+len(data) > p.size || (part == total-1) != (p.got+len(data) == p.size) {
		a.drop(key, p)
		return nil, fmt.Errorf("%w: message %s: part %d of %d (%d bytes after %d of %d announced) is out of order, changes the announced sizes, or does not add up",
			ErrRefused, stream, part, total, len(data), p.got, p.size)
	}
	if total == 1 { // one part: nothing to join
		a.drop(key, p)
		if len(data) == 0 {
			return []byte{}, nil
		}
		return data, nil
	}
	recycle(len(data))
	if part < total-1 {
		if err := a.charge(p, len(data)); err != nil {
			a.drop(key, p)
			return nil, fmt.Errorf("%w: message %s: %w", ErrRefused, stream, err)
		}
		p.parts = append(p.parts, data)
		p.got += len(data)
		p.next++
		p.seen = now
		return nil, nil
	}
	// The last part: every byte arrived, the message is joined once.
	a.drop(key, p)
	return join(p.parts, data, size), nil
}

// join returns the message of parts and last, size bytes, in one buffer
// whose second part starts on an 8-byte boundary: a large array's bytes
// travel as parts of their own, the first after the message's head
// (Blocks.Parts), so that a decoder can keep an array in place
// (Decoder.KeepArrays) instead of copying it. The buffer is fresh memory
// (a decoded array keeps it), backed by huge pages where the system
// offers them (adviseHuge), and not cleared first, as every byte is
// written.
func join(parts [][]byte, last []byte, size int) []byte {
	if size == 0 {
		return []byte{}
	}
	pad := -len(parts[0]) & 7
	buf := freshBytes(align8(pad + size))
	n := pad
	for _, p := range parts {
		n += copy(buf[n:], p)
	}
	copy(buf[n:], last)
	endHuge(buf)
	return buf[pad : pad+size : pad+size]
}

// freshBytes returns n bytes of 8-byte aligned memory that nothing else
// references, not cleared (strings.Builder allocates so), advised for
// huge pages before anything but its first byte is touched.
func freshBytes(n int) []byte {
	var sb strings.Builder
	sb.Grow(n)
	sb.WriteByte(0)                                      // the builder's memory shows through String only once written
	b := unsafe.Slice(unsafe.StringData(sb.String()), n) // nobody else holds the builder: the bytes are ours
	adviseHuge(b)
	return b
}

// align8 rounds a buffer's size up to a multiple of 8 (at least 8), which
// Go's allocator places 8-byte aligned.
func align8(n int) int { return max(8, (n+7)&^7) }

// msgOverhead is what an incomplete message costs besides its bytes (its
// record and map entry), so that many tiny ones are bounded too.
const msgOverhead = 256

// charge counts n more bytes held for p, or says which bound they would
// exceed.
func (a *Assembler) charge(p *partialMsg, n int) error {
	if held := a.senders[p.sender] + n; held > a.maxSender() {
		return fmt.Errorf("sender %s would hold %d bytes of incomplete messages, over its bound of %d; wait for its messages to complete", p.sender, held, a.maxSender())
	}
	if held := a.held + n; held > a.maxTotal() {
		return fmt.Errorf("incomplete messages would hold %d bytes, over the receiver's bound of %d; try again later", held, a.maxTotal())
	}
	p.held += n
	a.senders[p.sender] += n
	a.held += n
	return nil
}

// Held returns the bytes held for incomplete messages and their number.
func (a *Assembler) Held() (bytes, messages int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.held, len(a.partial)
}

func (a *Assembler) maxSender() int {
	if a.MaxSender > 0 {
		return a.MaxSender
	}
	return DefaultMaxSender
}

func (a *Assembler) maxTotal() int {
	if a.MaxTotal > 0 {
		return a.MaxTotal
	}
	return DefaultMaxTotal
}

func (a *Assembler) stall() time.Duration {
	if a.Stall > 0 {
		return a.Stall
	}
	return DefaultStall
}

func (a *Assembler) drop(key streamKey, p *partialMsg) {
	delete(a.partial, key)
	a.held -= p.held
	if a.senders[p.sender] -= p.held; a.senders[p.sender] <= 0 {
		delete(a.senders, p.sender)
	}
}

// expire drops the messages with no part for Stall. It looks at them at
// most 8 times per Stall, so that many incomplete messages do not make
// each part cost a walk over all of them.
func (a *Assembler) expire(now time.Time) {
	stall := a.stall()
	if d := now.Sub(a.swept); d >= 0 && d < stall/8 {
		return
	}
	a.swept = now
	for k, p := range a.partial {
		if now.Sub(p.seen) > stall {
			a.drop(k, p)
		}
	}
}

// onSweep drops stalled messages when no part arrives to do it, and
// rearms while messages are incomplete.
func (a *Assembler) onSweep() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expire(time.Now())
	if len(a.partial) == 0 {
		a.sweep = nil
		return
	}
	a.sweep.Reset(a.stall())
}
