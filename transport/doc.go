// Package transport sends pirun's messages over NATS: a message larger
// than one NATS message goes in parts, at most a window of them
// unacknowledged at once, and the receiver reassembles and acknowledges
// them. The hub, the client and the engine daemon all send this way.
//
// A receiver takes memory only as bytes arrive, whatever a part's header
// announces, and bounds incomplete messages per sender and in total
// (Assembler); a part it refuses is answered with the reason, so that the
// sender fails at once (ErrRefused) instead of waiting for
// acknowledgements.
//
// It knows NATS and the framing of package wire (parts, blocks, subjects)
// and nothing of Starlark: it never imports go.starlark.net itself.
package transport
