// This file defines Decoder, which reads CBOR back into Starlark values.

package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"runtime"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// readSize is the size of a reader-backed Decoder's buffer, and of the
// first block of a long string read from the reader.
const readSize = 64 << 10

// maxEmptyReads is how many (0, nil) reads in a row count as a stuck reader.
const maxEmptyReads = 100

// Decoder reads CBOR values written by an Encoder back into Starlark
// values. It checks every length against Limits and sizes what it
// allocates by the input actually read, never by a length it was told,
// and it never panics. (Decoded values still take more room than their
// encoding: an empty dict is one byte on the wire.) Decoded containers
// are not frozen.
//
// A Decoder reading from an io.Reader buffers input and may read past the
// end of a value; keep using the same Decoder for what follows. A Decoder
// made by NewBytesDecoder reads in place and is the fast path.
//
// Errors are sticky: after a failed call, every call returns the same
// error. A call made at the clean end of the input returns io.EOF;
// input that ends inside an item gives an error wrapping
// io.ErrUnexpectedEOF. A Decoder is not safe for concurrent use.
type Decoder struct {
	// Ref, if non-nil, resolves the references written by Encoder.Ref;
	// when nil, a reference is an error. Set it before decoding.
	Ref func(i uint64) (starlark.Value, error)

	// Limits bounds nesting depth and total input. Set it before
	// decoding; zero fields mean DefaultLimits.
	Limits Limits

	// KeepArrays lets typed arrays of 1 MiB or more decoded from a
	// NewBytesDecoder's input keep that memory instead of copying it
	// (when the payload is little-endian and 8-byte aligned); such an
	// array copies it before its first write. Set it only when nothing
	// writes the input again, not even after the decoded values are
	// dropped: a reassembled message (Assembler.Add) or a NATS message's
	// data, never a reused buffer.
	KeepArrays bool

	r          io.Reader              // nil: buf is the whole input
	lener      interface{ Len() int } // r, if it tells how much input it holds
	buf        []byte                 // buffered input; buf[pos:end] may be decoded
	pos        int                    // next byte to decode
	end        int                    // end of what may be decoded: len(buf) cut at the limit
	base       int64                  // offset of buf[0] in the input
	rerr       error                  // the reader's last error (io.EOF at the end)
	err        error                  // sticky error
	lim        Limits                 // effective limits of the current call
	collisions int                    // comparisons due to equal hashes in the current call
	arena      []byte                 // block for small strings
}

// NewDecoder returns a Decoder that reads from r through its own buffer.
//
// If r has a Len method that reports the unread input at hand, as
// bytes.Reader, bytes.Buffer and strings.Reader do, the Decoder uses it
// to size lists and dicts up front.
func NewDecoder(r io.Reader) *Decoder {
	d := &Decoder{r: r}
	d.lener, _ = r.(interface{ Len() int })
	return d
}

// NewBytesDecoder returns a Decoder that reads b in place. Decoded
// values never alias b, but b must not change while decoding.
func NewBytesDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Decode reads one value.
func (d *Decoder) Decode() (starlark.Value, error) {
	if err := d.start(); err != nil {
		return nil, err
	}
	v, err := d.value(0)
	return v, d.finish(err)
}

// start begins an exported call: it fails on a sticky error, computes
// the limits, and returns io.EOF at the clean end of the input.
func (d *Decoder) start() error {
	if d.err != nil {
		return d.err
	}
	d.lim = d.Limits.effective()
	d.collisions = 0
	d.setEnd()
	if d.pos < len(d.buf) {
		return nil
	}
	d.fill(1)
	if d.pos < len(d.buf) {
		return nil
	}
	if d.rerr != nil && d.rerr != io.EOF {
		return d.finish(d.readErr(d.off()))
	}
	return d.finish(io.EOF)
}

// finish records err, if any, as the sticky error and returns it.
func (d *Decoder) finish(err error) error {
	if err != nil {
		d.err = err
	}
	return err
}

