// This file defines HubSecrets, the schema of security/hub.toml: the hub's
// identity and the passwords of its roles, made on the first start of a
// profile's hub and kept, so that engines and clients holding connection
// files of an earlier start can reconnect after the hub restarts.

package conf

import (
	"fmt"
	"os"
	"strings"
)

// HubSecrets is security/hub.toml. It is plain data, safe to copy.
type HubSecrets struct {
	// HubID is the hub's identity, written into every connection file.
	HubID string `toml:"hub_id"`
	// Hub, Client and Engine are the passwords of the hub's own
	// connection, of clients and of engines.
	Hub    string `toml:"hub"`
	Client string `toml:"client"`
	Engine string `toml:"engine"`
}

// problems checks that every field is set with a plausible secret.
func (s HubSecrets) problems() []Problem {
	var ps problems
	for _, f := range []struct{ key, val string }{
		{"hub_id", s.HubID}, {"hub", s.Hub}, {"client", s.Client}, {"engine", s.Engine}} {
		switch {
		case f.val == "":
			ps.add(f.key, "required; delete this file to make new credentials (then copy the new connection files to every machine)")
		case len(f.val) < 16 || strings.ContainsAny(f.val, " \t\r\n\"'\\"):
			ps.add(f.key, "expected a random token of 16 or more characters without spaces or quotes")
		}
	}
	return ps
}

// LoadHubSecrets reads and validates security/hub.toml. A missing file
// gives an error for which errors.Is(err, fs.ErrNotExist) holds. It is safe
// for concurrent use.
func LoadHubSecrets(path string) (HubSecrets, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return HubSecrets{}, fmt.Errorf("load hub credentials: %w", err)
	}
	var s HubSecrets
	lines, probs := decodeStrict(data, &s)
	if lines != nil {
		probs = merge(probs, s.problems(), lines)
	}
	return s, errorOf(path, probs)
}

// WriteHubSecrets writes s to path atomically with mode 0600. It refuses
// an invalid s.
func WriteHubSecrets(path string, s HubSecrets) error {
	if err := errorOf("", s.problems()); err != nil {
		return fmt.Errorf("write hub credentials %s: invalid: %w", path, err)
	}
	var b strings.Builder
	b.WriteString("# pirun hub credentials: the hub's identity and the password of each role.\n")
	b.WriteString("# SECRET. Made on the hub's first start; the connection files beside it\n")
	b.WriteString("# are derived from it. Delete it to revoke every engine and client (then\n")
	b.WriteString("# copy the new engine-connection.toml to every machine).\n\n")
	kv(&b, "hub_id", tomlString(s.HubID))
	kv(&b, "hub", tomlString(s.Hub))
	kv(&b, "client", tomlString(s.Client))
	kv(&b, "engine", tomlString(s.Engine))
	if err := WriteFileAtomic(path, []byte(b.String())); err != nil {
		return fmt.Errorf("write hub credentials: %w", err)
	}
	return nil
}
