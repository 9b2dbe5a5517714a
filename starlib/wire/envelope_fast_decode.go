// This file defines hand-written decoders for the hottest envelopes
// (Batch, Task, Results, Result, Done), which UnmarshalMsg uses in place
// of the reflective decoder of envelope.go. They keep its behaviour
// exactly: the same Decoder calls in the same order (one-byte integers
// read in place, with the same effect), unknown keys skipped, absent
// fields left alone, a repeated key decoded again (a struct field
// merged, a pointer, slice or scalar replaced), byte slices aliasing the
// input, and the same error texts, down to the field path.
//
// The reflective decoder's depth check cannot fire for these types: they
// nest at most 5 levels, and it allows maxEnvelopeDepth.

package wire

import "fmt"

// decodeFast reads the body of v with a hand-written decoder, if there is
// one for its type, and reports whether there was.
func decodeFast(d *Decoder, v any) (bool, error) {
	switch m := v.(type) {
	case *Batch:
		return true, decodeBatch(d, m)
	case *Task:
		return true, decodeTask(d, m)
	case *Results:
		return true, decodeResults(d, m)
	case *Result:
		return true, decodeResult(d, m)
	case *Done:
		return true, decodeDone(d, m)
	}
	return false, nil
}

// decodeFields reads a map of tagged fields, calling field for each key;
// field skips the keys it does not know (see skipField).
func decodeFields(d *Decoder, field func(key uint64) error) error {
	n, err := d.DecodeMapHead()
	if err != nil {
		return err
	}
	for range n {
		key, ok := d.smallUint()
		if !ok {
			var err error
			if key, err = d.DecodeUint(); err != nil {
				return fmt.Errorf("field key: %w", err)
			}
		}
		if err := field(key); err != nil {
			return err
		}
	}
	return nil
}

// smallUint reads an unsigned integer below 24 (a one-byte item), the
// usual field key or enum, when one is next within d's buffer and limits:
// what DecodeUint or DecodeInt would do, less their setup, which an
// earlier call did already (d.end is 0 before the first). When ok is
// false, d is unchanged.
func (d *Decoder) smallUint() (u uint64, ok bool) {
	if d.err != nil || d.pos >= d.end || d.buf[d.pos] >= 24 {
		return 0, false
	}
	u = uint64(d.buf[d.pos])
	d.pos++
	return u, true
}

// skipField discards the value of an unknown key.
func skipField(d *Decoder) error { return d.Skip() }

