// Package host is the master side of pirun: the REPL and the benchmark
// runner. Its rooms by role are host/hub (the hub process), host/client
// (a connection to a hub), host/api (the Starlark client API), host/sched
// (pure scheduling decisions) and host/launch (starting clusters).
package host
