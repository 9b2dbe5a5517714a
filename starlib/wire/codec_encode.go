// This file defines Encoder, which writes Starlark values as CBOR.

package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// flushSize is the amount of buffered output at which an Encoder with a
// writer hands it over; Marshal never flushes.
const flushSize = 256 << 10

// marshalCheck is how often (in bytes of growth) an Encoder without a
// writer checks its output against Limits.MaxBytes.
const marshalCheck = 1 << 20

// Encoder writes Starlark values as CBOR to an io.Writer, buffering its
// output in large blocks: call Flush after the last value. The zero
// Encoder has no writer and keeps all output in memory (Marshal uses it).
//
// Encoding errors come in two kinds. A value error (an unsendable value,
// too deep a nesting) is returned by Encode; if no output was handed to
// the writer during that call, the partial output is discarded and the
// Encoder stays usable, otherwise the error is sticky. A write error, or
// going over Limits.MaxBytes, is sticky: output of the primitives
// (EncodeNil … EncodeMapHead) is then dropped, and Encode and Flush
// return the error until Reset.
//
// An Encoder is not safe for concurrent use.
type Encoder struct {
	// Ref, if non-nil, is called for each value that has no wire form of
	// its own (functions, builtins, modules, user types). It returns the
	// value's index in the caller's reference table, or an error that
	// Encode returns inside an *UnsendableError. Set it before encoding.
	Ref func(v starlark.Value) (uint64, error)

	// Limits bounds nesting depth and total output. Set it before encoding.
	Limits Limits

	// Output is buf[:n]; len(buf) == cap(buf). Keeping the length apart
	// means appending stores no pointer, so needs no GC write barrier.
	buf     []byte
	n       int
	w       io.Writer // nil: keep everything in buf
	written int64     // bytes handed to w since creation or Reset
	mark    int       // n at which elem calls spill
	err     error     // sticky error
	depth   int       // effective Limits.MaxDepth of the current Encode

	// Progress through the outermost container, from which grow
	// extrapolates the final size: its first byte, length, items done.
	topStart, topLen, topDone int

	// A block Encoder (NewBlockEncoder) hands full buffers over to blocks
	// instead of copying them to grow; written counts their bytes.
	blocks    Blocks
	blockMax  int // > 0 for a block Encoder: the largest block
	blockNext int // size of the next new block, before estimates
	// smallBlock: buf is (the rest of) a block of at most carveBlock
	// bytes, which a pooled block Encoder may keep (PutBlockEncoder).
	smallBlock bool
	// noTables makes dicts and sets an error (errTables): iterating one
	// writes its iteration counter, so the second-half Encoder of
	// listInTwo, which runs beside e, must not (the same dict may appear
	// in both halves).
	noTables bool
}

// NewEncoder returns an Encoder that writes to w.
func NewEncoder(w io.Writer) *Encoder {
	e := &Encoder{}
	e.Reset(w)
	return e
}

// Reset discards buffered output, errors and counts, and makes e write to
// w (nil: keep output in memory), reusing e's buffer.
func (e *Encoder) Reset(w io.Writer) {
	e.w, e.n, e.written, e.err = w, 0, 0, nil
	e.blocks = nil
	if w != nil {
		e.blockMax = 0
	}
}

// Flush hands buffered output to the writer and returns the first sticky
// error. It does nothing for an Encoder without a writer.
func (e *Encoder) Flush() error {
	if e.err == nil && e.w != nil && e.n > 0 {
		e.write()
	}
	return e.err
}

// Encode writes v. See Encoder for which errors are sticky.
func (e *Encoder) Encode(v starlark.Value) error {
	if e.err != nil {
		return e.err
	}
	if v == nil {
		return errors.New("wire: encode: nil starlark.Value")
	}
	return e.top(func() error { return e.value(v, 0) })
}

// EncodeRange writes the items seq[start:end] as a list, or as a tuple
// when tuple is set: the same bytes as Encode of a list or tuple holding
// them, without making one. See Encoder for which errors are sticky.
func (e *Encoder) EncodeRange(seq starlark.Indexable, start, end int, tuple bool) error {
	if e.err != nil {
		return e.err
	}
	if start < 0 || end < start || end > seq.Len() {
		return fmt.Errorf("wire: encode: range [%d:%d] of a %s of %d items", start, end, seq.Type(), seq.Len())
	}
	return e.top(func() error { return e.seqRange(seq, start, end, tuple, 1) })
}

