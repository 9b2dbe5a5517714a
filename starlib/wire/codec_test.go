// This file defines the codec tests: round trips, exact encodings,
// malformed and truncated input, limits, the Ref hook, streams and the
// primitives.

package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// rawstr(b) returns the bytes b as a string, byte for byte, since
// Starlark string literals cannot hold invalid UTF-8.
var rawstr = starlark.NewBuiltin("rawstr", func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var b starlark.Bytes
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 1, &b); err != nil {
		return nil, err
	}
	return starlark.String(b), nil
})

// eval evaluates a Starlark expression with sets, struct and rawstr.
func eval(t testing.TB, expr string) starlark.Value {
	t.Helper()
	env := starlark.StringDict{"struct": starlark.NewBuiltin("struct", starlarkstruct.Make), "rawstr": rawstr}
	opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true}
	v, err := starlark.EvalOptions(opts, &starlark.Thread{Name: "test"}, "test.star", expr, env)
	if err != nil {
		t.Fatalf("eval(%s): %v", expr, err)
	}
	return v
}

// identical reports how x and y differ: Go type, float bits, order of
// dict and set entries, struct fields. It returns "" if they do not.
func identical(x, y starlark.Value) string {
	if fmt.Sprintf("%T", x) != fmt.Sprintf("%T", y) {
		return fmt.Sprintf("type %T vs %T", x, y)
	}
	switch x := x.(type) {
	case starlark.Float:
		if math.Float64bits(float64(x)) != math.Float64bits(float64(y.(starlark.Float))) {
			return fmt.Sprintf("float %v vs %v", x, y)
		}
		return ""
	case *starlark.List:
		return identicalSeq(starlark.Tuple(collect(x)), starlark.Tuple(collect(y.(*starlark.List))))
	case starlark.Tuple:
		return identicalSeq(x, y.(starlark.Tuple))
	case *starlark.Set:
		return identicalSeq(starlark.Tuple(collect(x)), starlark.Tuple(collect(y.(*starlark.Set))))
	case *starlark.Dict:
		return identicalSeq(flatItems(x), flatItems(y.(*starlark.Dict)))
	case *starlarkstruct.Struct:
		return identicalSeq(flatFields(x), flatFields(y.(*starlarkstruct.Struct)))
	}
	if eq, err := starlark.Equal(x, y); err != nil || !eq {
		return fmt.Sprintf("%v vs %v (err %v)", x, y, err)
	}
	return ""
}

func identicalSeq(x, y starlark.Tuple) string {
	if len(x) != len(y) {
		return fmt.Sprintf("length %d vs %d", len(x), len(y))
	}
	for i := range x {
		if d := identical(x[i], y[i]); d != "" {
			return fmt.Sprintf("[%d]: %s", i, d)
		}
	}
	return ""
}

func collect(it starlark.Iterable) []starlark.Value {
	var out []starlark.Value
	for v := range starlark.Elements(it) {
		out = append(out, v)
	}
	return out
}

func flatItems(d *starlark.Dict) starlark.Tuple {
	var out starlark.Tuple
	for k, v := range d.Entries() {
		out = append(out, k, v)
	}
	return out
}

func flatFields(s *starlarkstruct.Struct) starlark.Tuple {
	var out starlark.Tuple
	for k, v := range s.Entries() {
		out = append(out, starlark.String(k), v)
	}
	return out
}

