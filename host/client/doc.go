// Package client is a connection to a pirun hub in the client role.
//
// A [Client] keeps the roster of live engines current from the hub's
// events, sends direct tasks to the daemons of their engines (one batch
// per daemon, so N engines of one machine cost one crossing) and
// load-balanced tasks to the hub's scheduler through a bounded submission
// window, and routes each result to the [Sink] its task was tracked for
// (an AsyncResult of the Starlark face). It deals in wire messages only:
// the Starlark values a script sees live in package host.
//
// The client never imports the hub nor the engine: it meets them only
// through the messages of package wire, sent with package transport.
package client
