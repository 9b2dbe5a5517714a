// Package host is the master side of pirun. It holds no code of its own:
// each role has its room.
//
//	host/hub      the hub process: embedded NATS server, registry, liveness, scheduler, queries
//	host/sched    pure load-balancing decisions (no NATS, no Starlark)
//	host/client   a connection to a hub as a client: roster, result routing, submission window
//	host/api      the Starlark client API: Client, views, AsyncResult, builtins, Script
//	host/repl     the terminal REPL and its chunk/magic core (its session serves the kernel too)
//	host/kernel   the Jupyter kernel (`pirun kernel`)
//	host/dash     the dashboard
//	host/bench    the benchmark runner of `pirun bench`
//	host/launch   cluster start/stop, SSH, tunnels, log rotation
//	host/cmd/pirun  the binary: flags, configuration, wiring, signals, exit codes
package host
