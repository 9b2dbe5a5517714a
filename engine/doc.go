// Package engine is what runs on each machine of a pirun cluster.
//
// A [Daemon] is one process's connection to the hub and runs N engines.
// Each [Engine] has an id assigned by the hub, a persistent namespace (a
// Starlark dict: push, pull, execute, engine.ns), and a FIFO queue of
// jobs that one worker goroutine runs one at a time, each in a fresh
// Starlark thread with a step limit, a timeout and cancellation.
//
// Messages (see starlib/wire) arrive on the daemon's task subject as
// batches; a task naming several engines of this daemon crossed the network
// once. NATS callbacks only decode and enqueue: Starlark never runs on a
// callback goroutine. Results, streamed print output and load-balancing
// acknowledgements leave through one publisher goroutine that batches what
// is ready, so a busy engine costs one message per batch, not per task.
//
// In SPMD jobs (a task carrying wire.Comm) each engine's comm value binds
// to the job for that task (package engine/comm): messages go by engine id
// on subjects pinned to the daemons' identities, ranks of one daemon
// exchange in memory, and blocked ranks compare states to report
// deadlocks.
//
// The engines of a process share a memory budget, max_memory per engine
// (memory.go): a task past it fails with a MemoryError and the process
// lives on.
//
// Engine code has no access to the machine beyond the files module, which
// reads under the daemon's data_dir only.
package engine
