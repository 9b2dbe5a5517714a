// This file defines Duration and Size, the "30s" and "8MiB" values of pirun's
// TOML files.

package conf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in TOML as a Go duration string:
// "30s", "1m30s", "250ms", or "0" (an integer 0 is accepted too). Negative
// durations are rejected. Convert it with time.Duration(d). It is a plain
// value, safe to copy and to share.
type Duration time.Duration

// String returns d in Go's duration syntax, such as "1m30s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. Its errors say what was
// expected and what was found, ready to follow a key in a [Problem].
func (d *Duration) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	v, err := time.ParseDuration(s)
	switch {
	case err != nil && isDigits(s):
		return fmt.Errorf("expected a duration with a unit such as \"%ss\", got %s", s, s)
	case err != nil:
		return fmt.Errorf("expected a duration such as \"30s\", \"1m30s\" or \"250ms\", got %q", string(text))
	case v < 0:
		return fmt.Errorf("expected a duration of 0 or more, got %q", string(text))
	}
	*d = Duration(v)
	return nil
}

// Size is a number of bytes, written in TOML as an integer of bytes or as a
// string with a unit: "8MiB", "512 KiB", "10MB". Binary units (KiB, MiB, GiB,
// TiB) count in 1024s, decimal units (KB, MB, GB, TB) in 1000s; units are
// case-insensitive and B means bytes. It is a plain value, safe to copy and
// to share.
type Size int64

// Common sizes.
const (
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
)

// sizeUnit is one unit that Size understands.
type sizeUnit struct {
	name string
	mult int64
}

// sizeUnits lists Size's units, binary ones largest first (String uses that
// order to pick the largest exact unit).
func sizeUnits() []sizeUnit {
	return []sizeUnit{
		{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
		{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
	}
}

// String returns s with the largest binary unit that divides it exactly,
// such as "8MiB", or in bytes, such as "1000B".
func (s Size) String() string {
	for _, u := range sizeUnits()[:4] {
		if s != 0 && int64(s)%u.mult == 0 {
			return strconv.FormatInt(int64(s)/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// MarshalText implements encoding.TextMarshaler.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler. Its errors say what was
// expected and what was found, ready to follow a key in a [Problem].
func (s *Size) UnmarshalText(text []byte) error {
	v, ok := parseSize(strings.TrimSpace(string(text)))
	if !ok {
		return fmt.Errorf("expected a size such as \"8MiB\", \"512KiB\" or a number of bytes, got %q", string(text))
	}
	*s = Size(v)
	return nil
}

// parseSize parses digits followed by an optional unit.
func parseSize(s string) (int64, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, false
	}
	unit := strings.TrimSpace(s[i:])
	if unit == "" {
		return n, true
	}
	for _, u := range sizeUnits() {
		if strings.EqualFold(unit, u.name) {
			return n * u.mult, n <= math.MaxInt64/u.mult
		}
	}
	return 0, false
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
