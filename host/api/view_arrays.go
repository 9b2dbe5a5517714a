// This file defines scatter and gather of num arrays: an ndarray is split
// along axis 0 into one contiguous array per engine, and arrays gathered
// back are joined into one.

package api

import (
	"context"
	"fmt"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/num"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// scatterArray is Scatter of an ndarray.
func (v *DirectView) scatterArray(ctx context.Context, name string, a *num.Array, block bool) (starlark.Value, error) {
	ids, err := v.Targets()
	if err != nil {
		return nil, err
	}
	payloads, err := v.arrayParts(name, a, len(ids))
	if err != nil {
		return nil, err
	}
	ar, err := v.submitEachBlocks(ctx, wire.Task{Kind: wire.KindPush, Label: "scatter " + name}, nil, combineNone, ids, payloads)
	if err != nil {
		return nil, err
	}
	return v.finish(ctx, ar, block)
}

// arrayParts returns one payload per engine, {name: part}, of a split
// along axis 0 in numpy.array_split's sizes (the first len % k parts one
// row longer).
func (v *DirectView) arrayParts(name string, a *num.Array, k int) ([]wire.Blocks, error) {
	if a.NDim() == 0 {
		return nil, fmt.Errorf("scatter: argument 2 is a 0-d ndarray; scatter splits along axis 0, so it needs a 1-D or 2-D array")
	}
	payloads := make([]wire.Blocks, k)
	for i, b := range split(a.Shape()[0], k) {
		part, err := a.Rows(b[0], b[1])
		if err != nil {
			return nil, fmt.Errorf("scatter: %v", err)
		}
		payloads[i], err = encodePayloadWith(v.c, "scattered values", func(body *wire.Encoder) error {
			body.EncodeMapHead(1)
			body.EncodeString(name)
			return body.Encode(part)
		})
		if err != nil {
			return nil, err
		}
	}
	return payloads, nil
}

// gatherArrays returns the arrays of vals joined along axis 0, and true,
// when every value is an ndarray of one or two dimensions; else false,
// and gather concatenates the values as lists.
func gatherArrays(vals []starlark.Value) (starlark.Value, bool, error) {
	arrays := make([]*num.Array, len(vals))
	for i, v := range vals {
		a, ok := v.(*num.Array)
		if !ok || a.NDim() == 0 {
			return nil, false, nil
		}
		arrays[i] = a
	}
	if len(arrays) == 0 {
		return nil, false, nil
	}
	out, err := num.ConcatRows(arrays)
	if err != nil {
		return nil, true, fmt.Errorf("gather: %v", err)
	}
	return out, true, nil
}