// wrap prefixes err, if any, with the name of the field it occurred in.
func wrap(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// elemErr prefixes err with the index of the slice element it occurred in.
func elemErr(i int, err error) error {
	return fmt.Errorf("[%d]: %w", i, err)
}

// decodeSliceOf reads an array into a new slice (empty, not nil, when the
// array is), decoding each element in place with elem; it is set into
// *p only when every element decoded.
func decodeSliceOf[T any](d *Decoder, p *[]T, elem func(d *Decoder, v *T) error) error {
	n, err := d.DecodeArrayHead()
	if err != nil {
		return err
	}
	s := make([]T, 0, min(n, d.remaining()))
	for i := range n {
		if i < cap(s) {
			s = s[:i+1] // zeroed by make: saves copying a zero T in
		} else {
			var zero T
			s = append(s, zero)
		}
		if err := elem(d, &s[i]); err != nil {
			return elemErr(i, err)
		}
	}
	*p = s
	return nil
}

// decodeIntTo reads an int into *p, which it sets unless the integer
// overflows int (on 32-bit engines).
func decodeIntTo(d *Decoder, p *int) error {
	if u, ok := d.smallUint(); ok {
		*p = int(u)
		return nil
	}
	i, err := d.DecodeInt()
	if err == nil && int64(int(i)) != i {
		return fmt.Errorf("integer %d out of range for int", i)
	}
	*p = int(i)
	return err
}

// decodeUint8To reads an integer of at most 8 bits for a field of type
// typ into *p, as decodeIntTo does.
func decodeUint8To[T ~uint8](d *Decoder, p *T, typ string) error {
	if u, ok := d.smallUint(); ok {
		*p = T(u)
		return nil
	}
	u, err := d.DecodeUint()
	if err == nil && u > 0xff {
		return fmt.Errorf("integer %d out of range for %s", u, typ)
	}
	*p = T(u)
	return err
}

func decodeInt64To(d *Decoder, p *int64) (err error) {
	*p, err = d.DecodeInt()
	return err
}

func decodeUintTo(d *Decoder, p *uint64) (err error) {
	if u, ok := d.smallUint(); ok {
		*p = u
		return nil
	}
	*p, err = d.DecodeUint()
	return err
}

func decodeStringTo(d *Decoder, p *string) (err error) {
	*p, err = d.DecodeString()
	return err
}

func decodeBytesTo(d *Decoder, p *[]byte) (err error) {
	*p, err = d.decodeBytesView()
	return err
}

func decodeBatch(d *Decoder, b *Batch) error {
	return decodeFields(d, func(key uint64) error {
		switch key {
		case 1:
			return wrap("Bundles", decodeSliceOf(d, &b.Bundles, decodeBytesTo))
		case 2:
			return wrap("Tasks", decodeSliceOf(d, &b.Tasks, decodeTask))
		}
		return skipField(d)
	})
}

func decodeTask(d *Decoder, t *Task) error {
	return decodeFields(d, func(key uint64) error {
		switch key {
		case 1:
			return wrap("ID", decodeUintTo(d, &t.ID))
		case 2:
			return wrap("Client", decodeStringTo(d, &t.Client))
		case 3:
			return wrap("Kind", decodeUint8To(d, &t.Kind, "wire.Kind"))
		case 4:
			return wrap("Targets", decodeSliceOf(d, &t.Targets, decodeIntTo))
		case 5:
			return wrap("Bundle", decodeIntTo(d, &t.Bundle))
		case 6:
			return wrap("Payload", decodeBytesTo(d, &t.Payload))
		case 7:
			return wrap("Code", decodeStringTo(d, &t.Code))
		case 8:
			return wrap("File", decodeStringTo(d, &t.File))
		case 9:
			return wrap("Names", decodeSliceOf(d, &t.Names, decodeStringTo))
		}
		return decodeTaskTail(d, t, key)
	})
}

// decodeTaskTail reads the fields of t from Timeout on.
func decodeTaskTail(d *Decoder, t *Task, key uint64) error {
	switch key {
	case 10:
		return wrap("Timeout", decodeInt64To(d, &t.Timeout))
	case 11:
		return wrap("Retries", decodeIntTo(d, &t.Retries))
	case 12:
		return wrap("Exclude", decodeSliceOf(d, &t.Exclude, decodeIntTo))
	case 13:
		return wrap("Allowed", decodeSliceOf(d, &t.Allowed, decodeIntTo))
	case 14:
		return wrap("Attempt", decodeIntTo(d, &t.Attempt))
	case 15:
		return wrap("Comm", decodePointer(d, &t.Comm, decodeComm))
	case 16:
		return wrap("Label", decodeStringTo(d, &t.Label))
	case 17:
		var err error
		t.Balanced, err = d.DecodeBool()
		return wrap("Balanced", err)
	case 18:
		return wrap("Owner", decodeStringTo(d, &t.Owner))
	}
	return skipField(d)
}

// decodePointer reads a null, which leaves *p alone, or a value into a new
// T, which replaces *p when it decoded.
func decodePointer[T any](d *Decoder, p **T, decode func(d *Decoder, v *T) error) error {
	if isNil, err := d.DecodeNil(); err != nil || isNil {
		return err
	}
	v := new(T)
	if err := decode(d, v); err != nil {
		return err
	}
	*p = v
	return nil
}

func decodeComm(d *Decoder, c *Comm) error {
	return decodeFields(d, func(key uint64) error {
		switch key {
		case 1:
			return wrap("Job", decodeStringTo(d, &c.Job))
		case 2:
			return wrap("Ranks", decodeSliceOf(d, &c.Ranks, decodeIntTo))
		case 3:
			return wrap("Daemons", decodeSliceOf(d, &c.Daemons, decodeStringTo))
		}
		return skipField(d)
	})
}

func decodeResults(d *Decoder, rs *Results) error {
	return decodeFields(d, func(key uint64) error {
		if key == 1 {
			return wrap("Results", decodeSliceOf(d, &rs.Results, decodeResult))
		}
		return skipField(d)
	})
}

func decodeResult(d *Decoder, r *Result) error {
	return decodeFields(d, func(key uint64) error {
		switch key {
		case 1:
			return wrap("Task", decodeUintTo(d, &r.Task))
		case 2:
			return wrap("Engine", decodeIntTo(d, &r.Engine))
		case 3:
			return wrap("Status", decodeUint8To(d, &r.Status, "wire.Status"))
		case 4:
			return wrap("Value", decodeBytesTo(d, &r.Value))
		case 5:
			return wrap("Err", decodePointer(d, &r.Err, decodeError))
		case 6:
			return wrap("Stdout", decodeStringTo(d, &r.Stdout))
		}
		return decodeResultTail(d, r, key)
	})
}

// decodeResultTail reads the fields of r from Started on.
func decodeResultTail(d *Decoder, r *Result, key uint64) error {
	switch key {
	case 7:
		return wrap("Started", decodeInt64To(d, &r.Started))
	case 8:
		return wrap("Finished", decodeInt64To(d, &r.Finished))
	case 9:
		return wrap("Attempt", decodeIntTo(d, &r.Attempt))
	case 10:
		return wrap("Host", decodeStringTo(d, &r.Host))
	case 11:
		return wrap("Items", decodeSliceOf(d, &r.Items, decodeItemError))
	}
	return skipField(d)
}

func decodeItemError(d *Decoder, it *ItemError) error {
	return decodeFields(d, func(key uint64) error {
		switch key {
		case 1:
			return wrap("Index", decodeIntTo(d, &it.Index))
		case 2:
			return wrap("Err", decodeError(d, &it.Err)) // in place: a repeated key merges
		}
		return skipField(d)
	})
}

func decodeError(d *Decoder, e *Error) error {
	return decodeFields(d, func(key uint64) error {
		switch key {
		case 1:
			s, err := d.DecodeString()
			e.Type = ErrorKind(s)
			return wrap("Type", err)
		case 2:
			return wrap("Message", decodeStringTo(d, &e.Message))
		case 3:
			return wrap("Backtrace", decodeStringTo(d, &e.Backtrace))
		}
		return skipField(d)
	})
}

func decodeDone(d *Decoder, dn *Done) error {
	return decodeFields(d, func(key uint64) error {
		switch key {
		case 1:
			return wrap("Engine", decodeIntTo(d, &dn.Engine))
		case 2:
			return wrap("Tasks", decodeSliceOf(d, &dn.Tasks, decodeTaskRef))
		}
		return skipField(d)
	})
}

func decodeTaskRef(d *Decoder, r *TaskRef) error {
	return decodeFields(d, func(key uint64) error {
		switch key {
		case 1:
			return wrap("Client", decodeStringTo(d, &r.Client))
		case 2:
			return wrap("ID", decodeUintTo(d, &r.ID))
		}
		return skipField(d)
	})
}
