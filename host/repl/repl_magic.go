// This file defines the REPL's magics: %px and %%px (code on the
// engines, with each engine's output and value shown after), %autopx,
// %pxresult, %engines and %help.

package repl

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// magics lists the magics with their arguments and help.
var magics = []struct{ name, args, help string }{
	{"%px", "[--targets T] [--noblock] [--stream] CODE", "run CODE in each engine's namespace; show each engine's output as [stdout:N] and the value of a final expression as Out[N]"},
	{"%%px", "[--targets T] [--block|--noblock] [--stream]", "the same for the lines that follow, up to a blank line"},
	{"%autopx", "[--targets T] [--noblock] [--stream]", "from now on every chunk runs on the engines, as with %px, until %autopx again"},
	{"%pxresult", "", "wait for the last %px and show its output and values"},
	{"%engines", "", "the engines: host, pid, state, running task, queue, tasks done, uptime"},
	{"%help", "", "this help"},
}

// magicNames returns the magics' names.
func magicNames() []string {
	names := make([]string, len(magics))
	for i, m := range magics {
		names[i] = m.name
	}
	return names
}

// magic runs a "%name args" line, or a "%%name args" line and its cell.
func (r *REPL) magic(ctx context.Context, text string) error {
	head, cell, _ := strings.Cut(text, "\n")
	name, args, _ := strings.Cut(strings.TrimSpace(head), " ")
	switch name {
	case "%px":
		o, code, err := parsePx(args)
		if err != nil {
			return err
		}
		if strings.TrimSpace(code) == "" {
			return fmt.Errorf("%%px: no code to run (example: %%px a = engine.id)")
		}
		return r.px(ctx, o, code)
	case "%%px":
		o, rest, err := parsePx(args)
		if err != nil {
			return err
		}
		if strings.TrimSpace(rest) != "" {
			return fmt.Errorf("%%%%px: unexpected %q: flags go on the first line, the code on the lines after it", rest)
		}
		if strings.TrimSpace(cell) == "" {
			return fmt.Errorf("%%%%px: no code to run: write it on the lines after %%%%px, and end it with a blank line")
		}
		return r.px(ctx, o, cell)
	case "%autopx":
		return r.toggleAutopx(args)
	case "%pxresult":
		return r.pxResult(ctx)
	case "%engines":
		return r.engines(ctx)
	case "%help", "%?":
		r.help()
		return nil
	}
	return fmt.Errorf("unknown magic %s: %%help lists the magics", name)
}

// help prints the magics and the keys.
func (r *REPL) help() {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	for _, m := range magics {
		fmt.Fprintf(tw, "  %s %s\t%s\n", m.name, m.args, m.help)
	}
	tw.Flush()
	b.WriteString(`
  --targets T: all (the default), an engine id, ids (0,2) or a slice of c.ids (1:3, ::2)
  --noblock: return at once; %pxresult shows the result. --stream: show output as it comes

Chunks run on the host, where c = Client() is defined. A compound statement
(def, if, for, while) ends with a blank line. Tab completes names, attributes
and magics; the line history is kept in the profile. Ctrl-C stops the running
chunk and aborts the session's tasks on the engines; Ctrl-D leaves.
`)
	r.printf("%s", b.String())
}

// pxOptions are the flags of %px, %%px and %autopx.
type pxOptions struct {
	targets string // "" = all engines
	block   bool
	stream  bool // show output as it comes instead of per engine at the end
}

// parsePx splits "--flags CODE" into the flags and the code.
func parsePx(args string) (pxOptions, string, error) {
	o := pxOptions{block: true}
	rest := strings.TrimLeft(args, " \t")
	for strings.HasPrefix(rest, "--") {
		flag, after, _ := strings.Cut(rest, " ")
		rest = strings.TrimLeft(after, " \t")
		switch {
		case flag == "--block":
			o.block = true
		case flag == "--noblock":
			o.block = false
		case flag == "--stream":
			o.stream = true
		case strings.HasPrefix(flag, "--targets="):
			o.targets = strings.TrimPrefix(flag, "--targets=")
		case flag == "--targets":
			o.targets, rest, _ = strings.Cut(rest, " ")
			if o.targets == "" {
				return o, "", fmt.Errorf("--targets needs a value: all, an engine id, ids (0,2) or a slice (1:3)")
			}
		default:
			return o, "", fmt.Errorf("unknown flag %s (flags: --targets T, --block, --noblock, --stream)", flag)
		}
	}
	return o, rest, nil
}

