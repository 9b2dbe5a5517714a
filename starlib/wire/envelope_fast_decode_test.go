// This file tests the hand-written envelope decoders against the
// reflective one: same values, same aliasing of the input, same errors.

package wire

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// fastTypes returns a new, zero envelope of each type that has a
// hand-written decoder.
func fastTypes() []any {
	return []any{&Batch{}, &Task{}, &Results{}, &Result{}, &Done{}}
}

// newLike returns a new zero value of the type v points to.
func newLike(v any) any { return reflect.New(reflect.TypeOf(v).Elem()).Interface() }

// decodeBoth decodes data into new values of the type of like, with the
// hand-written and with the reflective decoder, and fails t unless both
// give the same value and the same error (or none). It returns the two.
func decodeBoth(t testing.TB, data []byte, like any) (fast, slow any) {
	t.Helper()
	fast, slow = newLike(like), newLike(like)
	ferr := unmarshalMsg(data, fast, true)
	serr := unmarshalMsg(data, slow, false)
	if fmt.Sprint(ferr) != fmt.Sprint(serr) {
		t.Fatalf("UnmarshalMsg(%x, %T) = error %v, want %v (reflective)", data, like, ferr, serr)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("UnmarshalMsg(%x, %T) = %#v, want %#v (reflective)", data, like, fast, slow)
	}
	return fast, slow
}

// rich returns envelopes whose fields hold edge values: extreme
// integers, unicode and empty strings, empty and nil slices.
func rich() []any {
	big := []int{math.MaxInt, math.MinInt, 0, -1, 1 << 40}
	task := Task{
		ID: math.MaxUint64, Client: "clïent-☃", Kind: KindPull, Targets: big, Bundle: math.MaxInt,
		Payload: []byte{}, Code: "print('日本語')\n", File: "ß.star", Names: []string{"", "x", "𝔘"},
		Timeout: math.MinInt64, Retries: -1, Exclude: []int{}, Allowed: big, Attempt: math.MinInt,
		Comm: &Comm{Job: "j", Ranks: []int{}, Daemons: []string{"d0", ""}}, Label: "f at a.star:3", Balanced: true,
		Owner: "ÜWNER",
	}
	res := Result{
		Task: 1<<64 - 2, Engine: -1, Status: 255, Value: []byte{0, 0xff}, Err: &Error{Type: "é", Backtrace: "\x00"},
		Stdout: "out\n", Started: math.MaxInt64, Finished: math.MinInt64, Attempt: 7, Host: "pi-4",
		Items: []ItemError{{}, {Index: math.MaxInt, Err: Error{Message: "m"}}},
	}
	return []any{
		&task,
		&Batch{Bundles: [][]byte{{}, {1}}, Tasks: []Task{{}, task}},
		&Batch{Bundles: [][]byte{}, Tasks: []Task{}},
		&res,
		&Results{Results: []Result{res, {}, {Items: []ItemError{}}}},
		&Results{Results: []Result{}},
		&Done{Engine: math.MinInt, Tasks: []TaskRef{{}, {Client: "☃", ID: math.MaxUint64}}},
	}
}

// samples returns the encodings of every variant of every fast type.
func samples(t testing.TB) [][]byte {
	var out [][]byte
	for _, like := range fastTypes() {
		for _, m := range variants(like) {
			out = append(out, mustMarshalMsg(t, m))
		}
	}
	for _, m := range rich() {
		out = append(out, mustMarshalMsg(t, m))
	}
	return out
}

func TestUnmarshalMsgFastSameValues(t *testing.T) {
	for _, like := range fastTypes() {
		for _, m := range append(variants(like), rich()...) {
			if reflect.TypeOf(m) != reflect.TypeOf(like) {
				continue
			}
			fast, _ := decodeBoth(t, mustMarshalMsg(t, m), like)
			if !reflect.DeepEqual(fast, m) {
				t.Errorf("UnmarshalMsg(MarshalMsg(%+v)) = %+v, want the original", m, fast)
			}
		}
	}
}

// TestUnmarshalMsgFastTruncated cuts every sample at every byte: both
// decoders must fail alike (an envelope cut between fields still decodes
// nothing wrong: the map head promises more).
func TestUnmarshalMsgFastTruncated(t *testing.T) {
	for _, data := range samples(t) {
		for _, like := range fastTypes() {
			for n := range len(data) {
				decodeBoth(t, data[:n], like)
			}
		}
	}
}

