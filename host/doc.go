// Package host is the master side of pirun: the hub, the client and the
// Starlark API a script or the REPL uses.
//
// A [Hub] embeds a NATS server (no signals of its own, logs through slog)
// and runs the services that make it a pirun hub: engine registration with
// ids that are never reused, liveness by heartbeats and by watching each
// daemon's connection, queries (engines, queue status, shutdown), and the
// load-balancing scheduler. Its rules live in the pure package sched: an
// idle engine is preferred, a fast engine may prefetch a few tasks, a busy
// engine's unstarted tasks are taken back when another is idle, and a task
// whose engine dies runs again elsewhere up to its retries.
//
// A [Client] is one connection in the client role. Its Starlark face
// ([ClientValue], [DirectView], [LoadBalancedView], [AsyncResult]) follows
// ipyparallel: functions are shipped as source with their captured values
// (package ship), arguments are copied, and results come back as
// AsyncResults that complete exactly once per task. Direct tasks for
// several engines of one daemon cross the network once.
//
// Host and engine never import each other; they meet only through the
// messages of package wire.
package host
