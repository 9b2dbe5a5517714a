// This file defines WaitForRanks: pirun mpi's wait for the engines its
// ranks need, said on the terminal and bounded by --timeout.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pirun-dev/pirun/host/client"
)

// WaitForRanks waits, at most timeout, until cl's cluster has n engines
// (at least one when n is 0: then every engine is a rank), and returns
// the ranks' engines. While it waits it says on w how many it waits for
// and how to start more, again whenever that count changes. At the
// timeout it returns a *client.ClusterError that says what to do.
func WaitForRanks(ctx context.Context, cl *client.Client, n int, timeout time.Duration, w io.Writer) ([]int, error) {
	want, said := max(n, 1), -1
	deadline := time.Now().Add(timeout)
	for {
		wctx, cancel := context.WithTimeout(ctx, min(time.Until(deadline), time.Second))
		ids, err := cl.MPIEngines(wctx, n)
		cancel()
		var ne *client.NoEnginesError
		switch {
		case err == nil:
			return ids, nil
		case ctx.Err() != nil || !errors.As(err, &ne):
			return nil, err
		case !time.Now().Before(deadline):
			return nil, &client.ClusterError{Msg: fmt.Sprintf("timed out after %v waiting for %s (%d connected): %s; or run fewer ranks with -n %d, or wait longer with --timeout",
				timeout, counted(want, "engine", "engines"), ne.Have, ne.Hint, max(ne.Have, 1))}
		case ne.Have != said:
			said = ne.Have
			fmt.Fprintf(w, "pirun mpi: waiting for %s, %d connected; %s (at most %v)\n", counted(want, "engine", "engines"), said, ne.Hint, timeout)
		}
	}
}