// roundTripExprs are the values every round-trip test and fuzz seed uses.
var roundTripExprs = []string{
	`None`, `True`, `False`,
	`0`, `1`, `23`, `24`, `255`, `256`, `65535`, `65536`, `(1<<32)-1`, `(1<<32)`, `(1<<63)-1`,
	`-1`, `-24`, `-25`, `-(1<<31)`, `-(1<<63)`, `(1<<64)-1`, `(1<<64)`, `-(1<<64)`, `-(1<<64)-1`,
	`(1<<100)`, `-((1<<70))`, `-((1<<200))+1`,
	`0.1`, `1e308`, `5e-324`, `float("inf")`, `-float("inf")`, `float("nan")`, `-0.0`, `3.0`,
	`""`, `"héllo\n\"q\""`, `rawstr(b"\xff\xfe not utf8")`, `"😀"`, `"x" * 70000`,
	`b""`, `b"\x00\xffbin"`,
	`[]`, `()`, `{}`, `set()`, `struct()`,
	`(2, ())`, `((((),),),)`, `[(1, [2, (3,)]), {"a": (4, 5)}]`,
	`{1: "one", (1, 2): "tuple key", "s": None, 2.5: True, None: 0, False: 1, b"k": 2, -(1<<70): 3}`,
	`{"z": 1, "a": 2, "m": 3}`,
	`set([3, "x", (1, 2), 2.5])`,
	`struct(a = 1, b = [False])`,
	`struct(z = struct(y = ()), a = {"k": set([1])})`,
	`list(range(1000))`,
	`{"key" + str(1000000 + i)[1:]: i for i in range(100)}`,
	`[None, True, -5, -(1<<63), (1<<64)-1, (1<<100), -((1<<70)), 0.1, 1e308, -float("inf"), 3.0, "héllo\n\"q\"",
	  rawstr(b"\xff\xfe not utf8"), b"\x00\xffbin", (2, ()), {1: "one", (1, 2): "tuple key", "s": None, 2.5: True},
	  set([3, "x"]), struct(a = 1, b = [False])]`,
}

func TestRoundTrip(t *testing.T) {
	for _, expr := range roundTripExprs {
		v := eval(t, expr)
		b, err := Marshal(v)
		if err != nil {
			t.Errorf("Marshal(%.40s) failed: %v", expr, err)
			continue
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Errorf("Unmarshal(Marshal(%.40s)) failed: %v", expr, err)
			continue
		}
		if d := identical(v, got); d != "" {
			t.Errorf("Unmarshal(Marshal(%.40s)) = %.60s, want %.60s: %s", expr, got, v, d)
		}
		if eq, err := starlark.Equal(v, got); err != nil || !eq {
			t.Errorf("Equal(%.40s, round trip) = %v, %v, want true", expr, eq, err)
		}
	}
}

func TestRoundTripNotFrozen(t *testing.T) {
	got, err := Unmarshal(mustMarshal(t, eval(t, `[{"a": set([1])}]`)))
	if err != nil {
		t.Fatal(err)
	}
	l := got.(*starlark.List)
	if err := l.Append(starlark.None); err != nil {
		t.Errorf("Append to decoded list: %v, want nil", err)
	}
	d := l.Index(0).(*starlark.Dict)
	if err := d.SetKey(starlark.String("b"), starlark.None); err != nil {
		t.Errorf("SetKey on decoded dict: %v, want nil", err)
	}
}

func mustMarshal(t testing.TB, v starlark.Value) []byte {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatalf("Marshal(%.40s): %v", v, err)
	}
	return b
}

func TestEncoding(t *testing.T) {
	for _, test := range []struct {
		expr, want string
	}{
		{`None`, "f6"},
		{`True`, "f5"},
		{`False`, "f4"},
		{`0`, "00"},
		{`23`, "17"},
		{`24`, "1818"},
		{`-1`, "20"},
		{`-256`, "38ff"},
		{`(1<<63)-1`, "1b7fffffffffffffff"},
		{`-(1<<63)`, "3b7fffffffffffffff"},
		{`(1<<64)-1`, "1bffffffffffffffff"},
		{`-(1<<64)`, "3bffffffffffffffff"},
		{`(1<<64)`, "c249010000000000000000"},
		{`-(1<<64)-1`, "c349010000000000000000"},
		{`1.0`, "fb3ff0000000000000"},
		{`-0.0`, "fb8000000000000000"},
		{`"a"`, "6161"},
		{`rawstr(b"\xff")`, "d9da0341ff"},
		{`b"a"`, "4161"},
		{`[1, [2]]`, "82018102"},
		{`(1,)`, "d9da028101"},
		{`{"a": 1, 0: 2}`, "a261610100" + "02"},
		{`set([1])`, "d901028101"},
		{`struct(b = 1, a = 2)`, "d9da04a2616102616201"},
	} {
		got, err := Marshal(eval(t, test.expr))
		if err != nil {
			t.Errorf("Marshal(%s) failed: %v", test.expr, err)
		} else if hex.EncodeToString(got) != test.want {
			t.Errorf("Marshal(%s) = %x, want %s", test.expr, got, test.want)
		}
	}
}

