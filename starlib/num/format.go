// This file defines how arrays print: str(a) as numpy's str, with its
// precision (8 digits), trimmed zeros, aligned columns, 75-column lines
// and "..." past 1000 elements.

package num

import (
	"math"
	"strconv"
	"strings"
)

// numpy's print options, at their defaults.
const (
	printPrecision = 8
	printThreshold = 1000
	printEdgeItems = 3
	printLineWidth = 75
)

// formatArray returns a as numpy's str(a) prints it.
func formatArray(a *Array) string {
	if len(a.shape) == 0 {
		return a.elem(a.offset).String()
	}
	if a.Size() == 0 {
		return "[]"
	}
	summarise := a.Size() > printThreshold
	p := &printer{a: a, summarise: summarise}
	p.prepare()
	return p.recurse(nil, " ", printLineWidth)
}

// printer holds the layout numpy chooses for one array.
type printer struct {
	a         *Array
	summarise bool

	intWidth int // ints: the widest element

	// floats
	exp               bool
	padLeft, padRight int
	precision         int // exp: the mantissa digits every element shows
	expSize           int // exp: the exponent digits
}

// shown reports the indices along an axis of n elements that print.
func (p *printer) shown(n int) []int {
	if p.summarise && n > 2*printEdgeItems {
		idx := make([]int, 0, 2*printEdgeItems)
		for i := range printEdgeItems {
			idx = append(idx, i)
		}
		for i := n - printEdgeItems; i < n; i++ {
			idx = append(idx, i)
		}
		return idx
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// visible returns the buffer indices of the elements that print.
func (p *printer) visible() []int {
	var out []int
	a := p.a
	if len(a.shape) == 1 {
		for _, i := range p.shown(a.shape[0]) {
			out = append(out, a.index(i))
		}
		return out
	}
	for _, r := range p.shown(a.shape[0]) {
		for _, c := range p.shown(a.shape[1]) {
			out = append(out, a.index(r, c))
		}
	}
	return out
}

// prepare measures the visible elements, as numpy's formatters do.
func (p *printer) prepare() {
	vis := p.visible()
	switch p.a.dtype {
	case Int64:
		for _, q := range vis {
			p.intWidth = max(p.intWidth, len(strconv.FormatInt(p.a.buf.i[q], 10)))
		}
	case Float64:
		vals := make([]float64, 0, len(vis))
		for _, q := range vis {
			vals = append(vals, p.a.buf.f[q])
		}
		p.prepareFloats(vals)
	}
}

// prepareFloats is numpy's FloatingFormat.fillFormat for floatmode
// "maxprec".
func (p *printer) prepareFloats(data []float64) {
	var finite []float64
	nonFinite, negInf := false, false
	minAbs, maxAbs := math.Inf(1), 0.0
	for _, x := range data {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			nonFinite = true
			negInf = negInf || math.IsInf(x, -1)
			continue
		}
		finite = append(finite, x)
		if x != 0 {
			minAbs = min(minAbs, math.Abs(x))
			maxAbs = max(maxAbs, math.Abs(x))
		}
	}
	if maxAbs > 0 && (maxAbs >= 1e8 || minAbs < 0.0001 || maxAbs/minAbs > 1000) {
		p.exp = true
	}
	switch {
	case len(finite) == 0:
		p.padLeft, p.padRight, p.expSize = 0, 0, -1
		p.exp = false
	case p.exp:
		for _, x := range finite {
			mant, e := sciDigits(x, printPrecision)
			ip, fp, _ := strings.Cut(mant, ".")
			p.padLeft = max(p.padLeft, len(ip))
			p.precision = max(p.precision, len(fp))
			p.expSize = max(p.expSize, len(e)-1)
		}
		p.padRight = p.expSize + 2 + p.precision
	default:
		for _, x := range finite {
			ip, fp, _ := strings.Cut(posDigits(x, printPrecision), ".")
			p.padLeft = max(p.padLeft, len(ip))
			p.padRight = max(p.padRight, len(fp))
		}
		p.expSize = -1
	}
	if nonFinite {
		infLen := 3
		if negInf {
			infLen++
		}
		offset := p.padRight + 1
		p.padLeft = max(p.padLeft, 3-offset, infLen-offset)
	}
}

// posDigits returns x positionally with the fewest digits that read back
// as x, but at most prec after the point (rounded), trailing zeros
// trimmed and the point kept: "1.", "0.5", "0.33333333".
func posDigits(x float64, prec int) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if _, fp, _ := strings.Cut(s, "."); len(fp) > prec {
		s = strconv.FormatFloat(x, 'f', prec, 64)
		s = strings.TrimRight(s, "0")
	}
	if !strings.Contains(s, ".") {
		s += "."
	}
	return s
}

