// This file defines `pirun cluster` (being built).

package main

import "context"

func runCluster(ctx context.Context, e *env, args []string) int {
	return reportAs(e, "pirun cluster", &configError{errNotBuilt})
}
