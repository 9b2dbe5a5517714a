// Package hub is the hub process of a pirun cluster.
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
// The hub never imports the client side (host/client and above) nor the
// engine: clients and engines reach it only through the messages of
// package wire, sent with package transport.
package hub