// off returns the input offset of the next byte.
func (d *Decoder) off() int64 { return d.base + int64(d.pos) }

// setEnd cuts what may be decoded at the byte limit.
func (d *Decoder) setEnd() {
	d.end = len(d.buf)
	if room := d.lim.MaxBytes - d.base; int64(d.end) > room {
		d.end = int(max(room, int64(d.pos)))
	}
}

// need makes sure n bytes may be decoded at pos.
func (d *Decoder) need(n int) error {
	if d.end-d.pos >= n {
		return nil
	}
	off := d.off()
	if off+int64(n) > d.lim.MaxBytes {
		return d.limitErr(off)
	}
	d.fill(n)
	if d.end-d.pos >= n {
		return nil
	}
	return d.truncErr(off)
}

// fill reads until n bytes are buffered at pos or the reader fails.
func (d *Decoder) fill(n int) {
	if d.r == nil || len(d.buf)-d.pos >= n {
		return
	}
	if d.buf == nil {
		d.buf = make([]byte, 0, readSize)
	}
	if d.pos > 0 {
		m := copy(d.buf[:cap(d.buf)], d.buf[d.pos:])
		d.base += int64(d.pos)
		d.buf, d.pos = d.buf[:m], 0
	}
	m, err := d.readAtLeast(d.buf[len(d.buf):cap(d.buf)], n-len(d.buf))
	d.buf = d.buf[:len(d.buf)+m]
	if err != nil {
		d.rerr = err
	}
	d.setEnd()
}

