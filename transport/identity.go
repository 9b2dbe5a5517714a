// This file defines Identity: the key pair a daemon or a client proves
// itself with when it connects, whose public key is its id in subjects.

package transport

import (
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// Identity is a fresh ed25519 key pair (an nkey). Its public key is the
// id of the daemon or client that made it: the hub checks the signature
// of its connection nonce and pins the connection's permissions to that
// id, so no other connection can publish or subscribe as it.
type Identity struct {
	kp  nkeys.KeyPair
	pub string
}

// NewIdentity makes a fresh identity.
func NewIdentity() (*Identity, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("make an identity key: %w", err)
	}
	pub, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("make an identity key: %w", err)
	}
	return &Identity{kp: kp, pub: pub}, nil
}

// ID is the identity's public key: 56 upper-case letters and digits,
// safe as a subject token.
func (id *Identity) ID() string { return id.pub }

// Option makes a connection prove the identity: it signs the server's
// nonce with the private key. A hub without authentication ignores it.
func (id *Identity) Option() nats.Option { return nats.Nkey(id.pub, id.kp.Sign) }