// TestDecodeLenient checks inputs the encoder never writes but the
// decoder accepts: short floats, non-minimal heads, small bignums.
func TestDecodeLenient(t *testing.T) {
	for _, test := range []struct {
		hex, want string
	}{
		{"f93c00", "1.0"},
		{"f9fc00", "-inf"},
		{"f90001", "5.960464477539063e-08"},
		{"fa3fc00000", "1.5"},
		{"1b0000000000000005", "5"},
		{"c24105", "5"},
		{"c34105", "-6"},
		{"c240", "0"},
		{"d9da034161", `"a"`},
	} {
		got, err := Unmarshal(unhex(t, test.hex))
		if err != nil {
			t.Errorf("Unmarshal(%s) failed: %v", test.hex, err)
		} else if got.String() != test.want {
			t.Errorf("Unmarshal(%s) = %s, want %s", test.hex, got, test.want)
		}
	}
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// malformed are inputs Unmarshal must reject, with part of the error.
var malformed = []struct {
	hex, want string
}{
	{"", "empty input"},
	{"18", "input ends inside an item"},
	{"19 01", "input ends inside an item"},
	{"1b 0000", "input ends inside an item"},
	{"62 61", "input ends inside an item"},
	{"82 01", "input ends inside an item"},
	{"a1 01", "input ends inside an item"},
	{"5a 3fff0000 00", "input ends inside an item"},
	{"9a 3fff0000 00", "input ends inside an item"},
	{"ba 1fff0000 00", "input ends inside an item"},
	{"5b ffffffffffffffff", "larger than 1073741824 bytes"},
	{"7a ffffffff", "larger than"},
	{"9b 0000000100000000", "larger than"},
	{"bb 7fffffffffffffff", "larger than"},
	{strings.Repeat("81", 1001) + "00", "nested more than 1000 levels"},
	{strings.Repeat("d9da0281", 1001) + "00", "nested more than 1000 levels"},
	{strings.Repeat("a100", 1001) + "00", "nested more than 1000 levels"},
	{strings.Repeat("d90102", 2) + "80", "tag 258 encloses a tag"},
	{"d8ff 00", "unknown tag 255"},
	{"c0 6161", "unknown tag 0"},
	{"d9d9f7 00", "unknown tag 55799"},
	{"c2 00", "tag 2 encloses a unsigned integer"},
	{"d90102 a0", "tag 258 encloses a map"},
	{"d9da02 a0", "tag 55810 encloses a map"},
	{"d9da03 6161", "tag 55811 encloses a text string"},
	{"d9da04 80", "tag 55812 encloses a array"},
	{"d9da05 20", "tag 55813 encloses a negative integer"},
	{"d9da05 00", "reference 0 found, but Decoder.Ref is nil"},
	{"00 00", "at byte 1: unexpected data after the value"},
	{"f6 ff", "unexpected data after the value"},
	{"9f 00 ff", "indefinite-length"},
	{"5f 4100 ff", "indefinite-length"},
	{"7f ff", "indefinite-length"},
	{"bf ff", "indefinite-length"},
	{"ff", "indefinite-length items and breaks"},
	{"1c", "reserved additional information 28"},
	{"5d", "reserved additional information 29"},
	{"fe", "reserved additional information 30"},
	{"f7", "unsupported simple value 0xf7"},
	{"f0", "unsupported simple value 0xf0"},
	{"f8 20", "unsupported simple value 0xf8"},
	{"62 fffe", "not valid UTF-8"},
	{"a1 80 00", "dict key: unhashable type: list"},
	{"a1 d9da028180 00", "dict key: unhashable type: list"},
	{"a2 00 00 00 01", "at byte 3: duplicate dict key 0"},
	{"a2 6161 00 d9da034161 01", `duplicate dict key "a"`},
	{"a2 fb7ff8000000000000 00 fb7ff8000000000000 01", "duplicate dict key nan"},
	{"d90102 81 a0", "set element: unhashable type: dict"},
	{"d90102 82 01 01", "duplicate set element 1"},
	{"d9da04 a1 00 00", "struct field name is a int, want a string"},
	{"d9da04 a2 6161 00 6161 01", `duplicate struct field "a"`},
}

func TestUnmarshalMalformed(t *testing.T) {
	for _, test := range malformed {
		in := unhex(t, test.hex)
		_, err := Unmarshal(in)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("Unmarshal(%.40s) = %v, want error containing %q", test.hex, err, test.want)
		}
		_, rerr := unmarshalReader(iotest.OneByteReader(bytes.NewReader(in)))
		if fmt.Sprint(rerr) != fmt.Sprint(err) {
			t.Errorf("one-byte reader decode of %.40s = %v, want %v", test.hex, rerr, err)
		}
	}
}