// view returns a DirectView on the engines that targets names now.
func (r *REPL) view(targets string) (*api.DirectView, error) {
	spec := strings.TrimSpace(targets)
	if spec == "" || spec == "all" {
		ids := r.client.KnownIDs()
		if len(ids) == 0 {
			return nil, &client.NoEnginesError{Want: 1, Hint: r.client.Config().Hint}
		}
		return api.NewDirectView(r.client, ids), nil
	}
	expr := "c[" + spec + "]"
	if !strings.Contains(spec, ":") && strings.ContainsAny(spec, ",[") {
		expr = "c[[" + strings.Trim(spec, "[]") + "]]"
	}
	th := &starlark.Thread{Name: "--targets"}
	v, err := starlark.EvalOptions(starlib.FileOptions(), th, "--targets", expr, starlark.StringDict{"c": api.NewClientValue(r.client)})
	if err != nil {
		return nil, fmt.Errorf("--targets %s: %v (want all, an engine id, ids such as 0,2, or a slice of c.ids such as 1:3)", spec, unwrapEval(err))
	}
	dv, ok := v.(*api.DirectView)
	if !ok {
		return nil, fmt.Errorf("--targets %s: got %s, want engines", spec, v.Type())
	}
	ids, err := dv.Targets()
	if err != nil {
		return nil, err
	}
	return api.NewDirectView(r.client, ids), nil
}

// unwrapEval returns the cause of a Starlark evaluation error.
func unwrapEval(err error) error {
	if ee, ok := err.(*starlark.EvalError); ok && ee.Unwrap() != nil {
		return ee.Unwrap()
	}
	return err
}

// pxRun is one %px: the execution and, when the code ends with an
// expression, the pull of its value.
type pxRun struct {
	ids     []int
	ex, out *api.AsyncResult
	shown   bool // a blocking --stream: the output was shown as it came
}

// pxFailed means engines failed a %px; their errors are printed.
type pxFailed struct{ failed, of int }

func (e *pxFailed) Error() string { return fmt.Sprintf("%d of %d engines failed", e.failed, e.of) }

// px runs code in each target engine's namespace under the chunk's name.
// A final expression statement is sent as "_ = expr", and "_" is pulled
// after it (per engine, in order), to show its value as Out[N].
func (r *REPL) px(ctx context.Context, o pxOptions, code string) error {
	name := r.nextName()
	sent, hasOut, err := withOut(name, code)
	if err != nil {
		return err
	}
	v, err := r.view(o.targets)
	if err != nil {
		return err
	}
	ids, err := v.Targets()
	if err != nil {
		return err
	}
	run := &pxRun{ids: ids, shown: o.block && o.stream}
	if o.block && !o.stream {
		r.mute.Store(true)
		defer r.mute.Store(false)
	}
	x, err := v.Execute(ctx, name, sent, false)
	if err != nil {
		return err
	}
	run.ex = x.(*api.AsyncResult)
	if hasOut {
		p, err := v.Pull(ctx, starlark.String("_"), false)
		if err != nil {
			return err
		}
		run.out = p.(*api.AsyncResult)
	}
	r.last = run
	if !o.block {
		r.printf("running on engines %v in the background: %%pxresult waits for it and shows its result\n", ids)
		return nil
	}
	return r.showPx(ctx, run)
}

// withOut returns code with its final expression statement, if any,
// assigned to "_" (on the same line: line numbers do not change).
func withOut(name, code string) (string, bool, error) {
	f, err := starlib.FileOptions().Parse(name, code, 0)
	if err != nil {
		return "", false, starlib.Explain(code, err)
	}
	if len(f.Stmts) == 0 {
		return code, false, nil
	}
	last, ok := f.Stmts[len(f.Stmts)-1].(*syntax.ExprStmt)
	if !ok {
		return code, false, nil
	}
	start, _ := last.X.Span()
	off := offset(code, start)
	return code[:off] + "_ = " + code[off:], true, nil
}

// offset returns the byte offset of a position in text.
func offset(text string, pos syntax.Position) int {
	off := 0
	for range pos.Line - 1 {
		i := strings.IndexByte(text[off:], '\n')
		if i < 0 {
			return len(text)
		}
		off += i + 1
	}
	col := int32(1)
	for i := range text[off:] {
		if col == pos.Col {
			return off + i
		}
		col++
	}
	return len(text)
}

