// This file defines how the REPL reads its input: lines from the line
// editor or from a pipe, and the chunker that groups them into chunks the
// way Python's prompt does (brackets and blocks continue, a blank line
// ends a block), plus the pipe rule that an unindented line ends one.

package repl

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/chzyer/readline"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// errPromptInterrupt is Ctrl-C typed at the prompt: the partial chunk is
// dropped and a new prompt shown.
var errPromptInterrupt = errors.New("interrupted at the prompt")

// lineSource yields input lines without their line ending.
type lineSource interface {
	// readLine returns the next line; io.EOF at the end of the input,
	// errPromptInterrupt or ErrInterrupted for Ctrl-C while waiting.
	readLine(ctx context.Context, prompt string) (string, error)
	// close stops reading; a readLine in progress returns io.EOF. It is
	// idempotent and safe for concurrent use.
	close() error
}

// editor is the terminal's line editor: history, completion, and output
// written above the prompt while it waits.
type editor struct {
	rl        *readline.Instance
	completer *completer
	once      sync.Once
}

func newEditor(cfg Config, c *completer) (*editor, error) {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:          ">>> ",
		HistoryFile:     cfg.History,
		HistoryLimit:    1000,
		AutoComplete:    c,
		InterruptPrompt: "^C",
		EOFPrompt:       "\n",
		Stdout:          cfg.Out,
		Stderr:          cfg.Err,
		FuncIsTerminal:  func() bool { return true },
	})
	if err != nil {
		return nil, err
	}
	return &editor{rl: rl, completer: c}, nil
}

func (e *editor) stdout() io.Writer { return e.rl.Stdout() }
func (e *editor) stderr() io.Writer { return e.rl.Stderr() }

func (e *editor) readLine(_ context.Context, prompt string) (string, error) {
	e.rl.SetPrompt(prompt)
	line, err := e.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errPromptInterrupt
	}
	return line, err
}

func (e *editor) close() error {
	var err error
	e.once.Do(func() { err = e.rl.Close() })
	return err
}

func (e *editor) setScope(scope starlark.StringDict) { e.completer.setScope(scope) }

// pipeLines reads lines from a pipe or a file in a goroutine, so that a
// wait for input can end on Ctrl-C or when the session's context is done.
type pipeLines struct {
	in    io.Reader
	idle  <-chan struct{}
	start sync.Once
	lines chan string
	err   error // the read error, set before lines is closed
	done  chan struct{}
	stop  sync.Once
}

func newPipeLines(in io.Reader, idle <-chan struct{}) *pipeLines {
	return &pipeLines{in: in, idle: idle, lines: make(chan string), done: make(chan struct{})}
}

// run sends every line of the input, then closes p.lines.
func (p *pipeLines) run() {
	defer close(p.lines)
	br := bufio.NewReader(p.in)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			select {
			case p.lines <- line:
			case <-p.done:
				return
			}
		}
		if err != nil {
			p.err = err
			return
		}
	}
}

