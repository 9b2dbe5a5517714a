// This file defines the envelope codec: Go structs tagged `wire:"N"` are
// written as CBOR maps keyed by N, inside [protocol version, body] arrays.
//
// Zero fields are left out, unknown keys are skipped on decoding, so either
// side may add fields without a protocol bump; removing or retyping a field
// needs a new ProtocolVersion.

package wire

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
)

// ProtocolVersion is the version of the envelopes in this file and msg.go.
// Engines and clients of another version are refused at registration.
// 2: task owners (Task.Owner), the scheduler's pinned control subject
// and the detached submission's sync.
const ProtocolVersion = 2

// ProtocolError reports an envelope of another protocol version.
type ProtocolError struct {
	Got, Want int
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("protocol version mismatch: message has version %d, this pirun speaks version %d; run the same pirun release on every machine (pirun version)", e.Got, e.Want)
}

// MarshalMsg encodes the envelope v (a pointer to a tagged struct) with the
// protocol version. It is safe for concurrent use.
func MarshalMsg(v any) ([]byte, error) {
	var e Encoder
	e.EncodeArrayHead(2)
	e.EncodeUint(ProtocolVersion)
	if !encodeFast(&e, v) {
		if err := encodeStruct(&e, reflect.ValueOf(v).Elem()); err != nil {
			return nil, err
		}
	}
	if err := e.Flush(); err != nil {
		return nil, err
	}
	return e.Bytes(), nil
}

// UnmarshalMsg decodes data into the envelope v (a pointer to a tagged
// struct). A message of another protocol version gives a *ProtocolError.
// Byte-slice fields of v alias data: data must not change afterwards.
func UnmarshalMsg(data []byte, v any) error {
	return unmarshalMsg(data, v, true)
}

// unmarshalMsg is UnmarshalMsg, with the hand-written decoders of
// envelope_fast_decode.go when fast is set (tests compare both).
func unmarshalMsg(data []byte, v any, fast bool) error {
	d := NewBytesDecoder(data)
	n, err := d.DecodeArrayHead()
	if err != nil {
		return fmt.Errorf("decode envelope: %w", err)
	}
	if n != 2 {
		return fmt.Errorf("decode envelope: want [version, body], got an array of %d", n)
	}
	ver, err := d.DecodeUint()
	if err != nil {
		return fmt.Errorf("decode envelope version: %w", err)
	}
	if ver != ProtocolVersion {
		return &ProtocolError{Got: int(min(ver, 1<<31)), Want: ProtocolVersion}
	}
	if err := decodeBody(d, v, fast); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

// decodeBody reads the body of the envelope v, with a hand-written
// decoder if fast is set and v has one.
func decodeBody(d *Decoder, v any, fast bool) error {
	if fast {
		if ok, err := decodeFast(d, v); ok {
			return err
		}
	}
	return decodeStruct(d, reflect.ValueOf(v).Elem(), 0)
}

type field struct {
	key   uint64
	index int
}

var fieldCache sync.Map // reflect.Type → []field

func fieldsOf(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("wire")
		if tag == "" {
			continue
		}
		key, err := strconv.ParseUint(tag, 10, 32)
		if err != nil {
			panic(fmt.Sprintf("wire: bad tag %q on %s.%s", tag, t, t.Field(i).Name))
		}
		fs = append(fs, field{key, i})
	}
	fieldCache.Store(t, fs)
	return fs
}

func encodeStruct(e *Encoder, v reflect.Value) error {
	fs := fieldsOf(v.Type())
	n := 0
	for _, f := range fs {
		if !v.Field(f.index).IsZero() {
			n++
		}
	}
	e.EncodeMapHead(n)
	for _, f := range fs {
		fv := v.Field(f.index)
		if fv.IsZero() {
			continue
		}
		e.EncodeUint(f.key)
		if err := encodeField(e, fv); err != nil {
			return fmt.Errorf("%s: %w", v.Type().Field(f.index).Name, err)
		}
	}
	return nil
}