// span returns the address range of b.
func span(b []byte) (start, end uintptr) {
	if cap(b) == 0 {
		return 0, 0
	}
	start = uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return start, start + uintptr(len(b))
}

func TestUnmarshalMsgFastAliases(t *testing.T) {
	payload, value := []byte("payload"), []byte("value")
	data := mustMarshalMsg(t, &Batch{Bundles: [][]byte{[]byte("bundle")}, Tasks: []Task{{Payload: payload}}})
	var b Batch
	if err := UnmarshalMsg(data, &b); err != nil {
		t.Fatal(err)
	}
	rdata := mustMarshalMsg(t, &Results{Results: []Result{{Value: value}}})
	var rs Results
	if err := UnmarshalMsg(rdata, &rs); err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		name      string
		got, data []byte
	}{
		{"Batch.Bundles[0]", b.Bundles[0], data},
		{"Batch.Tasks[0].Payload", b.Tasks[0].Payload, data},
		{"Results.Results[0].Value", rs.Results[0].Value, rdata},
	} {
		start, end := span(test.got)
		dstart, dend := span(test.data)
		if start < dstart || end > dend || cap(test.got) != len(test.got) {
			t.Errorf("%s = %q at %#x..%#x cap %d, want a full slice of the input at %#x..%#x",
				test.name, test.got, start, end, cap(test.got), dstart, dend)
		}
	}
}

// msg returns an envelope whose body build, if not nil, writes.
func msg(build func(e *Encoder)) []byte {
	var e Encoder
	e.EncodeArrayHead(2)
	e.EncodeUint(ProtocolVersion)
	if build != nil {
		build(&e)
	}
	return e.Bytes()
}

// fields returns an envelope body: a map of the given key/value pairs, a
// value being written by EncodeInt (int), EncodeString (string),
// EncodeBytes ([]byte), nil (null) or a function.
func fields(kvs ...any) func(e *Encoder) {
	return func(e *Encoder) {
		e.EncodeMapHead(len(kvs) / 2)
		for i := 0; i+1 < len(kvs); i += 2 {
			encodeAny(e, kvs[i])
			encodeAny(e, kvs[i+1])
		}
	}
}

func encodeAny(e *Encoder, v any) {
	switch v := v.(type) {
	case int:
		e.EncodeInt(int64(v))
	case uint64:
		e.EncodeUint(v)
	case string:
		e.EncodeString(v)
	case []byte:
		e.EncodeBytes(v)
	case bool:
		e.EncodeBool(v)
	case nil:
		e.EncodeNil()
	case func(e *Encoder):
		v(e)
	}
}

// array returns an array of the given items, written as fields writes
// its values.
func array(items ...any) func(e *Encoder) {
	return func(e *Encoder) {
		e.EncodeArrayHead(len(items))
		for _, it := range items {
			encodeAny(e, it)
		}
	}
}

