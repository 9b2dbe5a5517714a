// This file defines hand-written encoders for the hottest envelopes
// (Batch, Task, Results, Result), which write the same bytes as the
// reflective encoder of envelope.go, and MarshalBatchBlocks and
// MarshalResultsBlocks, which encode them as Blocks with their payloads
// given as Blocks, so that a large value is never copied into its
// envelope.

package wire

// MarshalBatchBlocks encodes b as MarshalMsg does, into blocks of at most
// size bytes (see NewBlockEncoder). When payloads is not nil,
// payloads[i], if not nil, is the payload of b.Tasks[i] in place of its
// Payload field. Large payloads are lent, not copied: they must not
// change until the blocks were sent. It is safe for concurrent use.
func MarshalBatchBlocks(b *Batch, payloads []Blocks, size int) (Blocks, error) {
	e := GetBlockEncoder(size)
	defer PutBlockEncoder(e)
	e.EncodeArrayHead(2)
	e.EncodeUint(ProtocolVersion)
	encodeBatch(e, b, payloads)
	if err := e.Flush(); err != nil {
		return nil, err
	}
	return e.Blocks(), nil
}

// MarshalResultsBlocks encodes rs as MarshalMsg does, into blocks of at
// most size bytes. When values is not nil, values[i], if not nil, is the
// value of rs.Results[i] in place of its Value field. Large values are
// lent, not copied. It is safe for concurrent use.
func MarshalResultsBlocks(rs *Results, values []Blocks, size int) (Blocks, error) {
	e := GetBlockEncoder(size)
	defer PutBlockEncoder(e)
	e.EncodeArrayHead(2)
	e.EncodeUint(ProtocolVersion)
	encodeResults(e, rs, values)
	if err := e.Flush(); err != nil {
		return nil, err
	}
	return e.Blocks(), nil
}

// encodeFast writes v with a hand-written encoder and reports whether
// there is one for its type.
func encodeFast(e *Encoder, v any) bool {
	switch m := v.(type) {
	case *Batch:
		encodeBatch(e, m, nil)
	case *Task:
		encodeTask(e, m, nil)
	case *Results:
		encodeResults(e, m, nil)
	case *Result:
		encodeResult(e, m, nil)
	default:
		return false
	}
	return true
}

// blocksAt returns bs[i], or nil when bs has no entry i.
func blocksAt(bs []Blocks, i int) Blocks {
	if i < len(bs) {
		return bs[i]
	}
	return nil
}

func encodeBatch(e *Encoder, b *Batch, payloads []Blocks) {
	e.EncodeMapHead(count(b.Bundles != nil, b.Tasks != nil))
	if b.Bundles != nil {
		e.EncodeUint(1)
		e.EncodeArrayHead(len(b.Bundles))
		for _, bundle := range b.Bundles {
			e.EncodeBytes(bundle)
		}
	}
	if b.Tasks != nil {
		e.EncodeUint(2)
		e.EncodeArrayHead(len(b.Tasks))
		for i := range b.Tasks {
			encodeTask(e, &b.Tasks[i], blocksAt(payloads, i))
		}
	}
}

func encodeTask(e *Encoder, t *Task, payload Blocks) {
	hasPayload := t.Payload != nil || payload != nil
	e.EncodeMapHead(count(t.ID != 0, t.Client != "", t.Kind != 0, t.Targets != nil, t.Bundle != 0,
		hasPayload, t.Code != "", t.File != "", t.Names != nil, t.Timeout != 0, t.Retries != 0,
		t.Exclude != nil, t.Allowed != nil, t.Attempt != 0, t.Comm != nil, t.Label != "", t.Balanced, t.Owner != ""))
	uintField(e, 1, t.ID)
	stringField(e, 2, t.Client)
	uintField(e, 3, uint64(t.Kind))
	intsField(e, 4, t.Targets)
	intField(e, 5, int64(t.Bundle))
	if hasPayload {
		e.EncodeUint(6)
		if payload != nil {
			e.EncodeBlocks(payload)
		} else {
			e.EncodeBytes(t.Payload)
		}
	}
	stringField(e, 7, t.Code)
	stringField(e, 8, t.File)
	if t.Names != nil {
		e.EncodeUint(9)
		e.EncodeArrayHead(len(t.Names))
		for _, s := range t.Names {
			e.EncodeString(s)
		}
	}
	encodeTaskTail(e, t)
}