var bytesType = reflect.TypeFor[[]byte]()

func encodeField(e *Encoder, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Bool:
		e.EncodeBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.EncodeInt(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		e.EncodeUint(v.Uint())
	case reflect.Float64:
		e.EncodeFloat(v.Float())
	case reflect.String:
		e.EncodeString(v.String())
	case reflect.Slice:
		if v.Type() == bytesType {
			e.EncodeBytes(v.Bytes())
			return nil
		}
		e.EncodeArrayHead(v.Len())
		for i := range v.Len() {
			if err := encodeField(e, v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			e.EncodeNil()
			return nil
		}
		return encodeField(e, v.Elem())
	case reflect.Struct:
		return encodeStruct(e, v)
	default:
		return fmt.Errorf("unsupported envelope field kind %s", v.Kind())
	}
	return nil
}

const maxEnvelopeDepth = 16

var errEnvelopeDepth = errors.New("envelope nested too deeply")

func decodeStruct(d *Decoder, v reflect.Value, depth int) error {
	if depth > maxEnvelopeDepth {
		return errEnvelopeDepth
	}
	n, err := d.DecodeMapHead()
	if err != nil {
		return err
	}
	fs := fieldsOf(v.Type())
	for range n {
		key, err := d.DecodeUint()
		if err != nil {
			return fmt.Errorf("field key: %w", err)
		}
		idx := -1
		for _, f := range fs {
			if f.key == key {
				idx = f.index
				break
			}
		}
		if idx < 0 {
			if err := d.Skip(); err != nil {
				return err
			}
			continue
		}
		if err := decodeField(d, v.Field(idx), depth); err != nil {
			return fmt.Errorf("%s: %w", v.Type().Field(idx).Name, err)
		}
	}
	return nil
}

func decodeField(d *Decoder, v reflect.Value, depth int) error {
	switch v.Kind() {
	case reflect.Bool:
		b, err := d.DecodeBool()
		v.SetBool(b)
		return err
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := d.DecodeInt()
		if err == nil && v.OverflowInt(i) {
			return fmt.Errorf("integer %d out of range for %s", i, v.Type())
		}
		v.SetInt(i)
		return err
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := d.DecodeUint()
		if err == nil && v.OverflowUint(u) {
			return fmt.Errorf("integer %d out of range for %s", u, v.Type())
		}
		v.SetUint(u)
		return err
	case reflect.Float64:
		f, err := d.DecodeFloat()
		v.SetFloat(f)
		return err
	case reflect.String:
		s, err := d.DecodeString()
		v.SetString(s)
		return err
	case reflect.Slice:
		return decodeSlice(d, v, depth)
	case reflect.Pointer:
		if isNil, err := d.DecodeNil(); err != nil || isNil {
			return err
		}
		p := reflect.New(v.Type().Elem())
		if err := decodeField(d, p.Elem(), depth+1); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		return decodeStruct(d, v, depth+1)
	}
	return fmt.Errorf("unsupported envelope field kind %s", v.Kind())
}

func decodeSlice(d *Decoder, v reflect.Value, depth int) error {
	if v.Type() == bytesType {
		b, err := d.decodeBytesView()
		v.SetBytes(b)
		return err
	}
	n, err := d.DecodeArrayHead()
	if err != nil {
		return err
	}
	// Every element takes at least one byte of input, so the bytes left
	// bound what a lying head can make us allocate up front.
	s := reflect.MakeSlice(v.Type(), 0, min(n, d.remaining()))
	for i := range n {
		s = reflect.Append(s, reflect.Zero(v.Type().Elem()))
		if err := decodeField(d, s.Index(i), depth+1); err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
	}
	v.Set(s)
	return nil
}

// remaining returns how many input bytes are left when d decodes a byte
// slice, or a modest guess for a stream.
func (d *Decoder) remaining() int {
	if d.r != nil {
		return 1024
	}
	return len(d.buf) - d.pos
}