// top runs encode, which writes one outermost value, and handles its
// error as Encode documents.
func (e *Encoder) top(encode func() error) error {
	e.depth = e.Limits.effective().MaxDepth
	e.topLen = 0
	e.setMark()
	start, written := e.n, e.written
	err := encode()
	if err == nil {
		err = e.checkSize(0)
	}
	switch {
	case err == nil:
		e.primitiveDone()
		err = e.err
	case e.err == nil && e.written == written:
		e.n = start // nothing reached the writer: forget it all
	case e.err == nil:
		e.err = err
	}
	return err
}

// spillSlack is the room buf always has for one scalar below the mark.
const spillSlack = 64

// setMark sets the length at which elem calls spill: when the buffer is
// due for a flush or a size check, or needs to grow.
func (e *Encoder) setMark() {
	due := e.n + marshalCheck
	if e.w != nil {
		due = flushSize
	}
	e.mark = min(len(e.buf)-spillSlack, due)
}

// spill runs when the output has reached mark: it checks the size limit,
// flushes a full buffer to the writer, and grows buf.
func (e *Encoder) spill() error {
	if e.err != nil {
		return e.err
	}
	if err := e.checkSize(0); err != nil {
		return err
	}
	if e.w != nil && e.n >= flushSize {
		e.write()
	}
	if len(e.buf)-e.n < 2*spillSlack {
		e.grow(2 * spillSlack)
	}
	e.setMark()
	return e.err
}

// grow makes room for k more bytes. It doubles buf (append grows large
// slices by only 1.25x), or grows it to the estimated final size if that
// is more, up to 4 times; it stays within the flush size when there is a
// writer, and not far past the size limit.
func (e *Encoder) grow(k int) {
	if e.blockMax > 0 {
		e.nextBlock(k)
		return
	}
	c := int64(max(2*len(e.buf), 256)) // small first: most messages are small
	if e.w != nil {
		c = min(c, flushSize+4*spillSlack)
	} else if est := e.estimate(); est > c {
		c = min(est, 4*int64(len(e.buf)))
	}
	if room := e.Limits.effective().MaxBytes - e.written + 4*spillSlack; c > room {
		c = room
	}
	buf := make([]byte, max(c, int64(e.n+k)))
	copy(buf, e.buf[:e.n])
	e.buf = buf
}

// estimate extrapolates the final output size from the progress through
// the outermost container, or returns 0 if there is too little to go on.
func (e *Encoder) estimate() int64 {
	if e.topDone < 64 {
		return 0
	}
	pos := e.pos()
	per := float64(pos-e.topStart) / float64(e.topDone)
	return int64(float64(pos) + 1.05*per*float64(e.topLen-e.topDone))
}

// pos returns the output size so far (of a block Encoder, or without a writer).
func (e *Encoder) pos() int { return int(e.written) + e.n }

// enterTop records the start of a container of n items at depth for
// estimate, and reports whether it did: it does for the outermost one,
// and for a large one met when fewer than 64 items of the tracked one are
// left (the list in {"name": list}). The container's loop then records
// its progress in topDone.
func (e *Encoder) enterTop(depth, n int) bool {
	if depth == 1 || n >= 64 && e.topLen-e.topDone < 64 {
		e.topStart, e.topLen, e.topDone = e.pos(), n, 0
		return true
	}
	return false
}

// checkSize records and returns an error if the output, plus extra
// bytes about to be added, goes over the size limit.
func (e *Encoder) checkSize(extra int) error {
	max := e.Limits.effective().MaxBytes
	if e.written+int64(e.n)+int64(extra) > max && e.err == nil {
		e.err = fmt.Errorf("wire: encode: value needs more than %d bytes (Limits.MaxBytes)", max)
	}
	return e.err
}

// write hands the buffered output to the writer and empties the buffer.
func (e *Encoder) write() {
	e.writeOut(e.buf[:e.n])
	e.n = 0
}

// writeOut hands p to the writer and records any error.
func (e *Encoder) writeOut(p []byte) {
	if e.err != nil || len(p) == 0 {
		return
	}
	n, err := e.w.Write(p)
	e.written += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		e.err = fmt.Errorf("wire: encode: write: %w", err)
	}
}

// primitiveDone is called after each primitive: it spills a full buffer.
func (e *Encoder) primitiveDone() {
	if e.n >= flushSize && e.w != nil {
		e.spill()
	}
}

// byte appends one byte.
func (e *Encoder) byte(c byte) {
	if e.n == len(e.buf) {
		e.grow(1)
	}
	e.buf[e.n] = c
	e.n++
}