func (p *pipeLines) readLine(ctx context.Context, _ string) (string, error) {
	p.start.Do(func() { go p.run() })
	select {
	case line, ok := <-p.lines:
		if !ok {
			if p.err == nil || errors.Is(p.err, io.EOF) {
				return "", io.EOF
			}
			return "", p.err
		}
		return line, nil
	case <-p.idle:
		return "", ErrInterrupted
	case <-p.done:
		return "", io.EOF
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

func (p *pipeLines) close() error {
	p.stop.Do(func() { close(p.done) })
	return nil
}

// chunkReader groups lines into chunks.
type chunkReader struct {
	src      lineSource
	terminal bool
	back     string // a line read ahead: the start of the next chunk
	hasBack  bool
	eof      bool
}

// line returns the line read ahead, or the next line of the source.
func (c *chunkReader) line(ctx context.Context, prompt string) (string, error) {
	if c.hasBack {
		c.hasBack = false
		return c.back, nil
	}
	if c.eof {
		return "", io.EOF
	}
	line, err := c.src.readLine(ctx, prompt)
	if errors.Is(err, io.EOF) {
		c.eof = true
	}
	return line, err
}

// read returns the next chunk: Starlark text, a "%magic" line, or a
// "%%magic" line followed by its cell (the lines up to a blank line).
func (c *chunkReader) read(ctx context.Context, ps1, ps2 string) (string, error) {
	var b chunkBuilder
	for {
		prompt := ps1
		if len(b.lines) > 0 {
			prompt = ps2
		}
		line, err := c.line(ctx, prompt)
		if errors.Is(err, io.EOF) && len(b.lines) > 0 {
			return b.text(), nil
		}
		if err != nil {
			return "", err
		}
		if len(b.lines) == 0 {
			switch {
			case isBlank(line):
				continue
			case strings.HasPrefix(line, "%%"):
				return c.cell(ctx, line, ps2)
			case strings.HasPrefix(line, "%"):
				return line, nil
			}
		}
		done, next := b.add(line, c.terminal)
		if next {
			c.back, c.hasBack = line, true
		}
		if done {
			return b.text(), nil
		}
	}
}

// cell reads the body of a %% magic: the lines up to a blank line.
func (c *chunkReader) cell(ctx context.Context, head, ps2 string) (string, error) {
	lines := []string{head}
	for {
		line, err := c.line(ctx, ps2)
		if errors.Is(err, io.EOF) || (err == nil && isBlank(line)) {
			return strings.Join(lines, "\n") + "\n", nil
		}
		if err != nil {
			return "", err
		}
		lines = append(lines, line)
	}
}

// chunkBuilder is a chunk being read.
type chunkBuilder struct {
	lines []string
	held  []string // blank lines inside an open compound statement (piped input)
	open  bool     // the lines form a compound statement that may go on
}

func (b *chunkBuilder) text() string { return strings.Join(b.lines, "\n") + "\n" }

// add adds a line. It reports whether the chunk is complete, and whether
// the line is not part of it but starts the next chunk.
func (b *chunkBuilder) add(line string, terminal bool) (done, next bool) {
	blank := isBlank(line)
	if b.open {
		switch {
		case blank && terminal:
			return true, false
		case blank:
			b.held = append(b.held, line)
			return false, false
		case startsChunk(line):
			return true, true
		}
		b.lines = append(b.lines, b.held...)
		b.held = nil
	}
	b.lines = append(b.lines, line)
	st := classify(b.text(), terminal, blank)
	if st == chunkComplete && blank {
		b.lines = b.lines[:len(b.lines)-1] // the blank line that ended it
	}
	b.open = st == chunkOpen
	return st == chunkComplete, false
}

// chunkState says whether some lines form a complete chunk.
type chunkState int

const (
	chunkComplete   chunkState = iota // run it (it may hold a syntax error to report)
	chunkIncomplete                   // inside brackets, a string or a block header: read more
	chunkOpen                         // a compound statement that the next lines may continue
)

// classify parses text, whose last line is blank when blank. At the
// terminal, a blank line ends a block even where a body is still expected
// and a syntax error is shown at once; in piped input, the rest of a
// compound statement with a syntax error goes with it, so the error is
// shown once.
func classify(text string, terminal, blank bool) chunkState {
	_, err := replOptions().Parse("<stdin>", text, 0)
	compound := isCompound(text)
	switch {
	case err == nil && compound:
		return chunkOpen
	case err == nil:
		return chunkComplete
	case incomplete(err, text):
		if terminal && blank && strings.Contains(err.Error(), "want indent") {
			return chunkComplete
		}
		return chunkIncomplete
	case compound && !terminal:
		return chunkOpen
	}
	return chunkComplete
}

// incomplete reports whether a parse error is at the end of the text:
// more lines could mend it.
func incomplete(err error, text string) bool {
	var se syntax.Error
	if !errors.As(err, &se) {
		return false
	}
	return strings.Contains(se.Msg, "unexpected EOF") || int(se.Pos.Line) > strings.Count(text, "\n")
}

// isCompound reports whether text starts with a compound statement.
func isCompound(text string) bool {
	switch firstWord(text) {
	case "def", "if", "for", "while":
		return true
	}
	return false
}

// startsChunk reports whether a line ends an open compound statement: it
// is unindented, not a comment, and does not continue an if (else, elif).
func startsChunk(line string) bool {
	if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '#' {
		return false
	}
	switch firstWord(line) {
	case "else", "elif":
		return false
	}
	return true
}

// firstWord returns the identifier that text starts with (after spaces).
func firstWord(text string) string {
	text = strings.TrimLeft(text, " \t")
	end := strings.IndexFunc(text, func(r rune) bool { return !isIdentRune(r) })
	if end < 0 {
		return text
	}
	return text[:end]
}

func isIdentRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > 0x7f
}

func isBlank(line string) bool { return strings.TrimSpace(line) == "" }
