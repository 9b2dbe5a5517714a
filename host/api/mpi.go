// This file defines the host's part in SPMD jobs: which tasks form one
// (DirectView execute, run and apply on several engines), and the runs of
// `pirun mpi`, which execute a whole script on N engines at once.
//
// The ranks of a job find each other, exchange messages and detect
// deadlocks among themselves (engine/comm*.go); the host only names the
// job and its ranks in each task's wire.Comm.

package api

import (
	"context"
	"fmt"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// spmdJob returns the SPMD job of a task of kind that a view sends to
// ids: execute (and run) and apply on a list of engines form one, whose
// rank i is ids[i]; other tasks, and views on one engine (c[i]) or naming
// an engine twice, do not.
func spmdJob(kind wire.Kind, single bool, ids []int) *wire.Comm {
	if single || kind != wire.KindExecute && kind != wire.KindApply || len(ids) == 0 {
		return nil
	}
	for i := range ids {
		for j := range i {
			if ids[i] == ids[j] {
				return nil
			}
		}
	}
	return &wire.Comm{Job: wire.NewID(), Ranks: ids}
}

// RunMPI runs src, named path, on engines as one SPMD job (rank i on
// engines[i]), with argv in each engine's namespace, and waits for every
// rank. It returns each rank's failure (nil for a rank that succeeded), or
// an error when the job could not start or ctx was cancelled.
func RunMPI(ctx context.Context, c *client.Client, engines []int, path string, src []byte, argv []string) ([]*TaskError, error) {
	v := &DirectView{c: c, ids: engines}
	args := make([]starlark.Value, len(argv))
	for i, a := range argv {
		args[i] = starlark.String(a)
	}
	ns := starlark.NewDict(1)
	ns.SetKey(starlark.String("argv"), starlark.NewList(args))
	if _, err := v.Push(ctx, ns, true); err != nil {
		return nil, fmt.Errorf("send argv to the engines: %w", err)
	}
	res, err := v.Execute(ctx, path, string(src), false)
	if err != nil {
		return nil, err
	}
	ar := res.(*AsyncResult)
	if _, err := ar.Wait(ctx, -1); err != nil {
		return nil, err
	}
	fails := make([]*TaskError, len(engines))
	ar.mu.Lock()
	defer ar.mu.Unlock()
	for i, r := range ar.results {
		if r.Status != wire.StatusOK {
			fails[i] = NewTaskError(r, ar.label)
		}
	}
	return fails, nil
}
