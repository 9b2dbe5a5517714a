// Package api is the client API a pirun script, the REPL and the kernel
// use (SPEC §5): the Starlark values Client, DirectView, LoadBalancedView
// and AsyncResult, the builtins (Client, remote, parallel, ref, wait…),
// the task errors a user sees, the shipping glue that turns a Starlark
// call into wire tasks, and [Script], which runs a script file.
//
// It follows ipyparallel: functions are shipped as source with their
// captured values (package ship), arguments are copied, and results come
// back as AsyncResults that complete exactly once per task. The
// connection under it is a client.Client, which deals in wire messages
// only.
//
// Host and engine never import each other; they meet only through the
// messages of package wire.
package api
