// This file defines files.read_array and files.write_array: numpy's .npy
// files and text of numbers (numpy.loadtxt), as num arrays.

package files

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/num"
)

// readArray is files.read_array:
//
//	def read_array(path, delimiter=None, skiprows=0, usecols=None, dtype=None):
//	    """Reads the file path in the read folder (data_dir on engines) into an ndarray.
//
//	    A .npy file (numpy.save's format, versions 1.0 to 3.0) gives its
//	    array: float64, int64 and bool as they are, float32 as float64,
//	    smaller ints as int64, 1-D or 2-D (or 0-d), in either byte order
//	    and either memory order. Any other file is text of numbers, read
//	    as numpy.loadtxt does: one row per line, cells split at delimiter
//	    (None: runs of whitespace), the first skiprows lines skipped,
//	    '#' comments and blank lines ignored, only the columns usecols
//	    lists (an int or a list of ints) kept, as dtype ("float64" by
//	    default, or "int64"); one row or one column gives a 1-D array.
//	    The text options are an error for a .npy file.
//	    """
func (m *module) readArray(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		p                string
		delimiter, dtype starlark.Value = starlark.None, starlark.None
		usecols          starlark.Value = starlark.None
		skiprows         int
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &p, "delimiter?", &delimiter,
		"skiprows?", &skiprows, "usecols?", &usecols, "dtype?", &dtype); err != nil {
		return nil, err
	}
	data, err := m.readFile(thread, b, p)
	if err != nil {
		return nil, err
	}
	textArgs := delimiter != starlark.None || skiprows != 0 || usecols != starlark.None || dtype != starlark.None
	if num.IsNPY(data) || strings.HasSuffix(p, ".npy") {
		if textArgs {
			return nil, fmt.Errorf("%s: %s is a .npy file: delimiter, skiprows, usecols and dtype apply to text files only", b.Name(), p)
		}
		a, err := num.ReadNPY(thread, p, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return a, nil
	}
	opts, err := textOptions(b, delimiter, skiprows, usecols, dtype)
	if err != nil {
		return nil, err
	}
	a, err := num.ReadText(thread, p, data, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return a, nil
}

// textOptions checks read_array's text arguments.
func textOptions(b *starlark.Builtin, delimiter starlark.Value, skiprows int, usecols, dtype starlark.Value) (num.TextOptions, error) {
	var opts num.TextOptions
	if skiprows < 0 {
		return opts, fmt.Errorf("%s: skiprows is %d; want 0 or more lines to skip", b.Name(), skiprows)
	}
	opts.SkipRows = skiprows
	switch d := delimiter.(type) {
	case starlark.NoneType:
	case starlark.String:
		if d == "" {
			return opts, fmt.Errorf("%s: delimiter is empty; use None for runs of whitespace", b.Name())
		}
		opts.Delimiter = string(d)
	default:
		return opts, fmt.Errorf("%s: delimiter is a %s; want a string such as \",\" or None", b.Name(), delimiter.Type())
	}
	switch u := usecols.(type) {
	case starlark.NoneType:
	case starlark.Int:
		c, err := starlark.AsInt32(u)
		if err != nil {
			return opts, fmt.Errorf("%s: usecols: %v", b.Name(), err)
		}
		opts.UseCols = []int{c}
	case starlark.Indexable:
		for i := range u.Len() {
			c, err := starlark.AsInt32(u.Index(i))
			if err != nil {
				return opts, fmt.Errorf("%s: usecols[%d] is a %s; want column numbers (ints, from 0)", b.Name(), i, u.Index(i).Type())
			}
			opts.UseCols = append(opts.UseCols, c)
		}
		if len(opts.UseCols) == 0 {
			return opts, fmt.Errorf("%s: usecols is empty; list the columns to read, or use None for all", b.Name())
		}
	default:
		return opts, fmt.Errorf("%s: usecols is a %s; want an int or a list of ints", b.Name(), usecols.Type())
	}
	if s, ok := dtype.(starlark.String); ok {
		dt, err := num.ParseDType(string(s))
		if err != nil || dt == num.Bool {
			return opts, fmt.Errorf("%s: dtype %q; text is read as \"float64\" or \"int64\"", b.Name(), string(s))
		}
		opts.DType = dt
	} else if dtype != starlark.None {
		return opts, fmt.Errorf("%s: dtype is a %s; want \"float64\" or \"int64\"", b.Name(), dtype.Type())
	}
	return opts, nil
}

// writeArray is files.write_array:
//
//	def write_array(path, a):
//	    """Writes a (a num array, or a list numpy.array would take) to
//	    the file path in .npy format, as numpy.save does: ".npy" is
//	    added to a path without it, and numpy.load reads the file back
//	    with a's dtype and shape. Atomic, as files.write."""
func (m *module) writeArray(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p string
	var v starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &p, "a", &v); err != nil {
		return nil, err
	}
	a, ok := v.(*num.Array)
	if !ok {
		switch v.(type) {
		case *starlark.List, starlark.Tuple, starlark.Int, starlark.Float, starlark.Bool:
			conv, err := starlark.Call(thread, num.Module.Members["array"], starlark.Tuple{v}, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", b.Name(), err)
			}
			a = conv.(*num.Array)
		default:
			return nil, fmt.Errorf("%s: a is a %s; want a num array (or a list of numbers)", b.Name(), v.Type())
		}
	}
	if p == "" || strings.HasSuffix(p, "/") || strings.HasSuffix(p, "\\") {
		return nil, fmt.Errorf("%s: the path %q names no file; name one, e.g. \"result.npy\"", b.Name(), p)
	}
	if !strings.HasSuffix(p, ".npy") {
		p += ".npy"
	}
	return starlark.None, m.writeFile(thread, b, p, num.WriteNPY(a))
}
