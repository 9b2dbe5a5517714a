// This file defines the header of the parts of a message larger than one
// NATS message; package transport sends and reassembles them.

package wire

import (
	"fmt"
	"strconv"
	"strings"
)

// Header names used on parts of a chunked message.
const (
	// HeaderPart is "stream part total size" on every part of a chunked message.
	HeaderPart = "Pirun-Part"
)

// PartHeader formats the HeaderPart value.
func PartHeader(stream string, part, total int, size int) string {
	return stream + " " + strconv.Itoa(part) + " " + strconv.Itoa(total) + " " + strconv.Itoa(size)
}

// ParsePartHeader parses a HeaderPart value.
func ParsePartHeader(h string) (stream string, part, total, size int, err error) {
	f := strings.Fields(h)
	if len(f) != 4 {
		return "", 0, 0, 0, fmt.Errorf("malformed %s header %q", HeaderPart, h)
	}
	var nums [3]int
	for i, s := range f[1:] {
		if nums[i], err = strconv.Atoi(s); err != nil || nums[i] < 0 {
			return "", 0, 0, 0, fmt.Errorf("malformed %s header %q", HeaderPart, h)
		}
	}
	part, total, size = nums[0], nums[1], nums[2]
	if total == 0 || part >= total {
		return "", 0, 0, 0, fmt.Errorf("malformed %s header %q: part %d of %d", HeaderPart, h, part, total)
	}
	return f[0], part, total, size, nil
}

// Stream returns the stream id of a part header, for acknowledgements.
func Stream(header string) string {
	s, _, _ := strings.Cut(header, " ")
	return s
}
