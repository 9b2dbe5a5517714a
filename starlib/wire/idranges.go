// This file defines IDRanges, how engine ids read in messages.

package wire

import (
	"fmt"
	"strconv"
	"strings"
)

// IDRanges renders sorted engine ids compactly, runs as ranges: "0-3, 7".
func IDRanges(ids []int) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		} else {
			parts = append(parts, strconv.Itoa(ids[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
