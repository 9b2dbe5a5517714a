// This file defines the strict decoder: TOML text into a schema struct, one
// key at a time, so that every unknown key and every value of the wrong type
// is reported, not only the first.

package conf

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// decoder decodes one file's keys into a schema struct and collects the
// problems. It is used by one goroutine for one file.
type decoder struct {
	md    *toml.MetaData
	order map[string]int  // TOML key → its rank in the file
	leafs map[string]bool // TOML keys decoded whole: their insides are not keys of ours
	lines *keyLines
	probs problems
}

// keyPath names a key twice: as problems show it ("hosts[1].user") and as
// the TOML decoder knows it (hosts, user: one key for all elements).
type keyPath struct {
	show    string
	toml    toml.Key
	inArray bool   // inside an element of an array of tables
	title   string // how the file writes the enclosing table, "" at the top
}

// child returns the path of the key name inside k.
func (k keyPath) child(name string) keyPath {
	return keyPath{show: joinKey(k.show, name), toml: append(k.toml[:len(k.toml):len(k.toml)], name), inArray: k.inArray}
}

// decodeStrict decodes data into dst, a pointer to a struct that already
// holds the defaults. It returns the problems, in file order: one syntax
// error, or every unknown key and mistyped value; and, unless there was a
// syntax error, the lines of the file's keys for later problems. Fields of
// type toml.Primitive take any value and are otherwise ignored.
func decodeStrict(data []byte, dst any) (*keyLines, []Problem) {
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		return nil, []Problem{syntaxProblem(err, data)}
	}
	d := &decoder{md: &md, order: map[string]int{}, leafs: map[string]bool{}, lines: newKeyLines(&md, data)}
	for i, k := range md.Keys() {
		if _, ok := d.order[k.String()]; !ok {
			d.order[k.String()] = i
		}
	}
	d.table(top, keyPath{}, reflect.ValueOf(dst).Elem())
	d.undecoded()
	return d.lines, d.lines.place(d.probs)
}

// table decodes the keys of the TOML table at k into the struct v, in file
// order.
func (d *decoder) table(kids map[string]toml.Primitive, k keyPath, v reflect.Value) {
	fields := fieldsOf(v.Type())
	names := make([]string, 0, len(kids))
	for name := range kids {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		return d.order[k.child(names[i]).toml.String()] < d.order[k.child(names[j]).toml.String()]
	})
	for _, name := range names {
		kk := k.child(name)
		if !kk.inArray {
			d.lines.value(kk.show, kids[name])
		}
		i, ok := fields.index[name]
		if !ok {
			d.reject(kk, "%s", unknownKeyMsg(k.title, name, fields.names))
			continue
		}
		d.value(kids[name], kk, v.Field(i))
	}
}

// value decodes the value of the key k into v, by v's type.
func (d *decoder) value(p toml.Primitive, k keyPath, v reflect.Value) {
	var raw any
	_ = d.md.PrimitiveDecode(p, &raw) // decoding into any cannot fail
	switch t := v.Type(); {
	case t == reflect.TypeFor[toml.Primitive]():
		d.leafs[k.toml.String()] = true
		v.Set(reflect.ValueOf(p))
	case t.Kind() == reflect.Struct && !isLeafType(t):
		k.title = "[" + k.show + "]"
		d.subtable(p, raw, k, v)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		d.tableArray(p, raw, k, v)
	default:
		d.leafs[k.toml.String()] = true
		d.leaf(raw, k.show, v)
	}
}

// reject reports a problem with the key k and leaves what is inside it
// alone.
func (d *decoder) reject(k keyPath, format string, args ...any) {
	d.leafs[k.toml.String()] = true
	d.probs.add(k.show, format, args...)
}

