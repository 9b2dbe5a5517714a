// This file defines ReadNPY, which reads numpy's .npy format into an
// Array (files.read_array on engines).

package num

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// IsNPY reports whether data starts like a .npy file.
func IsNPY(data []byte) bool { return bytes.HasPrefix(data, []byte(npyMagic)) }

// npyType is what ReadNPY knows of one numpy dtype descr.
type npyType struct {
	dtype DType // of the Array made
	size  int   // bytes per element in the file
	kind  byte  // 'f' float, 'i' signed, 'u' unsigned, 'b' bool
}

// npyTypes maps a descr without its byte-order character to its type.
var npyTypes = map[string]npyType{
	"f8": {Float64, 8, 'f'}, "f4": {Float64, 4, 'f'},
	"i8": {Int64, 8, 'i'}, "i4": {Int64, 4, 'i'}, "i2": {Int64, 2, 'i'}, "i1": {Int64, 1, 'i'},
	"u4": {Int64, 4, 'u'}, "u2": {Int64, 2, 'u'}, "u1": {Int64, 1, 'u'},
	"b1": {Bool, 1, 'b'},
}

// ReadNPY reads the .npy file data (format versions 1.0, 2.0 and 3.0)
// into a new array, charged to thread's limits (nil: none). float32 and
// smaller ints become float64 and int64; big-endian and Fortran-order
// files are converted. Errors start with name (the file's path) and say
// what in the file cannot be read.
func ReadNPY(thread *starlark.Thread, name string, data []byte) (*Array, error) {
	descr, fortran, shape, body, err := npyHeader(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a .npy file numpy wrote: %v", name, err)
	}
	order := byte('<')
	if descr != "" && strings.ContainsRune("<>|=", rune(descr[0])) {
		order, descr = descr[0], descr[1:]
	}
	t, ok := npyTypes[descr]
	if !ok {
		return nil, fmt.Errorf("%s: dtype %q cannot be read: files.read_array reads float64, float32, int64, int32, int16, int8, uint32, uint16, uint8 and bool (save with a.astype(numpy.float64))", name, string(order)+descr)
	}
	if len(shape) > maxDims {
		return nil, fmt.Errorf("%s: shape %s has %d dimensions; num arrays have at most %d (save a 1-D or 2-D array)", name, shapeString(shape), len(shape), maxDims)
	}
	n, err := sizeOf(shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if n > len(body)/t.size || n*t.size != len(body) {
		return nil, fmt.Errorf("%s: shape %s of %s needs %d bytes of data, the file has %d", name, shapeString(shape), string(order)+descr, int64(n)*int64(t.size), len(body))
	}
	a, err := alloc(thread, t.dtype, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if order == '>' {
		bo = binary.BigEndian
	}
	dst := rowMajorOf(shape, fortran)
	for k := range n {
		p := body[k*t.size:]
		j := dst(k)
		switch t.dtype {
		case Float64:
			if t.size == 8 {
				a.buf.f[j] = math.Float64frombits(bo.Uint64(p))
			} else {
				a.buf.f[j] = float64(math.Float32frombits(bo.Uint32(p)))
			}
		case Int64:
			a.buf.i[j] = npyInt(p, t, bo)
		case Bool:
			a.buf.b[j] = p[0] != 0
		}
	}
	return a, nil
}

// rowMajorOf returns the function from an element's index in the file to
// its row-major index: the identity, or a transpose for Fortran order.
func rowMajorOf(shape []int, fortran bool) func(k int) int {
	if !fortran || len(shape) < 2 {
		return func(k int) int { return k }
	}
	rows := shape[0]
	return func(k int) int { return (k%rows)*shape[1] + k/rows }
}

// npyInt reads one integer of type t.
func npyInt(p []byte, t npyType, bo binary.ByteOrder) int64 {
	switch {
	case t.size == 8:
		return int64(bo.Uint64(p))
	case t.size == 4 && t.kind == 'i':
		return int64(int32(bo.Uint32(p)))
	case t.size == 4:
		return int64(bo.Uint32(p))
	case t.size == 2 && t.kind == 'i':
		return int64(int16(bo.Uint16(p)))
	case t.size == 2:
		return int64(bo.Uint16(p))
	case t.kind == 'i':
		return int64(int8(p[0]))
	}
	return int64(p[0])
}

// npyHeader parses the magic, version and header dict of a .npy file and
// returns its fields and the data after the header.
func npyHeader(data []byte) (descr string, fortran bool, shape []int, body []byte, err error) {
	if !IsNPY(data) || len(data) < 10 {
		return "", false, nil, nil, fmt.Errorf("it does not start with %q", "\\x93NUMPY")
	}
	major, minor := data[6], data[7]
	var hlen, start int
	switch major {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(data[8:])), 10
	case 2, 3:
		if len(data) < 12 {
			return "", false, nil, nil, fmt.Errorf("it ends inside its header")
		}
		hlen, start = int(binary.LittleEndian.Uint32(data[8:])), 12
	default:
		return "", false, nil, nil, fmt.Errorf("format version %d.%d; numpy writes 1.0, 2.0 and 3.0", major, minor)
	}
	if hlen > len(data)-start {
		return "", false, nil, nil, fmt.Errorf("its header of %d bytes is longer than the file", hlen)
	}
	fields, err := parseNPYDict(string(data[start : start+hlen]))
	if err != nil {
		return "", false, nil, nil, fmt.Errorf("header: %v", err)
	}
	descr, ok1 := fields["descr"].(string)
	fortran, ok2 := fields["fortran_order"].(bool)
	shape, ok3 := fields["shape"].([]int)
	if !ok1 || !ok2 || !ok3 {
		return "", false, nil, nil, fmt.Errorf("header %q lacks descr, fortran_order or shape", data[start:start+hlen])
	}
	return descr, fortran, shape, data[start+hlen:], nil
}

// parseNPYDict parses the Python dict literal of a .npy header: string
// keys, and values that are strings, True/False or tuples of ints.
func parseNPYDict(s string) (map[string]any, error) {
	p := &npyParser{s: s}
	out := map[string]any{}
	if !p.eat('{') {
		return nil, fmt.Errorf("want '{' at column %d", p.i+1)
	}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if !p.eat(':') {
			return nil, fmt.Errorf("want ':' after %q at column %d", key, p.i+1)
		}
		if out[key], err = p.value(); err != nil {
			return nil, err
		}
		if !p.eat(',') && !p.peek('}') {
			return nil, fmt.Errorf("want ',' or '}' at column %d", p.i+1)
		}
	}
	return out, nil
}

