// This file defines ReadText, numpy.loadtxt for CSV and whitespace
// separated text of numbers (files.read_array on engines).

package num

import (
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// TextOptions are numpy.loadtxt's arguments that ReadText takes.
type TextOptions struct {
	// Delimiter separates cells; "" means runs of whitespace.
	Delimiter string
	// SkipRows is the number of lines skipped first (headers).
	SkipRows int
	// UseCols lists the columns read, in that order (negative counts from
	// the end); nil means all.
	UseCols []int
	// Comments starts a comment running to the end of the line; "" means
	// "#". Lines that are empty after removing it are skipped.
	Comments string
	// DType is the array's dtype: Float64 (numpy's default) or Int64.
	DType DType
}

// ReadText reads the rows of numbers in data, as numpy.loadtxt does, into
// a new array charged to thread's limits (nil: none): 2-D with one row
// per line, squeezed to 1-D when there is one row or one column, to 0-d for one
// number (numpy's ndmin=0). Errors start with name:line:column.
func ReadText(thread *starlark.Thread, name string, data []byte, opts TextOptions) (*Array, error) {
	if opts.Comments == "" {
		opts.Comments = "#"
	}
	var vals []float64
	var ints []int64
	rows, cols := 0, -1
	lines := strings.Split(string(data), "\n")
	for ln := opts.SkipRows; ln < len(lines); ln++ {
		line := strings.TrimSuffix(lines[ln], "\r")
		if k := strings.Index(line, opts.Comments); k >= 0 {
			line = line[:k]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		cells, starts := splitCells(line, opts.Delimiter)
		picked, err := pickCols(cells, opts.UseCols)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, ln+1, err)
		}
		if cols >= 0 && len(picked) != cols {
			return nil, fmt.Errorf("%s:%d: %d columns, but the lines before have %d: every row needs the same number of numbers", name, ln+1, len(picked), cols)
		}
		cols = len(picked)
		for _, c := range picked {
			cell := strings.TrimSpace(cells[c])
			if opts.DType == Int64 {
				x, err := strconv.ParseInt(cell, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("%s:%d:%d: cannot read %q as an int64 (use dtype=\"float64\" for decimals)", name, ln+1, starts[c]+1, cell)
				}
				ints = append(ints, x)
				continue
			}
			x, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d:%d: cannot read %q as a number (skip header lines with skiprows=, pick columns with usecols=)", name, ln+1, starts[c]+1, cell)
			}
			vals = append(vals, x)
		}
		rows++
		if rows%4096 == 0 {
			if err := work(thread, 4096*cols); err != nil {
				return nil, err
			}
		}
	}
	shape := []int{rows, max(cols, 0)}
	switch {
	case rows == 0:
		shape = []int{0}
	case rows == 1 && cols == 1:
		shape = []int{}
	case rows == 1 || cols == 1:
		shape = []int{rows * cols}
	}
	a, err := alloc(thread, opts.DType, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if opts.DType == Int64 {
		copy(a.buf.i, ints)
	} else {
		copy(a.buf.f, vals)
	}
	return a, nil
}

// splitCells splits line at delim (runs of whitespace when ""), and
// returns the cells and the byte column at which each starts.
func splitCells(line, delim string) (cells []string, starts []int) {
	if delim == "" {
		i := 0
		for i < len(line) {
			for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
				i++
			}
			if i == len(line) {
				break
			}
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' {
				j++
			}
			cells, starts = append(cells, line[i:j]), append(starts, i)
			i = j
		}
		return cells, starts
	}
	at := 0
	for _, c := range strings.Split(line, delim) {
		lead := len(c) - len(strings.TrimLeft(c, " \t"))
		cells, starts = append(cells, c), append(starts, at+lead)
		at += len(c) + len(delim)
	}
	return cells, starts
}

// pickCols returns the indexes of cells that usecols selects.
func pickCols(cells []string, usecols []int) ([]int, error) {
	if usecols == nil {
		idx := make([]int, len(cells))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	idx := make([]int, len(usecols))
	for i, c := range usecols {
		if c < 0 {
			c += len(cells)
		}
		if c < 0 || c >= len(cells) {
			return nil, fmt.Errorf("usecols asks for column %d, but the line has %d columns (numbered from 0)", usecols[i], len(cells))
		}
		idx[i] = c
	}
	return idx, nil
}