// subtable decodes the table-valued key k into the struct v.
func (d *decoder) subtable(p toml.Primitive, raw any, k keyPath, v reflect.Value) {
	if _, ok := raw.(map[string]any); !ok {
		d.reject(k, "expected a table (%s), got %s", k.title, describe(raw))
		return
	}
	var kids map[string]toml.Primitive
	if err := d.md.PrimitiveDecode(p, &kids); err != nil {
		d.reject(k, "%v", err)
		return
	}
	d.table(kids, k, v)
}

// tableArray decodes the array of tables at k ([[hosts]]) into the slice v;
// each element starts from its type's defaults (see defaultElem).
func (d *decoder) tableArray(p toml.Primitive, raw any, k keyPath, v reflect.Value) {
	title := "[[" + k.show + "]]"
	if !isTableArray(raw) {
		d.reject(k, "expected an array of tables (%s), got %s", title, describe(raw))
		return
	}
	var elems []toml.Primitive
	if err := d.md.PrimitiveDecode(p, &elems); err != nil {
		d.reject(k, "%v", err)
		return
	}
	d.lines.elements(k.show, len(elems))
	out := reflect.MakeSlice(v.Type(), len(elems), len(elems))
	for i, e := range elems {
		ek := keyPath{show: fmt.Sprintf("%s[%d]", k.show, i), toml: k.toml, inArray: true, title: title}
		ev := out.Index(i)
		ev.Set(defaultElem(ev.Type()))
		var rawElem any
		_ = d.md.PrimitiveDecode(e, &rawElem)
		d.subtable(e, rawElem, ek, ev)
	}
	v.Set(out)
}

// leaf decodes a scalar or an array of strings into v.
func (d *decoder) leaf(raw any, key string, v reflect.Value) {
	if v.Type() == reflect.TypeFor[time.Time]() { // a TOML date-time, not text
		d.set(raw, key, v, "a date-time such as 2026-01-02T15:04:05Z")
		return
	}
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		d.text(raw, key, v, u)
		return
	}
	switch v.Kind() {
	case reflect.String:
		d.set(raw, key, v, "a string")
	case reflect.Bool:
		d.set(raw, key, v, "true or false")
	case reflect.Int, reflect.Int64:
		d.integer(raw, key, v)
	case reflect.Uint64:
		d.unsigned(raw, key, v)
	case reflect.Slice:
		d.stringList(raw, key, v)
	default:
		d.probs.add(key, "cannot decode into %s", v.Type()) // a schema bug
	}
}

// set stores raw into v when their types agree.
func (d *decoder) set(raw any, key string, v reflect.Value, want string) {
	rv := reflect.ValueOf(raw)
	if !rv.IsValid() || rv.Kind() != v.Kind() || !rv.Type().ConvertibleTo(v.Type()) {
		d.probs.add(key, "expected %s, got %s", want, describe(raw))
		return
	}
	v.Set(rv.Convert(v.Type()))
}

// text decodes a string (or an integer, for sizes in bytes and a 0
// duration) through the field's UnmarshalText.
func (d *decoder) text(raw any, key string, v reflect.Value, u encoding.TextUnmarshaler) {
	var s string
	switch raw := raw.(type) {
	case string:
		s = raw
	case int64:
		s = fmt.Sprint(raw)
	default:
		d.probs.add(key, "expected %s, got %s", textWant(v.Type()), describe(raw))
		return
	}
	if err := u.UnmarshalText([]byte(s)); err != nil {
		d.probs.add(key, "%v", err)
	}
}

// integer stores a TOML integer into a signed field that can hold it (int
// is 32 bits on linux/arm).
func (d *decoder) integer(raw any, key string, v reflect.Value) {
	n, ok := raw.(int64)
	switch {
	case !ok:
		d.probs.add(key, "expected an integer, got %s", describe(raw))
	case v.OverflowInt(n):
		d.probs.add(key, "expected an integer that fits in %d bits, got %d", v.Type().Bits(), n)
	default:
		v.SetInt(n)
	}
}

