// This file defines the tests of ReadNPY and ReadText. The .npy files in
// testdata/npy were written by numpy 1.24.2 (/usr/bin/python3) with:
//
//	import numpy as np
//	from numpy.lib import format as npf
//	def save(name, a, version=None):
//	    with open(name, "wb") as f:
//	        npf.write_array(f, a, version=version, allow_pickle=True)
//	m = np.array([[1.5, -2.0, 3.25], [4.0, 5.5, -6.75]])
//	save("f8.npy", m)
//	save("f8_be.npy", m.astype(">f8"))
//	save("f8_fortran.npy", np.asfortranarray(m))
//	save("f4.npy", m.astype("<f4"))
//	save("f8_v2.npy", m, version=(2, 0))
//	save("f8_v3.npy", m, version=(3, 0))
//	v = np.array([-3, -1, 0, 2, 100])
//	for t in ["<i8", ">i8", "<i4", "<i2", "|i1", "|u1", "<u2", "<u4", ">i4"]:
//	    save("int_%s.npy" % t.replace("<", "le").replace(">", "be").replace("|", ""), v.astype(t) if t[1] != "u" else np.abs(v).astype(t))
//	save("bool.npy", np.array([[True, False], [False, True], [True, True]]))
//	save("bool_fortran.npy", np.asfortranarray(np.array([[True, False, False], [True, True, False]])))
//	save("scalar.npy", np.array(7.0))
//	save("empty.npy", np.zeros((0, 3)))
//	save("cube.npy", np.zeros((2, 2, 2)))
//	save("complex.npy", np.array([1 + 2j]))
//	save("object.npy", np.array([1, "a"], dtype=object))
//	save("u8.npy", np.array([1], dtype="<u8"))

package num

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

func TestReadNPY(t *testing.T) {
	const m = "float64 (2, 3) [3ff8000000000000 c000000000000000 400a000000000000 4010000000000000 4016000000000000 c01b000000000000]"
	const ints = "int64 (5,) [-3 -1 0 2 100]"
	const uints = "int64 (5,) [3 1 0 2 100]"
	for _, test := range []struct{ file, want string }{
		{"f8.npy", m},
		{"f8_be.npy", m},
		{"f8_fortran.npy", m},
		{"f4.npy", m},
		{"f8_v2.npy", m},
		{"f8_v3.npy", m},
		{"int_lei8.npy", ints},
		{"int_bei8.npy", ints},
		{"int_lei4.npy", ints},
		{"int_bei4.npy", ints},
		{"int_lei2.npy", ints},
		{"int_i1.npy", ints},
		{"int_u1.npy", uints},
		{"int_leu2.npy", uints},
		{"int_leu4.npy", uints},
		{"bool.npy", "bool (3, 2) [true false false true true true]"},
		{"bool_fortran.npy", "bool (2, 3) [true false false true true false]"},
		{"scalar.npy", "float64 () [401c000000000000]"},
		{"empty.npy", "float64 (0, 3) []"},
	} {
		data, err := os.ReadFile(filepath.Join("testdata/npy", test.file))
		if err != nil {
			t.Fatal(err)
		}
		a, err := ReadNPY(nil, test.file, data)
		if err != nil {
			t.Errorf("ReadNPY(%s) = %v", test.file, err)
			continue
		}
		if got := contents(a); got != test.want {
			t.Errorf("ReadNPY(%s) = %s, want %s", test.file, got, test.want)
		}
	}
}