// head appends a CBOR head: the major type (already shifted) and argument n.
func (e *Encoder) head(major byte, n uint64) {
	if len(e.buf)-e.n < 9 {
		e.grow(9)
	}
	b, l := e.buf, e.n
	switch {
	case n < 24:
		b[l] = major | byte(n)
		e.n = l + 1
	case n <= math.MaxUint8:
		b[l], b[l+1] = major|24, byte(n)
		e.n = l + 2
	case n <= math.MaxUint16:
		b[l] = major | 25
		binary.BigEndian.PutUint16(b[l+1:], uint16(n))
		e.n = l + 3
	case n <= math.MaxUint32:
		b[l] = major | 26
		binary.BigEndian.PutUint32(b[l+1:], uint32(n))
		e.n = l + 5
	default:
		b[l] = major | 27
		binary.BigEndian.PutUint64(b[l+1:], n)
		e.n = l + 9
	}
}

// boolByte returns the CBOR encoding of b.
func boolByte(b bool) byte {
	if b {
		return cborTrue
	}
	return cborFalse
}

// int64 appends an integer.
func (e *Encoder) int64(i int64) {
	if i >= 0 {
		e.head(majorUint, uint64(i))
	} else {
		e.head(majorNegInt, uint64(-1-i))
	}
}

// float appends a double.
func (e *Encoder) float(f float64) {
	if len(e.buf)-e.n < 9 {
		e.grow(9)
	}
	e.buf[e.n] = cborFloat64
	binary.BigEndian.PutUint64(e.buf[e.n+1:], math.Float64bits(f))
	e.n += 9
}

// string appends a Starlark string: text if valid UTF-8, else tagged bytes.
func (e *Encoder) string(s string) {
	if utf8.ValidString(s) {
		e.payload(majorText, s)
		return
	}
	e.head(majorTag, tagRawString)
	e.payload(majorBytes, s)
}

// payload appends a string or byte string; large payloads bypass the
// buffer when there is a writer.
func (e *Encoder) payload(major byte, s string) {
	e.head(major, uint64(len(s)))
	if len(s) >= flushSize && e.w != nil {
		e.writeLarge(s)
		return
	}
	if e.blockMax > 0 && len(s) >= lendSize {
		e.lend(s)
		return
	}
	if len(s) > marshalCheck && e.checkSize(len(s)) != nil {
		return
	}
	if len(e.buf)-e.n < len(s) {
		e.grow(len(s))
	}
	e.n += copy(e.buf[e.n:], s)
}