// unmarshalReader is Unmarshal over a reader.
func unmarshalReader(r io.Reader) (starlark.Value, error) {
	d := NewDecoder(r)
	v, err := d.Decode()
	if err == io.EOF {
		return nil, fmt.Errorf("wire: decode: empty input: %w", io.ErrUnexpectedEOF)
	}
	if err == nil {
		err = d.expectEnd()
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// TestTruncated cuts encodings at every byte and expects
// io.ErrUnexpectedEOF, from bytes and from a reader.
func TestTruncated(t *testing.T) {
	for _, expr := range []string{roundTripExprs[len(roundTripExprs)-1], `(1<<100)`, `"x" * 300`,
		`{(1, 2): set([struct(a = -(1<<70))])}`, `b"\x00" * 70000`} {
		enc := mustMarshal(t, eval(t, expr))
		for i := range len(enc) {
			_, err := Unmarshal(enc[:i])
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("Unmarshal(Marshal(%.30s)[:%d]) = %v, want io.ErrUnexpectedEOF", expr, i, err)
			}
			if i%97 != 0 && i > 300 {
				continue
			}
			_, rerr := unmarshalReader(iotest.HalfReader(bytes.NewReader(enc[:i])))
			if fmt.Sprint(rerr) != fmt.Sprint(err) {
				t.Fatalf("reader decode of Marshal(%.30s)[:%d] = %v, want %v", expr, i, rerr, err)
			}
		}
	}
}

// TestHugeClaimsAllocateLittle checks that a head claiming a huge length
// on a short input fails without allocating for the claim.
func TestHugeClaimsAllocateLittle(t *testing.T) {
	for _, h := range []string{"5a 3fff0000 0000", "7a 3fff0000 6161", "9a 3fff0000 0000", "ba 1fff0000 0000",
		"d90102 9a 3fff0000 00", "d9da04 ba 1fff0000 6161 00"} {
		in := unhex(t, h)
		for _, dec := range []func() *Decoder{
			func() *Decoder { return NewBytesDecoder(in) },
			func() *Decoder { return NewDecoder(bytes.NewReader(in)) },
		} {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := dec().Decode()
			runtime.ReadMemStats(&after)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("Decode(%s) = %v, want io.ErrUnexpectedEOF", h, err)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("Decode(%s) allocated %d bytes, want < 1 MiB", h, n)
			}
		}
	}
}

