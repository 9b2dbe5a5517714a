// This file defines the rest of ipyparallel's Client surface: wait,
// wait_interactive, outstanding, spin and close.

package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

func init() {
	maps.Copy(clientMethods, starlib.NewMethods("Client", map[string]starlib.Method[*ClientValue]{
		"wait":             (*ClientValue).wait,
		"wait_interactive": (*ClientValue).waitInteractive,
		"spin":             (*ClientValue).spin,
		"close":            (*ClientValue).close,
		"hub_history":      (*ClientValue).hubHistory,
	}))
}

// errClosed is the error of a Client value used after close().
var errClosed = errors.New("this Client is closed (c.close() was called): make a new one with Client()")

// outstandingIDs returns the ids of this client's unfinished tasks as a
// set, as ipyparallel's Client.outstanding.
func outstandingIDs(c *client.Client, keep func(uint64) bool) *starlark.Set {
	ids := slices.Sorted(maps.Keys(c.Outstanding()))
	s := starlark.NewSet(len(ids))
	for _, id := range ids {
		if keep == nil || keep(id) {
			s.Insert(starlark.MakeUint64(id))
		}
	}
	return s
}

// jobResults returns the AsyncResults of jobs (None: every unfinished
// task of this client; else AsyncResults, task ids, or a list of them).
// A task id that has finished, or was never this client's, is done.
func jobResults(c *client.Client, jobs starlark.Value) ([]*AsyncResult, error) {
	if jobs == starlark.None {
		var ars []*AsyncResult
		for _, s := range c.Outstanding() {
			if ar, ok := s.(*AsyncResult); ok && !slices.Contains(ars, ar) {
				ars = append(ars, ar)
			}
		}
		return ars, nil
	}
	ars, ids, err := jobList(jobs)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if ar, ok := c.SinkOf(id).(*AsyncResult); ok && !slices.Contains(ars, ar) {
			ars = append(ars, ar)
		}
	}
	return ars, nil
}

// waitTimeout reads ipyparallel's timeout: None or a negative number
// waits forever.
func waitTimeout(b *starlark.Builtin, v starlark.Value) (float64, error) {
	if v == starlark.None {
		return -1, nil
	}
	f, ok := starlark.AsFloat(v)
	if !ok || f != f {
		return 0, fmt.Errorf("%s: timeout must be None or seconds (negative: no limit), got %s", b.Name(), v)
	}
	return f, nil
}

// wait is wait(jobs=None, timeout=-1): True once the jobs (all of this
// client's unfinished tasks when None) are done, False when the timeout
// ran out first, as ipyparallel's Client.wait.
func (v *ClientValue) wait(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	jobs := starlark.Value(starlark.None)
	timeout := starlark.Value(starlark.MakeInt(-1))
	if err := starlark.UnpackArgs(b.Name(), args, kw, "jobs?", &jobs, "timeout?", &timeout); err != nil {
		return nil, err
	}
	return waitJobs(th, b, v.c, jobs, timeout)
}

// waitJobs is the wait of the Client and the views.
func waitJobs(th *starlark.Thread, b *starlark.Builtin, c *client.Client, jobs, timeout starlark.Value) (starlark.Value, error) {
	secs, err := waitTimeout(b, timeout)
	if err != nil {
		return nil, err
	}
	ars, err := jobResults(c, jobs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	d := starlark.Value(starlark.None)
	if secs >= 0 {
		d = starlark.Float(secs)
	}
	dur, err := timeoutArg(b, d)
	if err != nil {
		return nil, err
	}
	ok, err := waitAll(starlib.Context(th), ars, dur)
	return starlark.Bool(ok), err
}

// waitInteractive is wait_interactive(jobs=None, interval=1, timeout=-1):
// wait with a progress bar on stderr for each unfinished result.
func (v *ClientValue) waitInteractive(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	jobs := starlark.Value(starlark.None)
	interval := starlark.Value(starlark.MakeInt(1))
	timeout := starlark.Value(starlark.MakeInt(-1))
	if err := starlark.UnpackArgs(b.Name(), args, kw, "jobs?", &jobs, "interval?", &interval, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if _, ok := starlark.AsFloat(interval); !ok {
		return nil, fmt.Errorf("%s: interval must be seconds, got %s", b.Name(), interval.Type())
	}
	secs, err := waitTimeout(b, timeout)
	if err != nil {
		return nil, err
	}
	if secs >= 0 {
		return waitJobs(th, b, v.c, jobs, timeout)
	}
	ars, err := jobResults(v.c, jobs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	for _, ar := range ars {
		if err := ar.waitInteractive(starlib.Context(th), os.Stderr); err != nil {
			return nil, err
		}
	}
	return starlark.None, nil
}

// spin is spin(): results arrive in the background, so there is nothing
// to flush; it exists for ipyparallel's scripts.
func (v *ClientValue) spin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return starlark.None, starlark.UnpackArgs(b.Name(), args, kw)
}

// close is close(linger=None): it ends this Client value. A client made
// with Client(profile=…) or Client(connect=…) closes its connection (its
// unfinished tasks are aborted, detached ones go on); the run's own
// cluster stays with the run. Closing twice is fine.
func (v *ClientValue) close(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var linger starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kw, "linger?", &linger); err != nil {
		return nil, err
	}
	if v.closed.Swap(true) || !v.owned {
		return starlark.None, nil
	}
	return starlark.None, v.c.Close()
}

// getResultOf is get_result(task_ids, block=False) that also takes a list
// of AsyncResults, as ipyparallel's: one gives itself back, several
// their task ids.
func (v *ClientValue) getResultOf(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		if l, ok := args[0].(*starlark.List); ok && l.Len() > 0 {
			if _, isAR := l.Index(0).(*AsyncResult); isAR {
				ids, err := resultIDs(l)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", b.Name(), err)
				}
				args = append(starlark.Tuple{ids}, args[1:]...)
			}
		}
	}
	return v.getResult(th, b, args, kw)
}

// resultIDs turns a list of AsyncResults (or task ids) into the one
// AsyncResult it holds, or the list of all their task ids.
func resultIDs(l *starlark.List) (starlark.Value, error) {
	if ar, ok := l.Index(0).(*AsyncResult); ok && l.Len() == 1 {
		return ar, nil
	}
	ars, ids, err := jobList(l)
	if err != nil {
		return nil, err
	}
	var out []starlark.Value
	for _, ar := range ars {
		ar.mu.Lock()
		for _, id := range ar.ids {
			out = append(out, starlark.MakeUint64(id))
		}
		ar.mu.Unlock()
	}
	for _, id := range ids {
		out = append(out, starlark.MakeUint64(id))
	}
	return starlark.NewList(out), nil
}

// hubHistory is hub_history(): the ids of the tasks the hub keeps
// records of (the last [hub] task_records; this client's own, as the
// hub lists only the asker's), oldest submitted first, as ipyparallel's.
func (v *ClientValue) hubHistory(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(starlib.Context(th), client.DefaultWait)
	defer cancel()
	r, err := v.c.TaskRecords(ctx, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	recs := slices.Clone(r.Records)
	slices.SortStableFunc(recs, func(a, b wire.TaskRecord) int { return cmp.Compare(a.Submitted, b.Submitted) })
	out := make([]starlark.Value, len(recs))
	for i, rec := range recs {
		out[i] = starlark.MakeUint64(rec.ID)
	}
	return starlark.NewList(out), nil
}