// sciDigits returns x in scientific notation as the mantissa ("1.5", "1.")
// and the exponent with its sign ("-05"), with the fewest digits that read
// back as x but at most prec after the point.
func sciDigits(x float64, prec int) (string, string) {
	s := strconv.FormatFloat(x, 'e', -1, 64)
	mant, e, _ := strings.Cut(s, "e")
	if _, fp, _ := strings.Cut(mant, "."); len(fp) > prec {
		s = strconv.FormatFloat(x, 'e', prec, 64)
		mant, e, _ = strings.Cut(s, "e")
		mant = strings.TrimRight(mant, "0")
	}
	if !strings.Contains(mant, ".") {
		mant += "."
	}
	return mant, e
}

// formatFloat formats one float as the layout says.
func (p *printer) formatFloat(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		s := "nan"
		if math.IsInf(x, 1) {
			s = "inf"
		} else if math.IsInf(x, -1) {
			s = "-inf"
		}
		return pad(s, p.padLeft+p.padRight+1)
	}
	if p.exp {
		mant, e := sciDigits(x, p.precision)
		ip, fp, _ := strings.Cut(mant, ".")
		fp += strings.Repeat("0", p.precision-len(fp))
		sign, digits := e[:1], e[1:]
		if len(digits) < p.expSize {
			digits = strings.Repeat("0", p.expSize-len(digits)) + digits
		}
		return pad(ip, p.padLeft) + "." + fp + "e" + sign + digits
	}
	ip, fp, _ := strings.Cut(posDigits(x, printPrecision), ".")
	return pad(ip, p.padLeft) + "." + fp + strings.Repeat(" ", p.padRight-len(fp))
}

// pad right-aligns s in width.
func pad(s string, width int) string {
	if len(s) >= width {
		return s
	}
	return strings.Repeat(" ", width-len(s)) + s
}

// element formats the element at index idx.
func (p *printer) element(idx []int) string {
	q := p.a.index(idx...)
	switch p.a.dtype {
	case Int64:
		return pad(strconv.FormatInt(p.a.buf.i[q], 10), p.intWidth)
	case Bool:
		if p.a.buf.b[q] {
			return " True"
		}
		return "False"
	}
	return p.formatFloat(p.a.buf.f[q])
}

// recurse is numpy's _formatArray: the array at index prefix idx, its
// continuation lines indented by hanging, within width columns.
func (p *printer) recurse(idx []int, hanging string, width int) string {
	axis := len(idx)
	if axis == len(p.a.shape) {
		return p.element(idx)
	}
	n := p.a.shape[axis]
	summary := p.summarise && 2*printEdgeItems < n
	leading, trailing := 0, n
	if summary {
		leading, trailing = printEdgeItems, printEdgeItems
	}
	at := func(i int) []int { return append(append([]int(nil), idx...), i) }
	var s strings.Builder
	if axis == len(p.a.shape)-1 {
		elemWidth := width - 1
		line := hanging
		extend := func(word string) {
			if len(line)+len(word) > elemWidth && len(line) > len(hanging) {
				s.WriteString(strings.TrimRight(line, " ") + "\n")
				line = hanging
			}
			line += word
		}
		for i := range leading {
			extend(p.recurse(at(i), hanging+" ", width-1))
			line += " "
		}
		if summary {
			extend("...")
			line += " "
		}
		for i := trailing; i > 1; i-- {
			extend(p.recurse(at(n-i), hanging+" ", width-1))
			line += " "
		}
		extend(p.recurse(at(n-1), hanging+" ", width-1))
		s.WriteString(line)
	} else {
		sep := strings.Repeat("\n", len(p.a.shape)-axis-1)
		for i := range leading {
			s.WriteString(hanging + p.recurse(at(i), hanging+" ", width-1) + sep)
		}
		if summary {
			s.WriteString(hanging + "..." + sep)
		}
		for i := trailing; i > 1; i-- {
			s.WriteString(hanging + p.recurse(at(n-i), hanging+" ", width-1) + sep)
		}
		s.WriteString(hanging + p.recurse(at(n-1), hanging+" ", width-1))
	}
	return "[" + s.String()[len(hanging):] + "]"
}
