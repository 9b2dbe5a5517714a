// Package transport sends pirun's messages over NATS: a message larger
// than one NATS message goes in parts, at most a window of them
// unacknowledged at once, and the receiver reassembles and acknowledges
// them. The hub, the client and the engine daemon all send this way.
//
// It knows NATS and the framing of package wire (parts, blocks, subjects)
// and nothing of Starlark: it never imports go.starlark.net itself.
package transport
