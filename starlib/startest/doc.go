// Package startest runs Starlark test files written in go.starlark.net's
// chunked format, in pirun's dialect.
//
// A test file is a sequence of chunks separated by lines that are exactly
// "---". Each chunk runs as its own module, on its own thread, and may
// load("assert.star", "assert") for go.starlark.net's assertions. A line
// whose text contains "###" expects an error: the rest of the line is a
// regular expression, Go-quoted ("…" or `…`) or bare, and executing the
// chunk must fail with a message that matches it, at that line. An
// expectation that is not met, and any other error, is reported with the
// file name and line.
//
// Comments of the form "# pirun:name=value" or "# pirun:name>=value",
// anywhere in the file, are directives for the driver that runs the file
// (see [Directives]); for example "# pirun:engines>=4" skips the file on a
// cluster of fewer engines, and "# pirun:timeout=60s" bounds its run time.
//
// The package reimplements go.starlark.net's internal chunkedfile without
// linking package testing: reports go to a [Reporter], which *testing.T
// satisfies.
//
//	for _, file := range files {
//		t.Run(file, func(t *testing.T) {
//			src, err := os.ReadFile(file)
//			…
//			startest.RunFile(t, file, src, startest.Options{Predeclared: predeclared})
//		})
//	}
package startest
