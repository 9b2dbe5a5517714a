// This file tests the hand-written envelope encoders against the
// reflective ones, field by field, and the Blocks variants.

package wire

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// marshalReflect is MarshalMsg without the hand-written encoders.
func marshalReflect(t *testing.T, v any) []byte {
	t.Helper()
	var e Encoder
	e.EncodeArrayHead(2)
	e.EncodeUint(ProtocolVersion)
	if err := encodeStruct(&e, reflect.ValueOf(v).Elem()); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(e.Bytes())
}

// sample returns a non-zero value of type typ, or false if it has none
// here. Strings are not valid UTF-8, to cover the raw-string tag.
func sample(typ reflect.Type) reflect.Value {
	v := reflect.New(typ).Elem()
	switch typ.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(-300)
	case reflect.Uint8:
		v.SetUint(200)
	case reflect.Uint64:
		v.SetUint(1 << 40)
	case reflect.String:
		v.SetString("h\xffé")
	case reflect.Slice:
		v.Set(reflect.MakeSlice(typ, 2, 2))
		for i := range 2 {
			v.Index(i).Set(sample(typ.Elem()))
		}
	case reflect.Pointer:
		v.Set(reflect.New(typ.Elem()))
		v.Elem().Set(sample(typ.Elem()))
	case reflect.Struct:
		for i := range typ.NumField() {
			v.Field(i).Set(sample(typ.Field(i).Type))
		}
	}
	return v
}

// variants returns, for the envelope type of ptr, the zero value, every
// field alone set to a sample, to an empty non-nil slice or to a pointer
// to a zero struct, and every field set.
func variants(ptr any) []any {
	typ := reflect.TypeOf(ptr).Elem()
	out := []any{reflect.New(typ).Interface()}
	for i := range typ.NumField() {
		f := typ.Field(i).Type
		v := reflect.New(typ)
		v.Elem().Field(i).Set(sample(f))
		out = append(out, v.Interface())
		switch f.Kind() {
		case reflect.Slice:
			v := reflect.New(typ)
			v.Elem().Field(i).Set(reflect.MakeSlice(f, 0, 0))
			out = append(out, v.Interface())
		case reflect.Pointer:
			v := reflect.New(typ)
			v.Elem().Field(i).Set(reflect.New(f.Elem()))
			out = append(out, v.Interface())
		}
	}
	all := reflect.New(typ)
	all.Elem().Set(sample(typ))
	return append(out, all.Interface())
}

func TestMarshalMsgFastSameBytes(t *testing.T) {
	for _, typ := range []any{&Task{}, &Batch{}, &Result{}, &Results{}} {
		for _, m := range variants(typ) {
			fast, err := MarshalMsg(m)
			if err != nil {
				t.Fatal(err)
			}
			if slow := marshalReflect(t, m); !bytes.Equal(fast, slow) {
				t.Errorf("MarshalMsg(%+v) = %x, want %x (reflective)", m, fast, slow)
			}
		}
	}
	// ItemError.Err and Comm are covered inside Result and Task; check a
	// partly zero Error inside an ItemError too.
	m := &Result{Items: []ItemError{{Index: 0, Err: Error{Message: "m"}}, {Index: 3}}}
	if fast, slow := mustMarshalMsg(t, m), marshalReflect(t, m); !bytes.Equal(fast, slow) {
		t.Errorf("MarshalMsg(%+v) = %x, want %x", m, fast, slow)
	}
}

func mustMarshalMsg(t testing.TB, m any) []byte {
	t.Helper()
	b, err := MarshalMsg(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMarshalBlocksEnvelopes(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320,000 bytes: lent
	small := []byte{0x80, 0x01}
	split := Blocks{big[:1000], big[1000:]}
	for _, test := range []struct {
		name     string
		payloads []Blocks
		want     *Batch
	}{
		{"no payloads", nil, &Batch{Tasks: []Task{{ID: 1, Payload: small}, {ID: 2}}}},
		{"one big", []Blocks{{big}}, &Batch{Tasks: []Task{{ID: 1, Payload: big, Label: "x"}}}},
		{"split, nil, empty", []Blocks{split, nil, {}}, &Batch{Tasks: []Task{{ID: 1, Payload: big}, {ID: 2, Payload: small}, {ID: 3, Payload: []byte{}}}}},
	} {
		b := *test.want
		b.Tasks = append([]Task(nil), b.Tasks...)
		for i := range test.payloads {
			if test.payloads[i] != nil {
				b.Tasks[i].Payload = nil
			}
		}
		got, err := MarshalBatchBlocks(&b, test.payloads, 100_000)
		if err != nil {
			t.Fatal(err)
		}
		if want := mustMarshalMsg(t, test.want); !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s: MarshalBatchBlocks = %d bytes, want the %d of MarshalMsg", test.name, got.Len(), len(want))
		}
		for _, p := range got {
			if len(p) > 100_000 {
				t.Errorf("%s: block of %d bytes, want at most 100000", test.name, len(p))
			}
		}
	}
	rs := &Results{Results: []Result{{Task: 1, Status: StatusOK}, {Task: 2, Value: small}}}
	got, err := MarshalResultsBlocks(rs, []Blocks{{big}}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	want := &Results{Results: []Result{{Task: 1, Status: StatusOK, Value: big}, {Task: 2, Value: small}}}
	if !bytes.Equal(got.Bytes(), mustMarshalMsg(t, want)) {
		t.Errorf("MarshalResultsBlocks differs from MarshalMsg")
	}
	var back Results
	if err := UnmarshalMsg(got.Bytes(), &back); err != nil || !bytes.Equal(back.Results[0].Value, big) {
		t.Errorf("UnmarshalMsg(MarshalResultsBlocks) = %v, value intact %v", err, err == nil && bytes.Equal(back.Results[0].Value, big))
	}
}

func TestBlocksParts(t *testing.T) {
	a, b, c := strings.Repeat("a", 10), strings.Repeat("b", 400), strings.Repeat("c", 20)
	for _, test := range []struct {
		in   Blocks
		max  int
		want []string
	}{
		{nil, 100, nil},
		{Blocks{{}}, 100, nil},
		{Blocks{[]byte(a)}, 100, []string{a}},
		{Blocks{[]byte(a), []byte(c)}, 100, []string{a + c}},
		{Blocks{[]byte(a), []byte(b), []byte(c)}, 100, []string{a, b[:100], b[100:200], b[200:300], b[300:], c}},
		{Blocks{[]byte(c), []byte(c), []byte(c), []byte(c), []byte(c), []byte(c)}, 100, []string{strings.Repeat(c, 5), c}},
	} {
		var got []string
		for _, p := range test.in.Parts(test.max) {
			got = append(got, string(p))
		}
		if !reflect.DeepEqual(got, test.want) {
			t.Errorf("%q.Parts(%d) = %q, want %q", test.in, test.max, got, test.want)
		}
	}
}