func TestUnmarshalMsgFastOddInput(t *testing.T) {
	deep := append([]byte{0xa1, 0x18, 50}, append(bytes.Repeat([]byte{0x81}, 1001), 0)...)
	for _, test := range []struct {
		name string
		like any
		body func(e *Encoder) // or raw
		raw  []byte
		want string // in the error, "" for none
	}{
		{"unknown keys skipped", &Task{}, fields(99, array(1, fields(2, 3)), 1, 5, 1000, "x"), nil, ""},
		{"repeated scalar", &Task{}, fields(1, 5, 1, 6), nil, ""},
		{"repeated slice replaced", &Task{}, fields(4, array(1, 2), 4, array(3)), nil, ""},
		{"null pointer keeps the earlier one", &Task{}, fields(15, fields(1, "a"), 15, nil), nil, ""},
		{"repeated pointer replaced", &Task{}, fields(15, fields(1, "a"), 15, fields(2, array(1))), nil, ""},
		{"repeated struct merged", &Result{}, fields(11, array(fields(2, fields(1, "T"), 2, fields(2, "M")))), nil, ""},
		{"bool false", &Task{}, fields(17, true, 17, false), nil, ""},
		{"raw strings", &Task{}, fields(2, "a\xff", 9, array("\xfe")), nil, ""},
		{"Kind overflows", &Task{}, fields(3, 256), nil, "integer 256 out of range for wire.Kind"},
		{"Status overflows", &Results{}, fields(1, array(fields(3, 300))), nil, "integer 300 out of range for wire.Status"},
		{"negative uint", &Task{}, fields(1, -1), nil, "want an unsigned integer"},
		{"int out of int64", &Done{}, fields(1, uint64(math.MaxUint64)), nil, "out of the int64 range"},
		{"string for int", &Done{}, fields(2, array(fields(2, "x"))), nil, "Tasks: [0]: ID:"},
		{"int for string", &Task{}, fields(2, 5), nil, "Client:"},
		{"bytes for string", &Task{}, fields(7, []byte("x")), nil, "Code:"},
		{"string for bytes", &Batch{}, fields(1, array([]byte("a"), "b")), nil, "Bundles: [1]:"},
		{"int for bool", &Task{}, fields(17, 1), nil, "Balanced:"},
		{"negative key", &Task{}, fields(-1, 0), nil, "field key:"},
		{"string key", &Result{}, fields("k", 0), nil, "field key:"},
		{"body not a map", &Batch{}, array(1), nil, "want a map"},
		{"pointer not a map", &Task{}, fields(15, 1), nil, "Comm:"},
		{"slice not an array", &Task{}, fields(4, 1), nil, "Targets:"},
		{"element wrong", &Task{}, fields(12, array(1, "x")), nil, "Exclude: [1]:"},
		{"no body", &Results{}, nil, nil, "EOF"},
		{"deep unknown value", &Result{}, nil, deep, "nested more than"},
		{"huge array head", &Batch{}, nil, []byte{0xa1, 2, 0x9b, 0, 0, 0, 1, 0, 0, 0, 0}, "larger than"},
		{"lying array head", &Batch{}, nil, []byte{0xa1, 2, 0x9a, 0, 1, 0, 0}, "Tasks: [0]: EOF"}, // io.EOF: cut between items
		{"cut inside an item", &Batch{}, nil, []byte{0xa1, 2, 0x81, 0xa1, 1, 0x19}, "input ends inside"},
		{"indefinite map", &Done{}, nil, []byte{0xbf}, "indefinite-length"},
	} {
		data := append(msg(test.body), test.raw...)
		fast, _ := decodeBoth(t, data, test.like)
		err := UnmarshalMsg(data, newLike(test.like))
		if got := fmt.Sprint(err); (test.want == "") != (err == nil) || !strings.Contains(got, test.want) {
			t.Errorf("%s: UnmarshalMsg(%x, %T) = %+v, error %v, want error containing %q", test.name, data, test.like, fast, err, test.want)
		}
	}
}

func TestUnmarshalMsgFastVersion(t *testing.T) {
	data := mustMarshalMsg(t, &Task{ID: 1})
	other := byte(ProtocolVersion + 1)
	data[1] = other // the version, a one-byte uint
	var task Task
	err := UnmarshalMsg(data, &task)
	if pe, ok := err.(*ProtocolError); !ok || pe.Got != int(other) || task.ID != 0 {
		t.Errorf("UnmarshalMsg(version %d) = %v, task %+v, want a *ProtocolError for version %d and no field set", other, err, task, other)
	}
}

// FuzzUnmarshalMsgFastSame checks that the hand-written and reflective
// decoders agree on arbitrary input: same value and same error.
func FuzzUnmarshalMsgFastSame(f *testing.F) {
	for _, data := range samples(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, like := range fastTypes() {
			decodeBoth(t, data, like)
		}
	})
}

func BenchmarkUnmarshalMsg(b *testing.B) {
	tasks := make([]Task, 100)
	results := make([]Result, 100)
	for i := range tasks {
		tasks[i] = Task{ID: uint64(i + 1), Client: "client-0123456789", Kind: KindApply, Bundle: 1,
			Payload: []byte{0x83, 0x80, 0x81, 0x01, 0xa0}, Label: "f at bench.star:3", Balanced: true}
		results[i] = Result{Task: uint64(i + 1), Engine: 3, Status: StatusOK, Value: []byte{0x02},
			Started: 1e18, Finished: 1e18 + 5000, Host: "pi-4"}
	}
	for _, m := range []any{&Batch{Bundles: [][]byte{make([]byte, 300)}, Tasks: tasks}, &Results{Results: results}} {
		data := mustMarshalMsg(b, m)
		for _, fast := range []bool{true, false} {
			b.Run(fmt.Sprintf("%T/fast=%v", m, fast), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if err := unmarshalMsg(data, newLike(m), fast); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