type npyParser struct {
	s string
	i int
}

func (p *npyParser) skip() {
	for p.i < len(p.s) && strings.ContainsRune(" \t\n\r", rune(p.s[p.i])) {
		p.i++
	}
}

func (p *npyParser) peek(c byte) bool {
	p.skip()
	return p.i < len(p.s) && p.s[p.i] == c
}

func (p *npyParser) eat(c byte) bool {
	if p.peek(c) {
		p.i++
		return true
	}
	return false
}

func (p *npyParser) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
		return "", fmt.Errorf("want a quoted string at column %d", p.i+1)
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at column %d", p.i+1)
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *npyParser) value() (any, error) {
	p.skip()
	switch {
	case p.peek('\'') || p.peek('"'):
		return p.str()
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	case p.eat('('):
		var dims []int
		for !p.eat(')') {
			p.skip()
			j := p.i
			for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
				j++
			}
			d, err := strconv.Atoi(p.s[p.i:j])
			if err != nil {
				return nil, fmt.Errorf("want a dimension at column %d", p.i+1)
			}
			dims, p.i = append(dims, d), j
			if !p.eat(',') && !p.peek(')') {
				return nil, fmt.Errorf("want ',' or ')' at column %d", p.i+1)
			}
		}
		if dims == nil {
			dims = []int{}
		}
		return dims, nil
	}
	return nil, fmt.Errorf("cannot read the value at column %d (a structured dtype?)", p.i+1)
}
