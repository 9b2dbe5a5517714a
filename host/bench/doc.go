// Package bench runs `pirun bench`: ipyparallel-style micro-benchmarks
// (latency, load-balanced and direct apply, push and pull, scatter and
// gather, bandwidth) against a connected cluster, through the client API.
package bench