func TestReadNPYErrors(t *testing.T) {
	f8, err := os.ReadFile("testdata/npy/f8.npy")
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct{ file, want string }{
		{"cube.npy", "cube.npy: shape (2, 2, 2) has 3 dimensions; num arrays have at most 2"},
		{"complex.npy", `complex.npy: dtype "<c16" cannot be read`},
		{"object.npy", `object.npy: dtype "|O" cannot be read`},
		{"u8.npy", `u8.npy: dtype "<u8" cannot be read`},
	} {
		data, err := os.ReadFile(filepath.Join("testdata/npy", test.file))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ReadNPY(nil, test.file, data); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("ReadNPY(%s) = %v, want an error containing %q", test.file, err, test.want)
		}
	}
	for _, test := range []struct {
		name string
		data []byte
		want string
	}{
		{"short", f8[:len(f8)-1], "x.npy: shape (2, 3) of <f8 needs 48 bytes of data, the file has 47"},
		{"long", append(append([]byte{}, f8...), 0), "the file has 49"},
		{"magic", []byte("hello world, not numpy"), `x.npy: not a .npy file numpy wrote: it does not start with`},
		{"version", append([]byte("\x93NUMPY\x04\x00"), f8[8:]...), "format version 4.0"},
		{"header", f8[:20], "header of 118 bytes is longer than the file"},
		{"dict", []byte("\x93NUMPY\x01\x00\x05\x00{'a'}"), "want ':' after \"a\""},
	} {
		if _, err := ReadNPY(nil, "x.npy", test.data); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("ReadNPY(%s) = %v, want an error containing %q", test.name, err, test.want)
		}
	}
}

func TestReadNPYLimit(t *testing.T) {
	data, err := os.ReadFile("testdata/npy/f8.npy")
	if err != nil {
		t.Fatal(err)
	}
	th := &starlark.Thread{Name: "test"}
	SetLimits(th, Limits{MaxArrayBytes: 40})
	if _, err := ReadNPY(th, "f8.npy", data); err == nil || !strings.Contains(err.Error(), "f8.npy: an array of shape (2, 3) and dtype float64 takes 48 bytes, over this engine's max_array_bytes of 40") {
		t.Errorf("ReadNPY over max_array_bytes = %v, want an error naming shape and limit", err)
	}
}

func TestReadText(t *testing.T) {
	for _, test := range []struct {
		text string
		opts TextOptions
		want string
	}{
		{"1 2 3\n4 5 6\n", TextOptions{}, "float64 (2, 3) [3ff0000000000000 4000000000000000 4008000000000000 4010000000000000 4014000000000000 4018000000000000]"},
		{"# header\n1\t2\n\n3  4 # note\r\n", TextOptions{DType: Int64}, "int64 (2, 2) [1 2 3 4]"},
		{"a,b,c\n1,2,3\n4,5,6\n", TextOptions{Delimiter: ",", SkipRows: 1, UseCols: []int{2, 0}, DType: Int64}, "int64 (2, 2) [3 1 6 4]"},
		{"1,2\n3,4\n", TextOptions{Delimiter: ",", UseCols: []int{-1}, DType: Int64}, "int64 (2,) [2 4]"},
		{"1 2 3\n", TextOptions{DType: Int64}, "int64 (3,) [1 2 3]"},
		{"5\n", TextOptions{DType: Int64}, "int64 () [5]"},
		{"", TextOptions{}, "float64 (0,) []"},
		{"1, 2.5e3, -inf\n", TextOptions{Delimiter: ","}, "float64 (3,) [3ff0000000000000 40a3880000000000 fff0000000000000]"},
	} {
		a, err := ReadText(nil, "t.csv", []byte(test.text), test.opts)
		if err != nil {
			t.Errorf("ReadText(%q, %+v) = %v", test.text, test.opts, err)
			continue
		}
		if got := contents(a); got != test.want {
			t.Errorf("ReadText(%q, %+v) = %s, want %s", test.text, test.opts, got, test.want)
		}
	}
}

func TestReadTextErrors(t *testing.T) {
	for _, test := range []struct {
		text string
		opts TextOptions
		want string
	}{
		{"x,y\n1,2\n", TextOptions{Delimiter: ","}, `t.csv:1:1: cannot read "x" as a number`},
		{"1,2\n3, oops\n", TextOptions{Delimiter: ","}, `t.csv:2:4: cannot read "oops" as a number`},
		{"1 2\n3\n", TextOptions{}, "t.csv:2: 1 columns, but the lines before have 2"},
		{"1 2.5\n", TextOptions{DType: Int64}, `t.csv:1:3: cannot read "2.5" as an int64`},
		{"1 2\n", TextOptions{UseCols: []int{5}}, "t.csv:1: usecols asks for column 5, but the line has 2 columns"},
	} {
		if _, err := ReadText(nil, "t.csv", []byte(test.text), test.opts); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("ReadText(%q) = %v, want an error containing %q", test.text, err, test.want)
		}
	}
}