// unsigned stores a TOML integer of 0 or more into an unsigned field.
func (d *decoder) unsigned(raw any, key string, v reflect.Value) {
	n, ok := raw.(int64)
	if !ok || n < 0 {
		d.probs.add(key, "expected an integer of 0 or more, got %s", describe(raw))
		return
	}
	v.SetUint(uint64(n))
}

// stringList stores a TOML array of strings into a []string field.
func (d *decoder) stringList(raw any, key string, v reflect.Value) {
	items, ok := raw.([]any)
	if !ok {
		d.probs.add(key, "expected an array of strings, got %s", describe(raw))
		return
	}
	if len(items) == 0 {
		v.SetZero() // "[]" is the default: nil
		return
	}
	out := make([]string, len(items))
	for i, item := range items {
		s, ok := item.(string)
		if !ok {
			d.probs.add(fmt.Sprintf("%s[%d]", key, i), "expected a string, got %s", describe(item))
		}
		out[i] = s
	}
	v.Set(reflect.ValueOf(out))
}

// undecoded reports the keys that the TOML decoder saw and the walk did not
// place, outside values decoded whole. It is a safety net: the walk above
// reports unknown keys itself.
func (d *decoder) undecoded() {
	for _, k := range d.md.Undecoded() {
		if !d.underLeaf(k) {
			d.probs.add(k.String(), "unknown key")
		}
	}
}

// underLeaf reports whether k or one of its parents was decoded whole.
func (d *decoder) underLeaf(k toml.Key) bool {
	for i := len(k); i > 0; i-- {
		if d.leafs[toml.Key(k[:i]).String()] {
			return true
		}
	}
	return false
}

// schemaFields maps a struct's TOML key names to field indices.
type schemaFields struct {
	index map[string]int
	names []string // in declaration order
}

// fieldsOf returns the keys of a schema struct, from its toml tags.
func fieldsOf(t reflect.Type) schemaFields {
	f := schemaFields{index: map[string]int{}}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if name == "" || name == "-" {
			continue
		}
		f.index[name] = i
		f.names = append(f.names, name)
	}
	return f
}

// isLeafType reports whether a struct type is decoded as one value.
func isLeafType(t reflect.Type) bool {
	return t == reflect.TypeFor[time.Time]() || t == reflect.TypeFor[toml.Primitive]() ||
		reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// isTableArray reports whether raw is an array whose elements are all tables.
func isTableArray(raw any) bool {
	switch raw := raw.(type) {
	case []map[string]any:
		return true
	case []any:
		for _, e := range raw {
			if _, ok := e.(map[string]any); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// defaultElem returns the default value of one element of an array of
// tables.
func defaultElem(t reflect.Type) reflect.Value {
	if t == reflect.TypeFor[Host]() {
		return reflect.ValueOf(DefaultHost())
	}
	return reflect.Zero(t)
}

// textWant says what a text-decoded type expects.
func textWant(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Duration]():
		return "a duration such as \"30s\""
	case reflect.TypeFor[Size]():
		return "a size such as \"8MiB\" or a number of bytes"
	}
	return "a string"
}

// describe names a decoded TOML value for an error message.
func describe(raw any) string {
	switch raw := raw.(type) {
	case string:
		if len(raw) > 60 {
			return fmt.Sprintf("the string %q… (%d bytes)", raw[:60], len(raw))
		}
		return fmt.Sprintf("the string %q", raw)
	case int64:
		return fmt.Sprintf("the integer %d", raw)
	case float64:
		return fmt.Sprintf("the float %v", raw)
	case bool:
		return fmt.Sprintf("%v", raw)
	case time.Time:
		return "a date-time"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	}
	return fmt.Sprintf("a value of type %T", raw)
}

// joinKey appends name to a dotted key path, quoting it as TOML would when
// it is not a bare key.
func joinKey(path, name string) string {
	n := toml.Key{name}.String()
	if path == "" {
		return n
	}
	return path + "." + n
}
