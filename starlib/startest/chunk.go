// This file defines the parsing of a test file into chunks, expected
// errors and directives.

package startest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A chunk is one "---"-separated part of a test file.
type chunk struct {
	src  []byte                 // the chunk's lines
	line int                    // the file line of its first line
	want map[int]*regexp.Regexp // expected errors by file line
}

// A file is a parsed test file.
type file struct {
	chunks []*chunk
	dirs   Directives
}

// Directives holds the "# pirun:" directives of a test file. A directive
// "# pirun:name=value" sets d[name] = value, and "# pirun:name>=value" sets
// d[name+">="] = value. Drivers give the names their meaning; the parser
// checks the ones listed with [Directives.MinEngines] and
// [Directives.Timeout]. A Directives is a plain map: safe for concurrent
// reads.
type Directives map[string]string

// MinEngines returns the n of "# pirun:engines>=n", the number of engines
// the file needs, or 0 if the file has no such directive.
func (d Directives) MinEngines() int {
	n, err := strconv.Atoi(d["engines>="])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// Timeout returns the duration of "# pirun:timeout=60s", the time the file
// may run, or 0 if the file has no such directive.
func (d Directives) Timeout() time.Duration {
	t, err := time.ParseDuration(d["timeout"])
	if err != nil || t < 0 {
		return 0
	}
	return t
}

// directivePrefix starts a directive line (after leading spaces).
const directivePrefix = "# pirun:"

// identifier matches a directive name.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// ParseDirectives returns the directives of the test file src, or an
// error listing every malformed, duplicated or invalid directive as
// filename:line: problem. It is safe for concurrent use.
func ParseDirectives(filename string, src []byte) (Directives, error) {
	d := Directives{}
	var errs []error
	for i, line := range strings.Split(string(src), "\n") {
		if err := d.parseLine(line); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", filename, i+1, err))
		}
	}
	return d, errors.Join(errs...)
}

// parseLine adds the directive on line, if any, to d.
func (d Directives) parseLine(line string) error {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), directivePrefix)
	if !ok {
		return nil
	}
	i := strings.Index(rest, "=")
	if i < 0 {
		return fmt.Errorf("directive %q: want %sname=value or %sname>=value", rest, directivePrefix, directivePrefix)
	}
	name, value := strings.TrimSpace(rest[:i]), strings.TrimSpace(rest[i+1:])
	key := name
	if n, ok := strings.CutSuffix(name, ">"); ok {
		name, key = strings.TrimSpace(n), strings.TrimSpace(n)+">="
	}
	if !identifier.MatchString(name) {
		return fmt.Errorf("directive %q: bad name %q", rest, name)
	}
	if _, dup := d[key]; dup {
		return fmt.Errorf("directive %q: %s is already set", rest, key)
	}
	if err := checkDirective(key, value); err != nil {
		return fmt.Errorf("directive %q: %v", rest, err)
	}
	d[key] = value
	return nil
}

// checkDirective validates the directives that this package interprets.
func checkDirective(key, value string) error {
	switch key {
	case "engines>=":
		if n, err := strconv.Atoi(value); err != nil || n < 1 {
			return fmt.Errorf("want a positive number of engines")
		}
	case "engines":
		return fmt.Errorf("want engines>=N")
	case "timeout":
		if t, err := time.ParseDuration(value); err != nil || t <= 0 {
			return fmt.Errorf("want a positive duration such as 60s")
		}
	}
	return nil
}

// parse splits src into chunks, reading the expected errors and the
// directives. The error lists every problem found.
func parse(filename string, src []byte) (*file, error) {
	f := &file{dirs: Directives{}}
	var errs []error
	c := &chunk{line: 1, want: map[int]*regexp.Regexp{}}
	var body []string
	for i, line := range strings.Split(string(src), "\n") {
		lineno := i + 1
		if strings.TrimSuffix(line, "\r") == "---" {
			c.src = []byte(strings.Join(body, "\n"))
			f.chunks = append(f.chunks, c)
			c, body = &chunk{line: lineno + 1, want: map[int]*regexp.Regexp{}}, nil
			continue
		}
		body = append(body, line)
		if err := f.dirs.parseLine(line); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", filename, lineno, err))
		}
		if err := c.parseExpectation(lineno, line); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", filename, lineno, err))
		}
	}
	c.src = []byte(strings.Join(body, "\n"))
	f.chunks = append(f.chunks, c)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// parseExpectation records the expected error on line, if any.
func (c *chunk) parseExpectation(lineno int, line string) error {
	_, after, ok := strings.Cut(line, "###")
	if !ok {
		return nil
	}
	pattern := strings.TrimSpace(after)
	if strings.HasPrefix(pattern, `"`) || strings.HasPrefix(pattern, "`") {
		p, err := strconv.Unquote(pattern)
		if err != nil {
			return fmt.Errorf("expected error %s: not a Go-quoted string", pattern)
		}
		pattern = p
	}
	if pattern == "" {
		return fmt.Errorf("expected error: empty pattern after ###")
	}
	rx, err := regexp.Compile(pattern)
	if err != nil {
		return fmt.Errorf("expected error: %v", err)
	}
	c.want[lineno] = rx
	return nil
}
