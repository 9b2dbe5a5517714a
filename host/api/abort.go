// This file defines abort with jobs, as ipyparallel's abort(jobs=None,
// targets=None, block=None) on the Client and the views: jobs are
// AsyncResults or task ids (ar.task_ids, ar.msg_ids).

package api

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
)

// abortJobs aborts jobs: an AsyncResult, a task id, or a list of them.
// Task ids must be this client's unfinished tasks. targets (nil: any) is
// accepted for ipyparallel's signature; a job is aborted wherever it runs.
func abortJobs(c *client.Client, fname string, jobs starlark.Value, targets []int) error {
	ars, ids, err := jobList(jobs)
	if err != nil {
		return fmt.Errorf("%s: %w", fname, err)
	}
	for _, ar := range ars {
		if err := ar.abortRefused(fname); err != nil {
			return err
		}
	}
	for _, ar := range ars {
		ar.Abort()
	}
	if len(ids) > 0 {
		c.AbortTasks(ids) // finished ones need no abort
	}
	return nil
}

// jobList splits jobs into AsyncResults and task ids.
func jobList(jobs starlark.Value) ([]*AsyncResult, []uint64, error) {
	var ars []*AsyncResult
	var ids []uint64
	add := func(x starlark.Value) error {
		switch x := x.(type) {
		case *AsyncResult:
			ars = append(ars, x)
		case starlark.Int:
			id, ok := x.Uint64()
			if !ok {
				return fmt.Errorf("jobs: task id %s is not a task id (ar.task_ids gives them)", x)
			}
			ids = append(ids, id)
		default:
			return fmt.Errorf("jobs: want an AsyncResult, a task id or a list of them, got %s", x.Type())
		}
		return nil
	}
	iter := starlark.Iterate(jobs)
	if _, isAR := jobs.(*AsyncResult); isAR || iter == nil {
		if iter != nil {
			iter.Done()
		}
		return ars, ids, add(jobs)
	}
	defer iter.Done()
	var x starlark.Value
	for iter.Next(&x) {
		if err := add(x); err != nil {
			return nil, nil, err
		}
	}
	return ars, ids, nil
}
