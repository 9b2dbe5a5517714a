// This file defines `pirun bench` (being built).

package main

import "context"

func runBench(ctx context.Context, e *env, args []string) int {
	return reportAs(e, "pirun bench", &configError{errNotBuilt})
}