// writeLarge flushes the buffer and writes s straight to the writer.
func (e *Encoder) writeLarge(s string) {
	if e.checkSize(len(s)) != nil {
		return
	}
	e.write()
	// s is lent, not copied: io.Writer.Write must not modify its input.
	e.writeOut(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// containerHead writes an array or map head for a primitive.
func (e *Encoder) containerHead(major byte, n int) {
	if n < 0 {
		if e.err == nil {
			e.err = fmt.Errorf("wire: encode: negative length %d", n)
		}
		return
	}
	e.head(major, uint64(n))
	e.primitiveDone()
}

// value appends v at the given depth (0 for the outermost value).
func (e *Encoder) value(v starlark.Value, depth int) error {
	switch v := v.(type) {
	case starlark.NoneType:
		e.byte(cborNull)
	case starlark.Bool:
		e.byte(boolByte(bool(v)))
	case starlark.Int:
		e.int(v)
	case starlark.Float:
		e.float(float64(v))
	case starlark.String:
		e.string(string(v))
	case starlark.Bytes:
		e.payload(majorBytes, string(v))
	case *starlark.List:
		return e.list(v, depth+1)
	case starlark.Tuple:
		return e.tuple(v, depth+1)
	case *starlark.Dict:
		if e.noTables {
			return errTables
		}
		return e.dict(v, depth+1)
	case *starlark.Set:
		if e.noTables {
			return errTables
		}
		return e.set(v, depth+1)
	case *starlarkstruct.Struct:
		if v.Constructor() == starlarkstruct.Default {
			return e.structure(v, depth+1)
		}
		return e.ref(v)
	case Array:
		return e.array(v)
	default:
		return e.ref(v)
	}
	return e.err
}

// int appends a Starlark int, as a bignum if it is outside ±2**64.
func (e *Encoder) int(i starlark.Int) {
	if x, ok := i.Int64(); ok {
		e.int64(x)
		return
	}
	b := i.BigInt()
	major, tag := byte(majorUint), uint64(tagPosBignum)
	if b.Sign() < 0 {
		major, tag = majorNegInt, tagNegBignum
		b.Not(b) // -1-b
	}
	if b.IsUint64() {
		e.head(major, b.Uint64())
		return
	}
	e.head(majorTag, tag)
	e.payload(majorBytes, string(b.Bytes()))
}

// enter checks the depth of a container about to be written.
func (e *Encoder) enter(depth int) error {
	if depth > e.depth {
		return fmt.Errorf("wire: encode: value nested more than %d levels deep (is it cyclic?)", e.depth)
	}
	return nil
}

// smallInt appends v and reports true if v is an int in [0, 2**32) and
// the buffer is below the mark (so has room): the fast path for lists
// of ints.
func (e *Encoder) smallInt(v starlark.Value) bool {
	i, ok := v.(starlark.Int)
	if !ok || e.n >= e.mark {
		return false
	}
	x, ok := i.Int64()
	if !ok || uint64(x) > math.MaxUint32 {
		return false
	}
	b := e.buf[e.n : e.n+5]
	switch {
	case x < 24:
		b[0] = byte(x)
		e.n++
	case x <= math.MaxUint16:
		e.head(majorUint, uint64(x))
	default:
		b[0] = majorUint | 26
		binary.BigEndian.PutUint32(b[1:], uint32(x))
		e.n += 5
	}
	return true
}

// elem appends one element of a container, with a fast path for ints.
func (e *Encoder) elem(v starlark.Value, depth int) error {
	if e.n >= e.mark {
		if err := e.spill(); err != nil {
			return err
		}
	}
	if i, ok := v.(starlark.Int); ok {
		e.int(i)
		return nil
	}
	return e.value(v, depth)
}

func (e *Encoder) list(l *starlark.List, depth int) error {
	if err := e.enter(depth); err != nil {
		return err
	}
	n := l.Len()
	e.head(majorArray, uint64(n))
	return e.listItems(l, 0, n, depth, e.enterTop(depth, n), 0, true)
}

// listItems appends l[from:to] at depth. When top, l is the container
// estimate follows, and item i is number i-base of it. A block Encoder
// may encode a long run in two halves at once (inTwo).
func (e *Encoder) listItems(l *starlark.List, from, to, depth int, top bool, base int, inTwo bool) error {
	if inTwo && to-from >= parallelItems && e.blockMax > 0 && e.w == nil && runtime.GOMAXPROCS(0) > 1 {
		return e.listInTwo(l, from, to, depth, top, base)
	}
	for i := from; i < to; i++ {
		if i = e.uintRun(l, i, to); i == to {
			break
		}
		if top {
			e.topDone = i - base
		}
		v := l.Index(i)
		if e.smallInt(v) {
			continue
		}
		if err := e.elem(v, depth); err != nil {
			return withSegment(err, func() string { return "[" + strconv.Itoa(i) + "]" })
		}
	}
	return nil
}

// encodedInTwo counts the lists listInTwo encoded in two halves (for tests).
var encodedInTwo atomic.Int64

// errTables is the error of an Encoder with noTables meeting a dict or set.
var errTables = errors.New("wire: encode: dict or set in a half encoded beside another")

// listInTwo appends l[from:to] at depth, encoding the second half into
// another block Encoder on another goroutine and then taking its blocks.
// That Encoder has no Ref hook, which need not be safe for concurrent
// use: when it fails for any reason (a value that only Ref can send, a
// limit), e encodes the second half again itself, so that hooks are
// called in order and errors are those of the sequential encoder.
func (e *Encoder) listInTwo(l *starlark.List, from, to, depth int, top bool, base int) error {
	half := from + (to-from)/2
	sub := GetBlockEncoder(e.blockMax)
	defer PutBlockEncoder(sub)
	sub.Limits, sub.depth, sub.noTables = e.Limits, e.depth, true
	sub.topStart, sub.topLen, sub.topDone = 0, to-half, 0
	sub.setMark()
	var subErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if subErr = sub.listItems(l, half, to, depth, true, half, true); subErr == nil {
			subErr = sub.checkSize(0)
		}
	}()
	topLen := e.topLen
	if top {
		e.topLen = half - base // e writes up to half: size its blocks for that
	}
	err := e.listItems(l, from, half, depth, top, base, true)
	e.topLen = topLen
	<-done
	if err != nil {
		return err
	}
	if subErr != nil {
		return e.listItems(l, half, to, depth, top, base, false)
	}
	encodedInTwo.Add(1)
	out := sub.Blocks()
	e.handOff()
	e.blocks = append(e.blocks, out...)
	e.written += int64(out.Len())
	if top {
		e.topDone = to - base
	}
	e.setMark()
	return e.checkSize(0)
}

// seqRange appends seq[start:end] as a list or tuple at depth.
func (e *Encoder) seqRange(seq starlark.Indexable, start, end int, tuple bool, depth int) error {
	if err := e.enter(depth); err != nil {
		return err
	}
	if tuple {
		e.head(majorTag, tagTuple)
	}
	e.head(majorArray, uint64(end-start))
	top := e.enterTop(depth, end-start)
	l, isList := seq.(*starlark.List)
	for i := start; i < end; i++ {
		if isList {
			if i = e.uintRun(l, i, end); i == end {
				break
			}
		}
		if top {
			e.topDone = i - start
		}
		v := seq.Index(i)
		if e.smallInt(v) {
			continue
		}
		if err := e.elem(v, depth); err != nil {
			return withSegment(err, func() string { return "[" + strconv.Itoa(i-start) + "]" })
		}
	}
	return nil
}

// uintRun writes the elements of l from i to end while they are ints in
// [0, 2**32) and the buffer is below the mark, and returns the index of
// the first element not written: the fast path for lists of ints.
func (e *Encoder) uintRun(l *starlark.List, i, n int) int {
	buf, p := e.buf, e.n
	for ; i < n && p < e.mark; i++ {
		x, ok := l.Index(i).(starlark.Int)
		if !ok {
			break
		}
		v, ok := x.Int64()
		if !ok || uint64(v) > math.MaxUint32 {
			break
		}
		b := buf[p : p+5]
		switch {
		case v < 24:
			b[0] = byte(v)
			p++
		case v <= math.MaxUint8:
			b[0], b[1] = majorUint|24, byte(v)
			p += 2
		case v <= math.MaxUint16:
			b[0] = majorUint | 25
			binary.BigEndian.PutUint16(b[1:], uint16(v))
			p += 3
		default:
			b[0] = majorUint | 26
			binary.BigEndian.PutUint32(b[1:], uint32(v))
			p += 5
		}
	}
	e.n = p
	return i
}

func (e *Encoder) tuple(t starlark.Tuple, depth int) error {
	if err := e.enter(depth); err != nil {
		return err
	}
	e.head(majorTag, tagTuple)
	e.head(majorArray, uint64(len(t)))
	top := e.enterTop(depth, len(t))
	for i, v := range t {
		if top {
			e.topDone = i
		}
		if e.smallInt(v) {
			continue
		}
		if err := e.elem(v, depth); err != nil {
			return withSegment(err, func() string { return "[" + strconv.Itoa(i) + "]" })
		}
	}
	return nil
}

func (e *Encoder) dict(d *starlark.Dict, depth int) error {
	if err := e.enter(depth); err != nil {
		return err
	}
	e.head(majorMap, uint64(d.Len()))
	top := e.enterTop(depth, d.Len())
	i := 0
	for k, v := range d.Entries() {
		if top {
			e.topDone = i
		}
		if err := e.elem(k, depth); err != nil {
			return withSegment(err, func() string { return "{key " + strconv.Itoa(i) + "}" })
		}
		if err := e.elem(v, depth); err != nil {
			return withSegment(err, func() string { return "[" + shortRepr(k) + "]" })
		}
		i++
	}
	return nil
}

func (e *Encoder) set(s *starlark.Set, depth int) error {
	if err := e.enter(depth); err != nil {
		return err
	}
	e.head(majorTag, tagSet)
	e.head(majorArray, uint64(s.Len()))
	top := e.enterTop(depth, s.Len())
	i := 0
	for v := range s.Elements() {
		if top {
			e.topDone = i
		}
		if err := e.elem(v, depth); err != nil {
			return withSegment(err, func() string { return "{" + strconv.Itoa(i) + "}" })
		}
		i++
	}
	return nil
}

func (e *Encoder) structure(s *starlarkstruct.Struct, depth int) error {
	if err := e.enter(depth); err != nil {
		return err
	}
	e.head(majorTag, tagStruct)
	e.head(majorMap, uint64(s.Len()))
	for i := range s.Len() {
		name, v := s.AttrAt(i)
		e.string(name)
		if err := e.elem(v, depth); err != nil {
			return withSegment(err, func() string { return "." + name })
		}
	}
	return nil
}

// ref appends a reference to v obtained from the Ref hook.
func (e *Encoder) ref(v starlark.Value) error {
	if e.Ref == nil {
		return &UnsendableError{Value: v}
	}
	i, err := e.Ref(v)
	if err != nil {
		return &UnsendableError{Value: v, Err: err}
	}
	e.head(majorTag, tagRef)
	e.head(majorUint, i)
	return nil
}
