// This file defines Blocks and the block Encoder: output kept as a list of
// blocks, so that a large value is encoded without copying its output to
// grow a buffer, and sent as message parts cut from the blocks.

package wire

import (
	"math"
	"sync"
	"unsafe"

	"go.starlark.net/starlark"
)

// Blocks is encoded output in order, in one or more blocks. Blocks may
// alias the strings and byte slices that were encoded (large ones are
// lent, not copied): never modify a block. Its methods only read, so
// they are safe for concurrent use.
type Blocks [][]byte

// Len returns the total number of bytes.
func (b Blocks) Len() int {
	n := 0
	for _, p := range b {
		n += len(p)
	}
	return n
}

// Bytes returns the output in one slice: the block itself when there is
// one (do not modify it), else a new slice.
func (b Blocks) Bytes() []byte {
	switch len(b) {
	case 0:
		return []byte{}
	case 1:
		return b[0]
	}
	out := make([]byte, 0, b.Len())
	for _, p := range b {
		out = append(out, p...)
	}
	return out
}

// joinBelow is the size under which Parts joins blocks (by copying) rather
// than send each as a part of its own (if max/4 is less, that): enough to
// keep tiny blocks from becoming messages, small enough that the blocks of
// a large value encoded in pieces (listInTwo) are not copied again.
const joinBelow = 256 << 10

// Parts returns b cut into message parts of at most max bytes: blocks of
// at least max/4 (at most joinBelow) bytes are cut without copying, runs of
// smaller ones are joined (copied) into parts of up to max bytes. Empty
// blocks are left out. A max of zero or less means no limit.
func (b Blocks) Parts(max int) Blocks {
	if max <= 0 {
		max = math.MaxInt
	}
	var out, run Blocks // run: small blocks not yet in out
	runLen := 0
	flush := func() {
		if len(run) > 0 {
			out = append(out, run.Bytes())
		}
		run, runLen = run[:0], 0
	}
	for _, p := range b {
		switch {
		case len(p) == 0:
		case len(p) < min(max/4, joinBelow):
			if runLen+len(p) > max {
				flush()
			}
			run, runLen = append(run, p), runLen+len(p)
		default:
			flush()
			for len(p) > max {
				out, p = append(out, p[:max:max]), p[max:]
			}
			out = append(out, p)
		}
	}
	flush()
	return out
}

// Sizes of the blocks of a block Encoder: the first block, and the size
// from which strings and byte strings are lent instead of copied (also
// the least maximum block size).
const (
	blockFirst = 512
	lendSize   = 64 << 10
)

// NewBlockEncoder returns an Encoder without a writer that keeps its
// output as blocks of at most size bytes (at least 64 KiB): full buffers are
// handed over, never copied, and strings and byte strings of 64 KiB or
// more are lent (cut into pieces of at most size bytes), not copied.
// Take the output with Blocks. Reset(nil) keeps the block mode; Reset
// with a writer ends it. Like any Encoder, it is not safe for concurrent
// use.
func NewBlockEncoder(size int) *Encoder {
	return &Encoder{blockMax: max(size, lendSize), blockNext: blockFirst}
}

// MarshalBlocks returns the encoding of v as blocks of at most size bytes,
// with DefaultLimits and no Ref hook. It is safe for concurrent use.
func MarshalBlocks(v starlark.Value, size int) (Blocks, error) {
	e := GetBlockEncoder(size)
	defer PutBlockEncoder(e)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return e.Blocks(), nil
}

// carveBlock is the size of the buffers that pooled block Encoders share
// among small outputs: a task's arguments or result of a few bytes then
// costs those bytes, not a buffer and an Encoder of its own.
const carveBlock = 8 << 10

var blockEncoders = sync.Pool{New: func() any { return new(Encoder) }}

// GetBlockEncoder returns a block Encoder like NewBlockEncoder(size),
// from a pool. Its output may be carved from a buffer that earlier
// outputs of pooled Encoders were also carved from, which is safe because
// output handed over as Blocks is never written again. Take the output
// with Blocks, then give the Encoder back with PutBlockEncoder: the
// output stays valid.
func GetBlockEncoder(size int) *Encoder {
	e := blockEncoders.Get().(*Encoder)
	e.blockMax, e.blockNext = max(size, lendSize), carveBlock
	return e
}

// PutBlockEncoder resets e, from GetBlockEncoder, and puts it back in the
// pool. Output not taken with Blocks is dropped. The rest of e's buffer
// is kept for the next small output only when it is small, so that tiny
// outputs never keep a large buffer alive.
func PutBlockEncoder(e *Encoder) {
	var rest []byte
	if e.smallBlock {
		rest = e.buf[e.n:] // output before n may have been handed over
	}
	*e = Encoder{buf: rest, smallBlock: rest != nil}
	blockEncoders.Put(e)
}

// Blocks returns the output of a block Encoder so far and gives it up:
// the Encoder goes on in new blocks. For another Encoder it returns the
// buffered output as one block, valid until the next use of e.
func (e *Encoder) Blocks() Blocks {
	if e.blockMax == 0 {
		return Blocks{e.buf[:e.n]}
	}
	e.handOff()
	b := e.blocks
	e.blocks = nil
	return b
}

// EncodeBlocks writes a byte string holding the bytes of b. A block
// Encoder lends b's large blocks instead of copying them, so b must not
// change until the output was used. Errors are sticky.
func (e *Encoder) EncodeBlocks(b Blocks) {
	e.head(majorBytes, uint64(b.Len()))
	for _, p := range b {
		s := unsafe.String(unsafe.SliceData(p), len(p)) // copied or lent, never written
		if e.blockMax > 0 && len(p) >= lendSize {
			e.lend(s)
			continue
		}
		if len(e.buf)-e.n < len(p) {
			e.grow(len(p))
		}
		e.n += copy(e.buf[e.n:], s)
	}
	e.primitiveDone()
}

// handOff moves the buffered output of a block Encoder to its blocks;
// the rest of the buffer stays for what follows.
func (e *Encoder) handOff() {
	if e.n == 0 {
		return
	}
	e.blocks = append(e.blocks, e.buf[:e.n:e.n])
	e.buf = e.buf[e.n:]
	e.written += int64(e.n)
	e.n = 0
}

// nextBlock hands the output over and makes room for k more bytes in a
// new block, sized from the estimated final size when there is one.
func (e *Encoder) nextBlock(k int) {
	e.handOff()
	if len(e.buf) < k+2*spillSlack {
		size := e.blockNext
		if est := e.estimate() - int64(e.pos()); est > int64(size) {
			size = int(min(est, int64(e.blockMax)))
		}
		size = min(size, e.blockMax)
		if room := e.Limits.effective().MaxBytes - e.written + 4*spillSlack; int64(size) > room {
			size = int(room)
		}
		e.buf = make([]byte, max(size, k+2*spillSlack))
		e.smallBlock = len(e.buf) <= carveBlock
		e.blockNext = min(2*e.blockNext, e.blockMax)
	}
	e.setMark()
}

// lend appends s to the blocks of a block Encoder without copying it.
func (e *Encoder) lend(s string) {
	if e.checkSize(len(s)) != nil {
		return
	}
	e.handOff()
	for len(s) > 0 {
		k := min(len(s), e.blockMax)
		// Lent, not copied: Blocks are never written.
		e.blocks = append(e.blocks, unsafe.Slice(unsafe.StringData(s), k))
		e.written += int64(k)
		s = s[k:]
	}
	e.setMark()
}
