// Package kernel is pirun's Jupyter kernel: the Jupyter messaging
// protocol (v5.3) over ZeroMQ in pure Go, serving the cells of a notebook,
// of jupyter console or of nbclient through one persistent REPL session.
//
// A [Kernel] binds the five sockets that a connection file names (see
// [ConnInfo]): shell and control (ROUTER) for requests, iopub (PUB) for
// the status, output and results of every request, stdin (ROUTER, unused:
// cells never ask for input) and heartbeat (REP, echo). Every message is
// signed with HMAC-SHA256 over its four JSON parts when the connection
// file has a key; a message with a bad signature is logged and dropped,
// never run.
//
// The kernel knows nothing of clusters: a [Session] runs the cells. The
// pirun command gives it [NewREPLSession], a host.REPL whose output
// writers are the kernel's [Kernel.Stdout] and [Kernel.Stderr] streams, so
// a cell runs exactly as a REPL chunk does, magics included, its text kept
// under "<cell:N>".
//
// [WriteSpec] writes the kernelspec that lets Jupyter start
// "pirun kernel -f {connection_file}".
package kernel
