// This file defines the tests of Rows and ConcatRows.

package num

import (
	"strings"
	"testing"
)

func TestRowsConcat(t *testing.T) {
	m, _ := FromInt64s([]int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 5, 2)
	var parts []*Array
	for _, r := range [][2]int{{0, 2}, {2, 4}, {4, 5}, {5, 5}} {
		p, err := m.Rows(r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	if got, want := contents(parts[1]), "int64 (2, 2) [4 5 6 7]"; got != want {
		t.Errorf("m.Rows(2, 4) = %s, want %s", got, want)
	}
	if got, want := contents(parts[3]), "int64 (0, 2) []"; got != want {
		t.Errorf("m.Rows(5, 5) = %s, want %s", got, want)
	}
	back, err := ConcatRows(parts)
	if err != nil || contents(back) != contents(m) {
		t.Errorf("ConcatRows(m split in 4) = %v, %v, want %s", back, err, contents(m))
	}
	f, _ := FromFloat64s([]float64{0.5}, 1)
	b, _ := FromBools([]bool{true}, 1)
	i, _ := FromInt64s([]int64{2})
	mixed, err := ConcatRows([]*Array{b, i, f})
	if err != nil || contents(mixed) != "float64 (3,) [3ff0000000000000 4000000000000000 3fe0000000000000]" {
		t.Errorf("ConcatRows(bool, int64, float64) = %v, %v, want float64 [1 2 0.5]", mixed, err)
	}
	if _, err := ConcatRows([]*Array{m, i}); err == nil || !strings.Contains(err.Error(), "cannot concatenate arrays of shapes (5, 2) and (1,) along axis 0 (array 1)") {
		t.Errorf("ConcatRows((5, 2), (1,)) = %v, want an error naming both shapes", err)
	}
	if _, err := m.Rows(3, 6); err == nil || !strings.Contains(err.Error(), "rows [3:6] of an array of shape (5, 2)") {
		t.Errorf("m.Rows(3, 6) = %v, want a range error", err)
	}
}