// showPx waits for a %px and prints each engine's output (unless it was
// shown as it came), error and value.
func (r *REPL) showPx(ctx context.Context, run *pxRun) error {
	for _, ar := range []*api.AsyncResult{run.ex, run.out} {
		if ar == nil {
			continue
		}
		if _, err := ar.Wait(ctx, -1); err != nil {
			return err
		}
	}
	results := resultsOf(run.ex)
	var out, errs strings.Builder
	for i, res := range results {
		if s := res.Stdout; s != "" && !run.shown {
			fmt.Fprintf(&out, "[stdout:%d] %s", run.ids[i], strings.TrimSuffix(s, "\n")+"\n")
		}
	}
	failed := 0
	for i, res := range results {
		if res.Status != wire.StatusOK {
			failed++
			fmt.Fprintf(&errs, "[error:%d] %s\n", run.ids[i], api.NewTaskError(res, run.ex.Label()))
			continue
		}
		if run.out == nil {
			continue
		}
		switch v, err := run.out.Value(i); {
		case err != nil:
			fmt.Fprintf(&errs, "[error:%d] cannot show the value: %v\n", run.ids[i], err)
		case v != starlark.None:
			fmt.Fprintf(&out, "Out[%d]: %s\n", run.ids[i], v)
		}
	}
	r.printf("%s", out.String())
	if errs.Len() > 0 {
		r.errorf("%s", errs.String())
	}
	if failed > 0 {
		return &pxFailed{failed: failed, of: len(results)}
	}
	return nil
}

// resultsOf returns a copy of an AsyncResult's task results by slot.
func resultsOf(ar *api.AsyncResult) []wire.Result { return ar.Results() }

// pxResult shows the last %px.
func (r *REPL) pxResult(ctx context.Context) error {
	if r.last == nil {
		return fmt.Errorf("%%pxresult: no %%px has run yet in this session")
	}
	return r.showPx(ctx, r.last)
}

// toggleAutopx turns %autopx on (with the flags of %px) or off.
func (r *REPL) toggleAutopx(args string) error {
	if r.autopx != nil {
		r.autopx = nil
		r.printf("%%autopx disabled: chunks run on the host\n")
		return nil
	}
	o, rest, err := parsePx(args)
	if err != nil {
		return err
	}
	if strings.TrimSpace(rest) != "" {
		return fmt.Errorf("%%autopx: unexpected %q: it takes only flags", rest)
	}
	v, err := r.view(o.targets)
	if err != nil {
		return err
	}
	r.autopx = &o
	ids, err := v.Targets()
	if err != nil {
		return err
	}
	which := fmt.Sprint(ids)
	if o.targets == "" {
		which = "all engines"
	}
	r.printf("%%autopx enabled: every chunk runs on %s until %%autopx\n", which)
	return nil
}

// cluster returns the ids of the engines and a description of the hub.
func (r *REPL) cluster(ctx context.Context) ([]int, string, error) {
	q, err := r.engineList(ctx)
	if err != nil {
		return nil, "", err
	}
	ids := make([]int, len(q.Engines))
	for i, e := range q.Engines {
		ids[i] = e.ID
	}
	return ids, hubName(q), nil
}

// engineList asks the hub for its engines, sorted by id.
func (r *REPL) engineList(ctx context.Context) (*wire.QueryReply, error) {
	ctx, cancel := context.WithTimeout(ctx, client.DefaultWait)
	defer cancel()
	q, err := r.client.Query(ctx, wire.Query{Op: wire.QueryEngines})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(q.Engines, func(a, b wire.EngineInfo) int { return a.ID - b.ID })
	return q, nil
}

func hubName(q *wire.QueryReply) string {
	if q.URL == "" {
		return "the in-process hub"
	}
	return "the hub at " + q.URL
}

// engines prints the status table of the engines.
func (r *REPL) engines(ctx context.Context) error {
	q, err := r.engineList(ctx)
	if err != nil {
		return err
	}
	qctx, cancel := context.WithTimeout(ctx, client.DefaultWait)
	defer cancel()
	st, err := r.client.QueueStatus(qctx)
	if err != nil {
		return err
	}
	stats := make(map[int]wire.EngineStat, len(st.Stats))
	for _, s := range st.Stats {
		stats[s.ID] = s
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "id\thost\tpid\tstate\tqueue\tdone\tuptime\ttask")
	for _, e := range q.Engines {
		s, ok := stats[e.ID]
		if !ok {
			fmt.Fprintf(tw, "%d\t%s\t%d\t?\t\t\t\t(no answer)\n", e.ID, e.Host, e.PID)
			continue
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%d\t%d\t%s\t%s\n", e.ID, e.Host, e.PID, s.State, s.Queue, s.Done,
			time.Duration(s.Uptime).Round(time.Second), s.Task)
	}
	tw.Flush()
	fmt.Fprintf(&b, "%d engine(s) on %s; %d load-balanced task(s) waiting for an engine\n", len(q.Engines), hubName(q), st.Unassigned)
	r.printf("%s", b.String())
	return nil
}
