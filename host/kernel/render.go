// This file defines how a cell's value is shown: its text, and for a num
// array (Type "ndarray") an HTML table, its head and tail when it is big.

package kernel

import (
	"fmt"
	"html"
	"strings"

	"go.starlark.net/starlark"
)

// edge is how many rows (and columns) of each end of a big array are shown.
const edge = 5

// render returns the MIME bundle of a value.
func render(v starlark.Value) map[string]string {
	data := map[string]string{"text/plain": v.String()}
	if v.Type() == "ndarray" {
		if table, ok := arrayTable(v); ok {
			data["text/html"] = table
		}
	}
	return data
}

// arrayTable renders a 1-D or 2-D array through its shape and tolist
// attributes, so that it depends on no Go API of num.
func arrayTable(v starlark.Value) (string, bool) {
	h, ok := v.(starlark.HasAttrs)
	if !ok {
		return "", false
	}
	shape, err := intsAttr(h, "shape")
	if err != nil || len(shape) == 0 || len(shape) > 2 {
		return "", false
	}
	tolist, err := h.Attr("tolist")
	if err != nil || tolist == nil {
		return "", false
	}
	th := &starlark.Thread{Name: "render ndarray"}
	th.SetMaxExecutionSteps(1 << 24)
	x, err := starlark.Call(th, tolist, nil, nil)
	if err != nil {
		return "", false
	}
	rows, ok := x.(*starlark.List)
	if !ok {
		return "", false
	}
	var b strings.Builder
	b.WriteString(`<table class="pirun-ndarray">`)
	if len(shape) == 1 {
		b.WriteString("<tr>")
		writeCells(&b, rows, "td")
		b.WriteString("</tr>")
	} else {
		b.WriteString("<tr><th></th>")
		for _, j := range ends(shape[1]) {
			writeHeader(&b, j)
		}
		b.WriteString("</tr>")
		for _, i := range ends(shape[0]) {
			if i < 0 {
				fmt.Fprintf(&b, `<tr><th>⋮</th><td colspan="%d" style="text-align:center">⋮</td></tr>`, len(ends(shape[1])))
				continue
			}
			row, _ := rows.Index(i).(*starlark.List)
			fmt.Fprintf(&b, "<tr><th>%d</th>", i)
			if row != nil {
				writeCells(&b, row, "td")
			}
			b.WriteString("</tr>")
		}
	}
	dims := make([]string, len(shape))
	for i, n := range shape {
		dims[i] = fmt.Sprint(n)
	}
	fmt.Fprintf(&b, "</table><p>ndarray, shape (%s)</p>", strings.Join(dims, ", "))
	return b.String(), true
}

// intsAttr returns an attribute that is a tuple of ints.
func intsAttr(h starlark.HasAttrs, name string) ([]int, error) {
	x, err := h.Attr(name)
	if err != nil || x == nil {
		return nil, fmt.Errorf("no %s", name)
	}
	iter, ok := x.(starlark.Indexable)
	if !ok {
		return nil, fmt.Errorf("%s: not a tuple", name)
	}
	out := make([]int, iter.Len())
	for i := range out {
		if err := starlark.AsInt(iter.Index(i), &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ends returns the indices shown of n: all, or the first and last edge
// with -1 between them for the gap.
func ends(n int) []int {
	var idx []int
	if n <= 2*edge+1 {
		for i := range n {
			idx = append(idx, i)
		}
		return idx
	}
	for i := range edge {
		idx = append(idx, i)
	}
	idx = append(idx, -1)
	for i := n - edge; i < n; i++ {
		idx = append(idx, i)
	}
	return idx
}

func writeHeader(b *strings.Builder, j int) {
	if j < 0 {
		b.WriteString("<th>…</th>")
		return
	}
	fmt.Fprintf(b, "<th>%d</th>", j)
}

// writeCells writes the shown cells of a row.
func writeCells(b *strings.Builder, row *starlark.List, tag string) {
	for _, j := range ends(row.Len()) {
		if j < 0 {
			fmt.Fprintf(b, "<%s>…</%s>", tag, tag)
			continue
		}
		fmt.Fprintf(b, "<%s>%s</%s>", tag, html.EscapeString(row.Index(j).String()), tag)
	}
}