// readAtLeast reads into p until it has at least min bytes, or fails.
// It turns a reader stuck at (0, nil) into io.ErrNoProgress.
func (d *Decoder) readAtLeast(p []byte, min int) (n int, err error) {
	if d.rerr != nil {
		return 0, d.rerr
	}
	for empty := 0; n < min; {
		m, err := d.r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= maxEmptyReads {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// Errors. Each names the input offset of the item at fault.

func (d *Decoder) errorf(off int64, format string, args ...any) error {
	return fmt.Errorf("wire: decode: at byte %d: %s", off, fmt.Sprintf(format, args...))
}

func (d *Decoder) truncErr(off int64) error {
	if d.rerr != nil && d.rerr != io.EOF {
		return d.readErr(off)
	}
	return fmt.Errorf("wire: decode: at byte %d: input ends inside an item: %w", off, io.ErrUnexpectedEOF)
}

func (d *Decoder) readErr(off int64) error {
	return fmt.Errorf("wire: decode: at byte %d: read: %w", off, d.rerr)
}

func (d *Decoder) limitErr(off int64) error {
	return d.errorf(off, "value is larger than %d bytes (Limits.MaxBytes)", d.lim.MaxBytes)
}

func (d *Decoder) depthErr(off int64) error {
	return d.errorf(off, "value nested more than %d levels deep (Limits.MaxDepth)", d.lim.MaxDepth)
}

// headLen returns the length of the head that starts with ib.
func headLen(ib byte) int {
	switch ib & 31 {
	case 24:
		return 2
	case 25:
		return 3
	case 26:
		return 5
	case 27:
		return 9
	}
	return 1
}

// head reads an item head: its initial byte and its argument.
func (d *Decoder) head() (ib byte, arg uint64, err error) {
	if d.end-d.pos < 9 {
		if err := d.need(1); err != nil {
			return 0, 0, err
		}
		if err := d.need(headLen(d.buf[d.pos])); err != nil {
			return 0, 0, err
		}
	}
	b := d.buf[d.pos:d.end]
	ib = b[0]
	switch info := ib & 31; {
	case info < 24:
		d.pos++
		return ib, uint64(info), nil
	case info == 24:
		d.pos += 2
		return ib, uint64(b[1]), nil
	case info == 25:
		d.pos += 3
		return ib, uint64(binary.BigEndian.Uint16(b[1:])), nil
	case info == 26:
		d.pos += 5
		return ib, uint64(binary.BigEndian.Uint32(b[1:])), nil
	case info == 27:
		d.pos += 9
		return ib, binary.BigEndian.Uint64(b[1:]), nil
	case info == 31:
		return ib, 0, d.errorf(d.off(), "indefinite-length items and breaks are not supported")
	}
	return ib, 0, d.errorf(d.off(), "reserved additional information %d in initial byte 0x%02x", ib&31, ib)
}

// count checks that n items of at least unit bytes each fit the limit.
func (d *Decoder) count(off int64, n uint64, unit int64) (int, error) {
	if room := (d.lim.MaxBytes - d.off()) / unit; n > uint64(room) {
		return 0, d.limitErr(off)
	}
	return int(n), nil
}

// capacity returns how many items of at least unit bytes to allocate
// room for: no more than the input at hand can hold.
func (d *Decoder) capacity(n, unit int) int {
	avail := d.end - d.pos
	if d.lener != nil {
		avail += d.lener.Len()
	}
	return min(n, avail/unit)
}

// value reads one value whose container, if any, is at depth.
func (d *Decoder) value(depth int) (starlark.Value, error) {
	off := d.off()
	ib, arg, err := d.head()
	if err != nil {
		return nil, err
	}
	switch ib & 0xe0 {
	case majorUint:
		return starlark.MakeUint64(arg), nil
	case majorNegInt:
		return negInt(arg), nil
	case majorBytes:
		s, err := d.str(off, arg)
		return starlark.Bytes(s), err
	case majorText:
		return d.text(off, arg)
	case majorArray:
		elems, err := d.items(off, arg, depth+1)
		if err != nil {
			return nil, err
		}
		return starlark.NewList(elems), nil
	case majorMap:
		return d.dict(off, arg, depth+1)
	case majorTag:
		return d.tagged(off, arg, depth)
	}
	return d.simple(off, ib, arg)
}

// negInt returns -1-n.
func negInt(n uint64) starlark.Int {
	if n <= math.MaxInt64 {
		return starlark.MakeInt64(-1 - int64(n))
	}
	b := new(big.Int).SetUint64(n)
	return starlark.MakeBigInt(b.Not(b))
}

// str reads the n-byte payload of the string item at off.
func (d *Decoder) str(off int64, n uint64) (string, error) {
	b, fresh, err := d.payload(off, n)
	if err != nil || len(b) == 0 {
		return "", err
	}
	if fresh {
		return unsafe.String(&b[0], len(b)), nil
	}
	if len(b) > arenaMax {
		return string(b), nil
	}
	if cap(d.arena)-len(d.arena) < len(b) {
		size := arenaBlock
		if d.r == nil { // the strings still to come fit in the input left
			size = min(size, len(b)+d.end-d.pos)
		}
		d.arena = make([]byte, 0, size)
	}
	start := len(d.arena)
	d.arena = append(d.arena, b...) // never written again
	return unsafe.String(&d.arena[start], len(b)), nil
}

// Strings of up to arenaMax bytes are carved from shared blocks of
// arenaBlock bytes, which saves an allocation per string (dict keys,
// mostly); a block lives as long as any of its strings.
const (
	arenaMax   = 64
	arenaBlock = 4096
)

// payload reads the n-byte payload of the string item at off. Unless
// fresh, the result aliases the buffer and is valid until the next read.
func (d *Decoder) payload(off int64, n uint64) (b []byte, fresh bool, err error) {
	size, err := d.count(off, n, 1)
	if err != nil {
		return nil, false, err
	}
	if d.end-d.pos >= size {
		b = d.buf[d.pos : d.pos+size]
		d.pos += size
		return b, false, nil
	}
	if d.r == nil {
		return nil, false, d.truncErr(off)
	}
	b, err = d.long(off, size)
	return b, true, err
}

// long reads a payload of size bytes that is not all buffered, growing
// the result only as input arrives.
func (d *Decoder) long(off int64, size int) ([]byte, error) {
	at := len(d.buf) - d.pos
	if d.lener != nil {
		at += d.lener.Len()
	}
	out := make([]byte, 0, min(size, max(at, readSize)))
	out = append(out, d.buf[d.pos:]...)
	d.base += int64(len(d.buf))
	d.buf, d.pos, d.end = d.buf[:0], 0, 0
	for len(out) < size {
		if len(out) == cap(out) {
			out = append(make([]byte, 0, min(size, 2*cap(out))), out...)
		}
		want := min(cap(out), size) - len(out)
		m, err := d.readAtLeast(out[len(out):len(out)+want], want)
		out = out[:len(out)+m]
		d.base += int64(m)
		if err != nil {
			d.rerr = err
			return nil, d.truncErr(off)
		}
	}
	return out, nil
}

// text reads a text string, which must be valid UTF-8.
func (d *Decoder) text(off int64, n uint64) (starlark.Value, error) {
	s, err := d.str(off, n)
	if err != nil {
		return nil, err
	}
	if !utf8.ValidString(s) {
		return nil, d.errorf(off, "text string is not valid UTF-8")
	}
	return starlark.String(s), nil
}

// items reads the n elements of an array at depth.
func (d *Decoder) items(off int64, arg uint64, depth int) ([]starlark.Value, error) {
	return d.appendItems(nil, off, arg, depth)
}

// appendItems reads the elements of an array at depth, appending them to
// elems (nil: a new slice sized by the input at hand).
func (d *Decoder) appendItems(elems []starlark.Value, off int64, arg uint64, depth int) ([]starlark.Value, error) {
	if depth > d.lim.MaxDepth {
		return nil, d.depthErr(off)
	}
	n, err := d.count(off, arg, 1)
	if err != nil {
		return nil, err
	}
	if d.r == nil && n >= parallelItems && n <= d.end-d.pos && runtime.GOMAXPROCS(0) > 1 {
		if out, ok, err := d.itemsInTwo(elems, n, depth); ok {
			return out, err
		}
	}
	if elems == nil {
		elems = make([]starlark.Value, 0, d.capacity(n, 1))
	}
	return d.run(elems, n, depth)
}

// run appends the next k items, at depth, to elems.
func (d *Decoder) run(elems []starlark.Value, k, depth int) ([]starlark.Value, error) {
	for n := len(elems) + k; len(elems) < n; {
		if len(elems) == cap(elems) {
			elems = growValues(elems, n)
		}
		if elems = d.uints(elems, n); len(elems) == n {
			break
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		elems = append(elems, v)
	}
	return elems, nil
}

// parallelItems is the length from which an array held in memory is
// decoded by two goroutines, one half each: building millions of values
// is most of the time a big transfer takes, and a Pi has four cores.
const parallelItems = 1 << 17

// inTwo counts the arrays decoded by itemsInTwo (for tests).
var inTwo atomic.Int64

// itemsInTwo appends the n items of an array at depth to elems, decoding
// the second half on another goroutine. It does so (ok) when the first
// half holds only scalars (ints, floats, strings, bools, None), which can
// be skipped to find where the second half starts; else it leaves d as
// it was. The second half is decoded without the Ref hook, which need not
// be safe for concurrent use: when it fails for any reason, d decodes it
// again itself, so that errors are those of the sequential decoder.
func (d *Decoder) itemsInTwo(elems []starlark.Value, n, depth int) (_ []starlark.Value, ok bool, _ error) {
	half := n / 2
	mid := scalarsEnd(d.buf[:d.end], d.pos, half)
	if mid < 0 {
		return nil, false, nil
	}
	inTwo.Add(1)
	start := len(elems)
	if cap(elems)-start < n {
		elems = append(make([]starlark.Value, 0, start+n), elems...)
	}
	all := elems[:start+n]
	first, second := all[start:start:start+half], all[start+half:start+half:start+n]
	sub := &Decoder{Limits: d.Limits, lim: d.lim, buf: d.buf, pos: mid, end: d.end, base: d.base}
	var subErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, subErr = sub.run(second, n-half, depth)
	}()
	_, err := d.run(first, half, depth)
	<-done
	switch {
	case err != nil:
		return nil, true, err
	case subErr != nil || d.pos != mid:
		if _, err := d.run(second, n-half, depth); err != nil {
			return nil, true, err
		}
	default:
		d.pos = sub.pos
	}
	return all, true, nil
}

// scalarsEnd returns the position in buf after the k items from pos, or
// -1 when one of them is not a scalar (an array, map or tag) or the input
// ends first.
func scalarsEnd(buf []byte, pos, k int) int {
	for ; k > 0; k-- {
		if pos >= len(buf) {
			return -1
		}
		ib := buf[pos]
		hl := 1
		var arg uint64
		switch info := ib & 31; {
		case info < 24:
			arg = uint64(info)
		case info == 24 && pos+2 <= len(buf):
			hl, arg = 2, uint64(buf[pos+1])
		case info == 25 && pos+3 <= len(buf):
			hl, arg = 3, uint64(binary.BigEndian.Uint16(buf[pos+1:]))
		case info == 26 && pos+5 <= len(buf):
			hl, arg = 5, uint64(binary.BigEndian.Uint32(buf[pos+1:]))
		case info == 27 && pos+9 <= len(buf):
			hl, arg = 9, binary.BigEndian.Uint64(buf[pos+1:])
		default:
			return -1
		}
		switch ib & 0xe0 {
		case majorUint, majorNegInt, majorSimple:
			pos += hl
		case majorBytes, majorText:
			if arg > uint64(len(buf)-pos-hl) {
				return -1
			}
			pos += hl + int(arg)
		default:
			return -1
		}
	}
	return pos
}

// uints appends to elems the run of unsigned ints of up to 32 bits that
// starts at pos, while elems has room and fewer than n items: the fast
// path for lists of ints.
func (d *Decoder) uints(elems []starlark.Value, n int) []starlark.Value {
	buf, pos, n := d.buf[:d.end], d.pos, min(n, cap(elems))
	for len(elems) < n && pos+5 <= len(buf) {
		var x uint32
		switch c := buf[pos]; {
		case c == 26: // most ints of a big list
			x = binary.BigEndian.Uint32(buf[pos+1:])
			pos += 5
		case c < 24:
			x = uint32(c)
			pos++
		case c == 24:
			x = uint32(buf[pos+1])
			pos += 2
		case c == 25:
			x = uint32(binary.BigEndian.Uint16(buf[pos+1:]))
			pos += 3
		default:
			d.pos = pos
			return elems
		}
		elems = append(elems, starlark.MakeUint64(uint64(x)))
	}
	d.pos = pos
	return elems
}

// growValues doubles the capacity of s, up to n (append grows large
// slices by only 1.25x).
func growValues(s []starlark.Value, n int) []starlark.Value {
	return append(make([]starlark.Value, 0, min(n, max(2*cap(s), 16))), s...)
}

// dict reads a map of n pairs at depth.
func (d *Decoder) dict(off int64, arg uint64, depth int) (starlark.Value, error) {
	if depth > d.lim.MaxDepth {
		return nil, d.depthErr(off)
	}
	n, err := d.count(off, arg, 2)
	if err != nil {
		return nil, err
	}
	dict := starlark.NewDict(d.capacity(n, 2))
	var seen hashCounts
	for i := range n {
		koff := d.off()
		k, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		if err := d.collide(&seen, koff, k); err != nil {
			return nil, err
		}
		if err := dict.SetKey(k, v); err != nil {
			return nil, d.errorf(koff, "dict key: %v", err)
		}
		if dict.Len() != i+1 {
			return nil, d.errorf(koff, "duplicate dict key %s", shortRepr(k))
		}
	}
	return dict, nil
}

// maxCollisions bounds the key comparisons that equal hashes may cost in
// one call. Starlark hashes all floats in (-1, 1) alike, and all ints
// k*2**32+c, so without a bound a hostile 1 MiB dict or set of them
// would take minutes to build (20,000 such floats take 6 s).
const maxCollisions = 1 << 22

// hashCounts counts the keys of one dict or set by hash.
type hashCounts map[uint32]int32

// collide counts the comparisons that inserting k will cost, and fails
// past maxCollisions. Strings and bytes are skipped: Starlark hashes the
// long ones with a per-process random seed, and colliding short ones
// are expensive to find.
func (d *Decoder) collide(seen *hashCounts, off int64, k starlark.Value) error {
	switch k.(type) {
	case starlark.String, starlark.Bytes:
		return nil
	}
	h, err := k.Hash()
	if err != nil {
		return nil // the insertion reports it
	}
	if *seen == nil {
		*seen = make(hashCounts)
	}
	c := (*seen)[h]
	(*seen)[h] = c + 1
	if d.collisions += int(c); d.collisions > maxCollisions {
		return d.errorf(off, "too many keys with equal hashes (over %d comparisons): input crafted to be slow?", maxCollisions)
	}
	return nil
}

// tagged reads the content of a tag; the tag itself is at depth.
func (d *Decoder) tagged(off int64, tag uint64, depth int) (starlark.Value, error) {
	switch tag {
	case tagPosBignum, tagNegBignum:
		return d.bignum(off, tag)
	case tagSet:
		return d.set(off, depth+1)
	case tagTuple:
		n, err := d.enclosed(off, tag, majorArray)
		if err != nil {
			return nil, err
		}
		elems, err := d.items(off, n, depth+1)
		return starlark.Tuple(elems), err
	case tagRawString:
		n, err := d.enclosed(off, tag, majorBytes)
		if err != nil {
			return nil, err
		}
		s, err := d.str(off, n)
		return starlark.String(s), err
	case tagStruct:
		return d.structure(off, depth+1)
	case tagRef:
		return d.ref(off)
	case tagMultiDim:
		return d.multiDim(off)
	case tagUint8, tagInt64BE, tagInt64LE, tagFloat64BE, tagFloat64LE, tagBoolArray:
		return d.typedArray(off, tag, nil)
	}
	return nil, d.errorf(off, "unknown tag %d", tag)
}

// kinds names the major types in error messages.
var kinds = [8]string{
	"unsigned integer", "negative integer", "byte string", "text string",
	"array", "map", "tag", "simple value or float",
}

// enclosed reads the head of the item that tag encloses, which must be
// of the given major type, and returns its argument.
func (d *Decoder) enclosed(off int64, tag uint64, major byte) (uint64, error) {
	ib, arg, err := d.head()
	if err != nil {
		return 0, err
	}
	if ib&0xe0 != major {
		return 0, d.errorf(off, "tag %d encloses a %s, want a %s", tag, kinds[ib>>5], kinds[major>>5])
	}
	return arg, nil
}

// bignum reads the byte string of tag 2 or 3.
func (d *Decoder) bignum(off int64, tag uint64) (starlark.Value, error) {
	n, err := d.enclosed(off, tag, majorBytes)
	if err != nil {
		return nil, err
	}
	b, _, err := d.payload(off, n)
	if err != nil {
		return nil, err
	}
	i := new(big.Int).SetBytes(b)
	if tag == tagNegBignum {
		i.Not(i) // -1-i
	}
	return starlark.MakeBigInt(i), nil
}

// set reads the array of tag 258 as a set at depth.
func (d *Decoder) set(off int64, depth int) (starlark.Value, error) {
	arg, err := d.enclosed(off, tagSet, majorArray)
	if err != nil {
		return nil, err
	}
	if depth > d.lim.MaxDepth {
		return nil, d.depthErr(off)
	}
	n, err := d.count(off, arg, 1)
	if err != nil {
		return nil, err
	}
	set := starlark.NewSet(d.capacity(n, 1))
	var seen hashCounts
	for i := range n {
		eoff := d.off()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		if err := d.collide(&seen, eoff, v); err != nil {
			return nil, err
		}
		if err := set.Insert(v); err != nil {
			return nil, d.errorf(eoff, "set element: %v", err)
		}
		if set.Len() != i+1 {
			return nil, d.errorf(eoff, "duplicate set element %s", shortRepr(v))
		}
	}
	return set, nil
}

// structure reads the map of a struct tag at depth.
func (d *Decoder) structure(off int64, depth int) (starlark.Value, error) {
	arg, err := d.enclosed(off, tagStruct, majorMap)
	if err != nil {
		return nil, err
	}
	if depth > d.lim.MaxDepth {
		return nil, d.depthErr(off)
	}
	n, err := d.count(off, arg, 2)
	if err != nil {
		return nil, err
	}
	fields := make([]starlark.Tuple, 0, d.capacity(n, 2))
	for range n {
		koff := d.off()
		k, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		name, ok := k.(starlark.String)
		if !ok {
			return nil, d.errorf(koff, "struct field name is a %s, want a string", k.Type())
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		fields = append(fields, starlark.Tuple{name, v})
	}
	return d.newStruct(off, fields)
}

// newStruct makes a struct from fields, rejecting repeated names.
func (d *Decoder) newStruct(off int64, fields []starlark.Tuple) (starlark.Value, error) {
	s := starlarkstruct.FromKeywords(starlarkstruct.Default, fields)
	for i := 1; i < s.Len(); i++ {
		prev, _ := s.AttrAt(i - 1)
		if name, _ := s.AttrAt(i); name == prev {
			return nil, d.errorf(off, "duplicate struct field %q", name)
		}
	}
	return s, nil
}

// ref reads the index of a reference tag and resolves it through Ref.
func (d *Decoder) ref(off int64) (starlark.Value, error) {
	i, err := d.enclosed(off, tagRef, majorUint)
	if err != nil {
		return nil, err
	}
	if d.Ref == nil {
		return nil, d.errorf(off, "reference %d found, but Decoder.Ref is nil", i)
	}
	v, err := d.Ref(i)
	if err == nil && v == nil {
		err = errors.New("Decoder.Ref returned nil")
	}
	if err != nil {
		return nil, fmt.Errorf("wire: decode: at byte %d: reference %d: %w", off, i, err)
	}
	return v, nil
}

// simple reads a major type 7 item: a bool, None or a float.
func (d *Decoder) simple(off int64, ib byte, arg uint64) (starlark.Value, error) {
	switch ib {
	case cborFalse:
		return starlark.False, nil
	case cborTrue:
		return starlark.True, nil
	case cborNull:
		return starlark.None, nil
	case cborFloat64, cborFloat32, cborFloat16:
		return starlark.Float(toFloat(ib, arg)), nil
	}
	return nil, d.errorf(off, "unsupported simple value 0x%02x", ib)
}

// toFloat converts the argument of a float head to a float64.
func toFloat(ib byte, arg uint64) float64 {
	switch ib {
	case cborFloat16:
		return halfToFloat(uint16(arg))
	case cborFloat32:
		return float64(math.Float32frombits(uint32(arg)))
	}
	return math.Float64frombits(arg)
}

// halfToFloat converts an IEEE 754 half-precision float (RFC 8949 §D).
func halfToFloat(h uint16) float64 {
	exp, mant := int(h>>10)&0x1f, float64(h&0x3ff)
	var f float64
	switch exp {
	case 0:
		f = math.Ldexp(mant, -24)
	case 31:
		f = math.Inf(1)
		if mant != 0 {
			f = math.NaN()
		}
	default:
		f = math.Ldexp(mant+1024, exp-25)
	}
	if h&0x8000 != 0 {
		f = -f
	}
	return f
}

// expectEnd returns an error if any input follows the value just read.
func (d *Decoder) expectEnd() error {
	d.fill(1)
	if d.pos < len(d.buf) {
		return d.finish(d.errorf(d.off(), "unexpected data after the value"))
	}
	if d.rerr != nil && d.rerr != io.EOF {
		return d.finish(d.readErr(d.off()))
	}
	return nil
}
