// This file defines the Jupyter wire format: a message's frames (routing
// identities, the "<IDS|MSG>" delimiter, the HMAC signature, header,
// parent header, metadata, content and buffers), and its signing and
// verification.

package kernel

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"time"
)

// ProtocolVersion is the version of the Jupyter messaging protocol the
// kernel speaks.
const ProtocolVersion = "5.3"

// delimiter separates the routing identities from the message.
var delimiter = []byte("<IDS|MSG>")

// Errors of decoding a message.
var (
	// ErrBadSignature means a message's signature does not match its
	// parts under the connection's key: it is dropped, never run.
	ErrBadSignature = errors.New("bad signature")
)

// Header is a message's header.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"`
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// Message is one Jupyter message. Parent and Metadata are kept as the
// raw JSON they arrived as; Content is decoded by each handler.
type Message struct {
	Identities [][]byte        // the ROUTER's routing frames, in order
	Header     Header          //
	Parent     json.RawMessage // the parent header: {} or a Header
	Metadata   json.RawMessage // an object
	Content    json.RawMessage // an object
	Buffers    [][]byte        // extra binary frames
}

// signer signs and verifies messages with one key. A nil signer (no key)
// signs with "" and accepts any signature, as Jupyter does.
type signer struct {
	key []byte
}

// newSigner returns the signer of a connection's key and scheme.
func newSigner(scheme, key string) (*signer, error) {
	if key == "" {
		return nil, nil
	}
	if scheme != "hmac-sha256" {
		return nil, fmt.Errorf("signature_scheme %q: this kernel signs with hmac-sha256 only", scheme)
	}
	return &signer{key: []byte(key)}, nil
}

// mac returns the hex HMAC-SHA256 of the four JSON parts.
func (s *signer) mac(parts ...[]byte) []byte {
	if s == nil {
		return nil
	}
	var h hash.Hash = hmac.New(sha256.New, s.key)
	for _, p := range parts {
		h.Write(p)
	}
	sum := h.Sum(nil)
	out := make([]byte, hex.EncodedLen(len(sum)))
	hex.Encode(out, sum)
	return out
}

// verify reports whether sig is the signature of parts, in constant time.
func (s *signer) verify(sig []byte, parts ...[]byte) bool {
	if s == nil {
		return true
	}
	return hmac.Equal(s.mac(parts...), bytes.ToLower(sig))
}

// decode parses the frames of a received message and checks its
// signature. The error says which part is wrong.
func (s *signer) decode(frames [][]byte) (*Message, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], delimiter) {
		i++
	}
	if i == len(frames) {
		return nil, fmt.Errorf("no %s delimiter among %d frames", delimiter, len(frames))
	}
	rest := frames[i+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("%d frames after %s, want at least 5 (signature, header, parent_header, metadata, content)", len(rest), delimiter)
	}
	if !s.verify(rest[0], rest[1], rest[2], rest[3], rest[4]) {
		return nil, ErrBadSignature
	}
	m := &Message{Identities: frames[:i], Parent: rest[2], Metadata: rest[3], Content: rest[4], Buffers: rest[5:]}
	if err := json.Unmarshal(rest[1], &m.Header); err != nil {
		return nil, fmt.Errorf("header: %v", err)
	}
	if m.Header.MsgType == "" {
		return nil, fmt.Errorf("header: no msg_type")
	}
	for _, part := range []struct {
		name string
		raw  json.RawMessage
	}{{"parent_header", m.Parent}, {"metadata", m.Metadata}, {"content", m.Content}} {
		if !isObject(part.raw) {
			return nil, fmt.Errorf("%s: not a JSON object", part.name)
		}
	}
	return m, nil
}

// isObject reports whether raw is a JSON object.
func isObject(raw []byte) bool {
	var obj map[string]json.RawMessage
	return json.Unmarshal(raw, &obj) == nil && obj != nil
}

// encode returns the frames of m, signed.
func (s *signer) encode(m *Message) ([][]byte, error) {
	header, err := json.Marshal(m.Header)
	if err != nil {
		return nil, err
	}
	parent, meta, content := orEmpty(m.Parent), orEmpty(m.Metadata), orEmpty(m.Content)
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, delimiter, s.mac(header, parent, meta, content), header, parent, meta, content)
	return append(frames, m.Buffers...), nil
}

// orEmpty returns raw, or {} when it is empty.
func orEmpty(raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return []byte("{}")
	}
	return raw
}

// newID returns a random message id.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// now returns the current time as the ISO 8601 text of a header's date.
func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000000Z") }
