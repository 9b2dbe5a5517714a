// Package host is the master side of pirun: the client and the Starlark
// API a script or the REPL uses. The hub is package host/hub.
//
// A client.Client is one connection in the client role. Its Starlark face
// ([ClientValue], [DirectView], [LoadBalancedView], [AsyncResult]) follows
// ipyparallel: functions are shipped as source with their captured values
// (package ship), arguments are copied, and results come back as
// AsyncResults that complete exactly once per task. Direct tasks for
// several engines of one daemon cross the network once.
//
// Host and engine never import each other; they meet only through the
// messages of package wire.
package host
