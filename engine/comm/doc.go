// Package comm is the MPI-style communicator of pirun's SPMD jobs: the
// `comm` value each engine predeclares (send, recv, bcast, reduce,
// barrier, split…, see comm.go), each rank's record in a job (rank.go),
// flow control and deadlock detection (wait.go), and a daemon's share of
// the message passing ([Mux]): in memory between engines of one daemon,
// over NATS through the hub between daemons.
//
// The engine daemon makes one Mux, gives it its connection, attaches each
// engine, and brackets each task with Begin and End. The package never
// imports the engine nor the host.
package comm