func TestDepthLimit(t *testing.T) {
	deep := func(n int) starlark.Value {
		var v starlark.Value = starlark.None
		for range n {
			v = starlark.NewList([]starlark.Value{v})
		}
		return v
	}
	if _, err := Marshal(deep(1000)); err != nil {
		t.Errorf("Marshal(1000 nested lists) = %v, want nil", err)
	}
	if _, err := Marshal(deep(1001)); err == nil || !strings.Contains(err.Error(), "more than 1000 levels") {
		t.Errorf("Marshal(1001 nested lists) = %v, want depth error", err)
	}
	cyclic := starlark.NewList(nil)
	cyclic.Append(cyclic)
	if _, err := Marshal(starlark.NewDict(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := Marshal(cyclic); err == nil || !strings.Contains(err.Error(), "is it cyclic?") {
		t.Errorf("Marshal(cyclic list) = %v, want depth error", err)
	}
	enc := mustMarshal(t, deep(5))
	d := NewBytesDecoder(enc)
	d.Limits.MaxDepth = 4
	if _, err := d.Decode(); err == nil || !strings.Contains(err.Error(), "more than 4 levels") {
		t.Errorf("Decode(5 nested lists) with MaxDepth 4 = %v, want depth error", err)
	}
	e := &Encoder{Limits: Limits{MaxDepth: 4}}
	if err := e.Encode(deep(5)); err == nil {
		t.Errorf("Encode(5 nested lists) with MaxDepth 4 = nil, want depth error")
	}
}

func TestByteLimit(t *testing.T) {
	v := eval(t, `["x" * 100, "y"]`)
	enc := mustMarshal(t, v)
	for _, max := range []int64{1, 2, 3, 50, int64(len(enc)) - 1} {
		d := NewBytesDecoder(enc)
		d.Limits.MaxBytes = max
		if _, err := d.Decode(); err == nil || !strings.Contains(err.Error(), "Limits.MaxBytes") {
			t.Errorf("Decode(%d bytes) with MaxBytes %d = %v, want limit error", len(enc), max, err)
		}
		e := &Encoder{Limits: Limits{MaxBytes: max}}
		if err := e.Encode(v); err == nil || !strings.Contains(err.Error(), "Limits.MaxBytes") {
			t.Errorf("Encode(%d bytes) with MaxBytes %d = %v, want limit error", len(enc), max, err)
		}
	}
	e := NewEncoder(io.Discard)
	e.Limits.MaxBytes = 1000
	if err := e.Encode(eval(t, `["x" * 300000]`)); err == nil || !strings.Contains(err.Error(), "Limits.MaxBytes") {
		t.Errorf("streaming Encode(300 kB) with MaxBytes 1000 = %v, want limit error", err)
	}
	if err := e.Flush(); err == nil {
		t.Errorf("Flush after a limit error = nil, want the error again")
	}
	d := NewDecoder(bytes.NewReader(enc))
	d.Limits.MaxBytes = int64(len(enc))
	if _, err := d.Decode(); err != nil {
		t.Errorf("Decode(%d bytes) with MaxBytes %d = %v, want nil", len(enc), len(enc), err)
	}
}

func TestUnsendable(t *testing.T) {
	for _, test := range []struct {
		expr, want string
	}{
		{`len`, "cannot send builtin_function_or_method value"},
		{`[1, 2, {"k": lambda: 1}]`, `cannot send function value at [2]["k"]`},
		{`(1, len)`, `cannot send builtin_function_or_method value at [1]`},
		{`struct(a = [len])`, `cannot send builtin_function_or_method value at .a[0]`},
		{`set([1, len])`, `cannot send builtin_function_or_method value at {1}`},
		{`{1: 2, len: 3}`, `cannot send builtin_function_or_method value at {key 1}`},
		{`{("k" * 50,): len}`, `at [("` + strings.Repeat("k", 38) + `...]`},
	} {
		_, err := Marshal(eval(t, test.expr))
		var ue *UnsendableError
		if !errors.As(err, &ue) || err.Error() != test.want && !strings.HasSuffix(err.Error(), test.want) {
			t.Errorf("Marshal(%s) = %v, want %s", test.expr, err, test.want)
		}
	}
}

func TestRef(t *testing.T) {
	v := eval(t, `[len, {"f": len, "g": struct(h = str)}, (1, lambda x: x)]`)
	var table []starlark.Value
	enc := &Encoder{Ref: func(v starlark.Value) (uint64, error) {
		table = append(table, v)
		return uint64(len(table) - 1), nil
	}}
	if err := enc.Encode(v); err != nil {
		t.Fatalf("Encode with Ref: %v", err)
	}
	if len(table) != 4 {
		t.Fatalf("Ref called %d times, want 4", len(table))
	}
	dec := NewBytesDecoder(enc.buf[:enc.n])
	dec.Ref = func(i uint64) (starlark.Value, error) {
		if i >= uint64(len(table)) {
			return nil, fmt.Errorf("no reference %d", i)
		}
		return table[i], nil
	}
	got, err := dec.Decode()
	if err != nil {
		t.Fatalf("Decode with Ref: %v", err)
	}
	if d := identical(v, got); d != "" {
		t.Errorf("Decode(Encode(%s)) differs: %s", v, d)
	}
	if fn := got.(*starlark.List).Index(0); fn != table[0] {
		t.Errorf("decoded [0] = %v, want the same builtin", fn)
	}
	bad := NewBytesDecoder(unhex(t, "d9da0507"))
	bad.Ref = dec.Ref
	if _, err := bad.Decode(); err == nil || !strings.Contains(err.Error(), "reference 7: no reference 7") {
		t.Errorf("Decode(ref 7) = %v, want error naming reference 7", err)
	}
	refuse := &Encoder{Ref: func(starlark.Value) (uint64, error) { return 0, errors.New("not today") }}
	if err := refuse.Encode(v); err == nil || err.Error() != "cannot send builtin_function_or_method value at [0]: not today" {
		t.Errorf("Encode with refusing Ref = %v, want the hook's error with a path", err)
	}
}

func TestStream(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	values := []string{`1`, `"x" * 300000`, `[1, 2]`, `len`, `{"a": b"b"}`}
	for _, expr := range values {
		err := e.Encode(eval(t, expr))
		if (err != nil) != (expr == `len`) {
			t.Errorf("Encode(%.20s) = %v", expr, err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	for _, r := range []io.Reader{bytes.NewReader(buf.Bytes()), iotest.HalfReader(bytes.NewReader(buf.Bytes()))} {
		d := NewDecoder(r)
		for _, expr := range values {
			if expr == `len` {
				continue
			}
			got, err := d.Decode()
			if err != nil {
				t.Fatalf("Decode(%.20s) failed: %v", expr, err)
			}
			if diff := identical(eval(t, expr), got); diff != "" {
				t.Errorf("Decode(%.20s): %s", expr, diff)
			}
		}
		if _, err := d.Decode(); err != io.EOF {
			t.Errorf("Decode at end = %v, want io.EOF", err)
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	e := NewEncoder(&failWriter{n: 1000})
	if err := e.Encode(eval(t, `"x" * 100`)); err != nil {
		t.Fatalf("Encode(small) = %v, want nil (buffered)", err)
	}
	if err := e.Encode(eval(t, `"x" * 1000000`)); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Encode(large) = %v, want the write error", err)
	}
	e.EncodeInt(1)
	if err := e.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Flush after a write error = %v, want the write error again", err)
	}
	e.Reset(io.Discard)
	if err := e.Encode(starlark.None); err != nil {
		t.Errorf("Encode after Reset = %v, want nil", err)
	}
}

func TestEncodeRollback(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	for _, expr := range []string{`1`, `[2, len]`, `3`} {
		e.Encode(eval(t, expr))
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(buf.Bytes()); got != "0103" {
		t.Errorf("stream after a failed Encode = %s, want 0103", got)
	}
}

func TestPrimitives(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	e.EncodeArrayHead(9)
	e.EncodeNil()
	e.EncodeBool(true)
	e.EncodeInt(-300)
	e.EncodeUint(math.MaxUint64)
	e.EncodeFloat(math.Inf(-1))
	e.EncodeString("\xff")
	e.EncodeBytes([]byte{1, 2})
	e.EncodeMapHead(1)
	e.EncodeString("k")
	if err := e.Encode(eval(t, `[1, (2,)]`)); err != nil {
		t.Fatal(err)
	}
	e.EncodeInt(7)
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	d := NewDecoder(&buf)
	check := func(what string, got, want any, err error) {
		t.Helper()
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, %v, want %v", what, got, err, want)
		}
	}
	n, err := d.DecodeArrayHead()
	check("DecodeArrayHead", n, 9, err)
	isNil, err := d.DecodeNil()
	check("DecodeNil", isNil, true, err)
	isNil, err = d.DecodeNil()
	check("DecodeNil on a bool", isNil, false, err)
	b, err := d.DecodeBool()
	check("DecodeBool", b, true, err)
	i, err := d.DecodeInt()
	check("DecodeInt", i, -300, err)
	u, err := d.DecodeUint()
	check("DecodeUint", u, uint64(math.MaxUint64), err)
	f, err := d.DecodeFloat()
	check("DecodeFloat", f, math.Inf(-1), err)
	s, err := d.DecodeString()
	check("DecodeString", s, "\xff", err)
	bs, err := d.DecodeBytes()
	check("DecodeBytes", bs, []byte{1, 2}, err)
	n, err = d.DecodeMapHead()
	check("DecodeMapHead", n, 1, err)
	check("Skip", "ok", "ok", d.Skip())
	check("Skip", "ok", "ok", d.Skip())
	if _, err := d.DecodeString(); err == nil || !strings.Contains(err.Error(), "found a int, want a string") {
		t.Errorf("DecodeString on an int = %v, want a type error", err)
	}
	if _, err := d.DecodeInt(); err == nil || !strings.Contains(err.Error(), "want a string") {
		t.Errorf("DecodeInt after an error = %v, want the sticky error", err)
	}
}

func TestPrimitiveErrors(t *testing.T) {
	for _, test := range []struct {
		hex  string
		call func(d *Decoder) error
		want string
	}{
		{"1bffffffffffffffff", func(d *Decoder) error { _, err := d.DecodeInt(); return err }, "out of the int64 range"},
		{"20", func(d *Decoder) error { _, err := d.DecodeUint(); return err }, "found a negative integer, want an unsigned integer"},
		{"f6", func(d *Decoder) error { _, err := d.DecodeBool(); return err }, "found simple value 0xf6, want a bool"},
		{"f5", func(d *Decoder) error { _, err := d.DecodeFloat(); return err }, "want a float"},
		{"6161", func(d *Decoder) error { _, err := d.DecodeBytes(); return err }, "want a byte string"},
		{"a0", func(d *Decoder) error { _, err := d.DecodeArrayHead(); return err }, "want an array"},
		{"80", func(d *Decoder) error { _, err := d.DecodeMapHead(); return err }, "want a map"},
		{"", func(d *Decoder) error { _, err := d.DecodeNil(); return err }, "EOF"},
		{"9f", func(d *Decoder) error { return d.Skip() }, "indefinite-length"},
		{strings.Repeat("81", 1001) + "00", func(d *Decoder) error { return d.Skip() }, "nested more than 1000"},
		{strings.Repeat("c1", 100000), func(d *Decoder) error { return d.Skip() }, "input ends inside an item"},
		{"f818", func(d *Decoder) error { return d.Skip() }, "malformed simple value 24"},
		{"5a00010000" + strings.Repeat("00", 100), func(d *Decoder) error { return d.Skip() }, "input ends inside an item"},
	} {
		err := test.call(NewBytesDecoder(unhex(t, test.hex)))
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("decoding %.20s = %v, want error containing %q", test.hex, err, test.want)
		}
	}
}

func TestSkip(t *testing.T) {
	for _, expr := range roundTripExprs {
		enc := mustMarshal(t, eval(t, expr))
		enc = append(enc, 0x07)
		for _, d := range []*Decoder{NewBytesDecoder(enc), NewDecoder(iotest.HalfReader(bytes.NewReader(enc)))} {
			if err := d.Skip(); err != nil {
				t.Errorf("Skip(%.30s) = %v", expr, err)
				continue
			}
			if u, err := d.DecodeUint(); err != nil || u != 7 {
				t.Errorf("DecodeUint after Skip(%.30s) = %d, %v, want 7", expr, u, err)
			}
		}
	}
}

// stuckReader returns (0, nil) forever.
type stuckReader struct{}

func (stuckReader) Read([]byte) (int, error) { return 0, nil }

func TestStuckReader(t *testing.T) {
	_, err := NewDecoder(stuckReader{}).Decode()
	if !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("Decode(stuck reader) = %v, want io.ErrNoProgress", err)
	}
	_, err = NewDecoder(iotest.ErrReader(errors.New("boom"))).Decode()
	if err == nil || !strings.Contains(err.Error(), "read: boom") {
		t.Errorf("Decode(failing reader) = %v, want the read error", err)
	}
}

// TestLarge checks that a 256 MiB string goes through a streaming
// Encoder and a reader-backed Decoder with bounded memory.
func TestLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping 256 MiB round trip in short mode")
	}
	const size = 256 << 20
	v := starlark.Bytes(strings.Repeat("\x00\xff", size/2))
	pr, pw := io.Pipe()
	go func() {
		e := NewEncoder(pw)
		err := e.Encode(starlark.NewList([]starlark.Value{v, starlark.None}))
		if err == nil {
			err = e.Flush()
		}
		pw.CloseWithError(err)
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := NewDecoder(pr).Decode()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("Decode(256 MiB) failed: %v", err)
	}
	if b := got.(*starlark.List).Index(0).(starlark.Bytes); len(b) != size || b != v {
		t.Errorf("Decode(256 MiB) = %d bytes, want the %d encoded", len(b), size)
	}
	// The string grows by doubling as input arrives: 512 MiB in all.
	if n := after.TotalAlloc - before.TotalAlloc; n > 3*size {
		t.Errorf("Decode(256 MiB) allocated %d MiB, want at most 768 MiB", n>>20)
	}
	runtime.ReadMemStats(&before)
	if _, err := Unmarshal(mustMarshal(t, v)); err != nil {
		t.Fatalf("Unmarshal(256 MiB) failed: %v", err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 2*size+size/4 {
		t.Errorf("Marshal+Unmarshal(256 MiB) allocated %d MiB, want at most 576 MiB", n>>20)
	}
}

// floatSet returns the encoding of a set of n distinct floats in (0, 1),
// which Starlark all hashes alike.
func floatSet(n int) []byte {
	b := []byte{0xd9, 0x01, 0x02, 0x9a}
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	for i := range n {
		b = append(b, cborFloat64)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(float64(i+1)/float64(n+1)))
	}
	return b
}

func TestHashFlood(t *testing.T) {
	if _, err := Unmarshal(floatSet(2000)); err != nil {
		t.Errorf("Unmarshal(set of 2000 floats in (0, 1)) = %v, want nil", err)
	}
	start := time.Now()
	_, err := Unmarshal(floatSet(100_000))
	if err == nil || !strings.Contains(err.Error(), "too many keys with equal hashes") {
		t.Errorf("Unmarshal(set of 100000 floats in (0, 1)) = %v, want a hash flooding error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Unmarshal(set of 100000 floats in (0, 1)) took %v, want well under 10s", d)
	}
}
