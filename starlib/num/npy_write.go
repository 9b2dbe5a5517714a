// This file defines WriteNPY, which writes an Array in numpy's .npy
// format (files.write_array).

package num

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// WriteNPY returns a in .npy format version 1.0 (2.0 for a header too
// long for 1.0), as numpy.save writes it: little-endian '<f8', '<i8' or
// '|b1', C order, the header padded so the data starts at a multiple of
// 64 bytes. numpy.load reads it back with the same dtype and shape.
func WriteNPY(a *Array) []byte {
	descr := map[DType]string{Float64: "<f8", Int64: "<i8", Bool: "|b1"}[a.dtype]
	dims := make([]string, len(a.shape))
	for k, d := range a.shape {
		dims[k] = fmt.Sprint(d)
	}
	shape := strings.Join(dims, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape)
	major, pre := byte(1), 10
	if len(header)+1+pre > math.MaxUint16 {
		major, pre = 2, 12
	}
	total := pre + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	n := a.Size()
	size := map[DType]int{Float64: 8, Int64: 8, Bool: 1}[a.dtype]
	out := make([]byte, 0, pre+len(header)+n*size)
	out = append(out, npyMagic...)
	out = append(out, major, 0)
	if major == 1 {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(header)))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(header)))
	}
	out = append(out, header...)
	switch a.dtype {
	case Float64:
		for _, v := range a.Float64s() {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	case Int64:
		for _, v := range a.Int64s() {
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	case Bool:
		for _, v := range a.Bools() {
			if v {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		}
	}
	return out
}