// encodeTaskTail writes the fields of t from Timeout on.
func encodeTaskTail(e *Encoder, t *Task) {
	intField(e, 10, t.Timeout)
	intField(e, 11, int64(t.Retries))
	intsField(e, 12, t.Exclude)
	intsField(e, 13, t.Allowed)
	intField(e, 14, int64(t.Attempt))
	if t.Comm != nil {
		e.EncodeUint(15)
		e.EncodeMapHead(count(t.Comm.Job != "", t.Comm.Ranks != nil, t.Comm.Daemons != nil))
		stringField(e, 1, t.Comm.Job)
		intsField(e, 2, t.Comm.Ranks)
		if t.Comm.Daemons != nil {
			e.EncodeUint(3)
			e.EncodeArrayHead(len(t.Comm.Daemons))
			for _, s := range t.Comm.Daemons {
				e.EncodeString(s)
			}
		}
	}
	stringField(e, 16, t.Label)
	if t.Balanced {
		e.EncodeUint(17)
		e.EncodeBool(true)
	}
	stringField(e, 18, t.Owner)
}

func encodeResults(e *Encoder, rs *Results, values []Blocks) {
	e.EncodeMapHead(count(rs.Results != nil))
	if rs.Results != nil {
		e.EncodeUint(1)
		e.EncodeArrayHead(len(rs.Results))
		for i := range rs.Results {
			encodeResult(e, &rs.Results[i], blocksAt(values, i))
		}
	}
}

func encodeResult(e *Encoder, r *Result, value Blocks) {
	hasValue := r.Value != nil || value != nil
	e.EncodeMapHead(count(r.Task != 0, r.Engine != 0, r.Status != 0, hasValue, r.Err != nil,
		r.Stdout != "", r.Started != 0, r.Finished != 0, r.Attempt != 0, r.Host != "", r.Items != nil))
	uintField(e, 1, r.Task)
	intField(e, 2, int64(r.Engine))
	uintField(e, 3, uint64(r.Status))
	if hasValue {
		e.EncodeUint(4)
		if value != nil {
			e.EncodeBlocks(value)
		} else {
			e.EncodeBytes(r.Value)
		}
	}
	if r.Err != nil {
		e.EncodeUint(5)
		encodeError(e, r.Err)
	}
	stringField(e, 6, r.Stdout)
	intField(e, 7, r.Started)
	intField(e, 8, r.Finished)
	intField(e, 9, int64(r.Attempt))
	stringField(e, 10, r.Host)
	if r.Items != nil {
		e.EncodeUint(11)
		e.EncodeArrayHead(len(r.Items))
		for i := range r.Items {
			encodeItemError(e, &r.Items[i])
		}
	}
}

func encodeItemError(e *Encoder, it *ItemError) {
	hasErr := it.Err != Error{}
	e.EncodeMapHead(count(it.Index != 0, hasErr))
	intField(e, 1, int64(it.Index))
	if hasErr {
		e.EncodeUint(2)
		encodeError(e, &it.Err)
	}
}

func encodeError(e *Encoder, err *Error) {
	e.EncodeMapHead(count(err.Type != "", err.Message != "", err.Backtrace != ""))
	stringField(e, 1, string(err.Type))
	stringField(e, 2, err.Message)
	stringField(e, 3, err.Backtrace)
}

// count returns how many of present are true: the size of a map head.
func count(present ...bool) int {
	n := 0
	for _, p := range present {
		if p {
			n++
		}
	}
	return n
}

// uintField writes key and v unless v is zero, as do the other *Field.
func uintField(e *Encoder, key, v uint64) {
	if v != 0 {
		e.EncodeUint(key)
		e.EncodeUint(v)
	}
}

func intField(e *Encoder, key uint64, v int64) {
	if v != 0 {
		e.EncodeUint(key)
		e.EncodeInt(v)
	}
}

func stringField(e *Encoder, key uint64, s string) {
	if s != "" {
		e.EncodeUint(key)
		e.EncodeString(s)
	}
}

// intsField writes key and s unless s is nil (an empty slice is written).
func intsField(e *Encoder, key uint64, s []int) {
	if s != nil {
		e.EncodeUint(key)
		e.EncodeArrayHead(len(s))
		for _, v := range s {
			e.EncodeInt(int64(v))
		}
	}
}
