// This file defines keyLines, which finds the line of a key in a file for
// the problems that need one.

package conf

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// probeBudget bounds the bytes that finding lines may scan in one file:
// the TOML decoder scans the whole file to place one key, so a huge file
// with many problems would otherwise take quadratic time.
const probeBudget = 16 << 20

// keyLines finds the lines of keys lazily, only for keys with problems.
// The TOML decoder reports a key's position only in a ParseError, so a
// key's value is decoded into lineProbe, which fails on purpose. It is used
// by one goroutine.
type keyLines struct {
	md     *toml.MetaData
	src    []byte
	values map[string]toml.Primitive // shown key → value, outside arrays of tables
	fixed  map[string]int            // shown key → line, for elements of arrays of tables
	cache  map[string]int
	budget int
}

// newKeyLines returns a keyLines for the file src decoded as md.
func newKeyLines(md *toml.MetaData, src []byte) *keyLines {
	return &keyLines{md: md, src: src, values: map[string]toml.Primitive{},
		fixed: map[string]int{}, cache: map[string]int{}, budget: probeBudget}
}

// value records the value of the key shown as key.
func (l *keyLines) value(key string, p toml.Primitive) { l.values[key] = p }

// elements records the lines of the n elements of the array of tables key:
// the TOML decoder keeps one position for all of them, so element i's line
// is that of the i-th "[[key]]" header when the headers add up to n, or the
// line of key itself for an inline array.
func (l *keyLines) elements(key string, n int) {
	headers := headerLines(l.src, key)
	line := 0
	if len(headers) == 0 {
		line = l.line(key)
	}
	for i := range n {
		if len(headers) == n {
			line = headers[i]
		}
		l.fixed[key+"["+strconv.Itoa(i)+"]"] = line
	}
}

// line returns the line of the key shown as key, or 0 when unknown.
func (l *keyLines) line(key string) int {
	if n, ok := l.fixed[key]; ok {
		return n
	}
	if n, ok := l.cache[key]; ok {
		return n
	}
	p, ok := l.values[key]
	if !ok || l.budget < len(l.src) {
		return 0
	}
	l.budget -= len(l.src)
	n := 0
	var pe toml.ParseError
	if err := l.md.PrimitiveDecode(p, &lineProbe{}); errors.As(err, &pe) {
		n = pe.Position.Line
	}
	l.cache[key] = n
	return n
}

// lineOf returns the line of key, or of its nearest parent with a line
// (a missing key is reported at its table), but not across an element of an
// array of tables.
func (l *keyLines) lineOf(key string) int {
	for k := key; k != "" && l != nil; {
		if n := l.line(k); n > 0 {
			return n
		}
		if k != key && strings.HasSuffix(k, "]") {
			break
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// place gives each problem its line and sorts them by line.
func (l *keyLines) place(ps []Problem) []Problem {
	for i := range ps {
		ps[i].Line = l.lineOf(ps[i].Key)
	}
	return sortByLine(ps)
}

// errProbe is returned by lineProbe.
var errProbe = errors.New("position probe")

// lineProbe is a toml.Unmarshaler that always fails, so that the decoder
// returns a ParseError carrying the position of the key being decoded.
type lineProbe struct{}

// UnmarshalTOML implements toml.Unmarshaler.
func (lineProbe) UnmarshalTOML(any) error { return errProbe }

// headerLines returns the lines of the "[[key]]" headers in src.
func headerLines(src []byte, key string) []int {
	var lines []int
	for i, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		end := strings.Index(line, "]]")
		if strings.HasPrefix(line, "[[") && end > 0 && strings.TrimSpace(line[2:end]) == key {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// sortByLine orders problems by line, those without a line last, keeping
// the order of problems on one line.
func sortByLine(ps []Problem) []Problem {
	sort.SliceStable(ps, func(i, j int) bool {
		li, lj := ps[i].Line, ps[j].Line
		return li != 0 && (lj == 0 || li < lj)
	})
	return ps
}
